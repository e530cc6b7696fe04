"""What the docs and the messages promise exists: every flag they name is an option of
some command, and README's command table names real commands."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click

from reconciler.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
# flags of other programs the project runs or documents
OTHERS = {"--ignore-scripts", "--no-audit", "--no-fund", "--prefix",  # npm (n8n_server.py)
          "--name",  # docker run
          "--experimental-strip-types", "--no-warnings",  # node (the codika adapters)
          "--permission", "--allow-fs-read", "--max-old-space-size", "--import",
          "--gitlab", "--pr", "--head-sha"}  # scripts/action/comment.py


def _options(command: click.Command) -> set[str]:
    found = {o for p in command.params for o in (*p.opts, *p.secondary_opts)
             if o.startswith("--")}
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found |= _options(sub)
    return found


def _known() -> set[str]:
    cli_main._register()
    return _options(cli_main.cli) | {"--help", "--version"} | OTHERS


def test_messages_suggest_only_flags_that_exist() -> None:
    known, unknown = _known(), []
    for path in sorted((ROOT / "reconciler").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                unknown += [f"{path.name}: {f}" for f in FLAG.findall(node.value)
                            if f not in known]
    assert not unknown


def test_docs_name_only_flags_that_exist() -> None:
    known, unknown = _known(), []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        unknown += [f"{path.name}: {f}" for f in FLAG.findall(path.read_text(encoding="utf-8"))
                    if f not in known]
    assert not unknown


def test_readme_command_table_names_real_commands() -> None:
    cli_main._register()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cells = [line.split("|")[1] for line in readme.splitlines()
             if line.startswith("| `reconciler ")]
    rows = [found for cell in cells
            for found in re.findall(r"`reconciler ([a-z0-9]+)(?: ([a-z]+))?", cell)]
    assert len(rows) >= 15
    for name, sub in rows:
        command = cli_main.cli.commands.get(name)
        assert command is not None, name
        if isinstance(command, click.Group) and sub:
            assert sub in command.commands, f"{name} {sub}"
    listed = {name for name, _ in rows}
    assert listed == set(cli_main.cli.commands), "README's table lists every command"


READ_COMMANDS = ["validate", "rules", "plan", "apply", "report", "status", "history", "doctor",
                 "executions list", "executions get", "skills", "n8n status"]


def test_output_means_the_same_on_every_read_command() -> None:
    cli_main._register()
    for path in READ_COMMANDS:
        command: click.Command = cli_main.cli
        for part in path.split():
            assert isinstance(command, click.Group)
            command = command.commands[part]
        option = next(p for p in command.params if p.name == "fmt")
        assert option.opts == ["-o", "--output", "--format"], path
        assert isinstance(option.type, click.Choice) and "json" in option.type.choices, path

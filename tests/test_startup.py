"""Start-up stays fast: `reconciler --help` imports no command module and no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click

from reconciler.cli import main as cli_main
from reconciler.cli.commands import COMMANDS, load_command

HEAVY = ("fastapi", "starlette", "pygit2", "httpx", "jinja2", "rich", "deepdiff", "pydantic",
         "sqlite_utils", "yaml", "apscheduler", "uvicorn", "prometheus_client")

PROBE = """
import json, sys
from reconciler.cli.main import entry
code = entry(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _modules(*args: str) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, timeout=60, check=False)
    data = json.loads(done.stderr.strip().splitlines()[-1])
    return data["code"], set(data["modules"])


def test_help_imports_no_heavy_module() -> None:
    code, modules = _modules("--help")
    assert code == 0
    loaded = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert not loaded, f"`reconciler --help` imports {loaded}"
    commands = sorted(m for m in modules if m.startswith("reconciler.cli.")
                      and m not in ("reconciler.cli.main", "reconciler.cli.commands",
                                    "reconciler.cli.output"))
    assert not commands, f"`reconciler --help` imports command modules {commands}"


def test_a_command_imports_only_its_own_module() -> None:
    code, modules = _modules("version", "--help")
    assert code == 0
    assert "reconciler.cli.version" in modules
    assert "reconciler.cli.plan" not in modules and "httpx" not in modules


def test_lazy_help_lists_what_the_commands_say() -> None:
    """The table's short help is each command's own: --help reads the table."""
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert command.name == name or entry.attr == "import_group", name
        assert command.get_short_help_str(limit=200) == entry.short_help, name
    cli_main._register()
    assert set(cli_main.cli.commands) == set(COMMANDS)
    with click.Context(cli_main.cli) as ctx:
        assert "Commands:" in cli_main.cli.get_help(ctx)


def test_lazy_help_reads_as_the_eager_one_at_any_width() -> None:
    for columns in ("50", "80", "120"):
        env = {**os.environ, "COLUMNS": columns}
        lazy, eager = (subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env,
            timeout=60, check=True).stdout for code in (
                "from reconciler.cli.main import entry; entry(['--help'])",
                "from reconciler.cli import main as m; m._register(); m.entry(['--help'])"))
        assert lazy == eager, columns

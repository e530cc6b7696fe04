"""The list of commands; each lives in its own module, imported only when it runs.

`reconciler --help` lists every command from this table alone, so starting the CLI
imports no command module (each pulls in pydantic, httpx, pygit2, rich...); the
short help here is checked against the command's own by tests/test_startup.py.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import click


class Entry(NamedTuple):
    module: str
    attr: str  # the attribute holding the click command (or group)
    short_help: str


COMMANDS: dict[str, Entry] = {
    "validate": Entry("reconciler.cli.validate", "validate",
                      "Lint the declared state: exit 0 valid, 1 invalid, 64 usage error."),
    "rules": Entry("reconciler.cli.rules", "rules",
                   "List the validation rules: id, layer, severity, fix, summary."),
    "schemas": Entry("reconciler.cli.schemas", "schemas",
                     "JSON Schemas of every file users write (editors validate YAML with them)."),
    "n8n": Entry("reconciler.cli.n8n", "n8n",
                 "Install, start and stop a local n8n server (loopback only)."),
    "plan": Entry("reconciler.cli.plan", "plan", "Show the steps a reconcile would apply."),
    "apply": Entry("reconciler.cli.apply", "apply", "Apply a saved plan (refused if anything "
                   "moved since), or plan and apply with --yes."),
    "report": Entry("reconciler.cli.report", "report",
                    "Show one reconcile run (a run id, or `latest`)."),
    "status": Entry("reconciler.cli.report", "status", "Processes, templates and instances "
                    "with their state, version, pin and notices."),
    "history": Entry("reconciler.cli.report", "history",
                     "The latest reconcile runs, newest first."),
    "version": Entry("reconciler.cli.version", "version", "Versions of use cases."),
    "run": Entry("reconciler.cli.run", "run", "Watch the repository and reconcile n8n "
                 "whenever the branch or release tags move."),
    "doctor": Entry("reconciler.cli.doctor", "doctor", "Check git access, n8n and its API key "
                    "scopes, secret sources and the state file."),
    "instance": Entry("reconciler.cli.instance", "instance", "Process instances: their API keys."),
    "trigger": Entry("reconciler.cli.trigger", "trigger", "Run a workflow of an instance "
                     "through its production webhook; print the record."),
    "executions": Entry("reconciler.cli.executions", "executions", "Executions started "
                        "through the API or reported by an org's error workflow."),
    "skills": Entry("reconciler.cli.skills", "skills",
                    "Each SKILL.md with this instance's trigger URLs and input schema."),
    "ui": Entry("reconciler.cli.ui", "ui",
                "The web dashboard (/ui on the daemon): its access tokens."),
    "import": Entry("reconciler.cli.import_codika", "import_group",
                    "Import use cases written for another platform."),
    "usage": Entry("reconciler.cli.usage", "usage", "Credits per organization (or personal "
                   "plan, `user:ID`) with each instance's share."),
    "catalog": Entry("reconciler.cli.catalog", "catalog", "List the use cases a user may "
                     "install, with versions, parameters and integrations."),
    "install": Entry("reconciler.cli.install", "install", "Write an instance file for USE_CASE "
                     "into REPO, if access and parameters allow it."),
    "uninstall": Entry("reconciler.cli.uninstall", "uninstall", "Archive INSTANCE: set "
                       "`archived: true` in its file (records kept)."),
    "test": Entry("reconciler.cli.test_cmd", "test", "Call each smoke test's workflow through "
                  "the instance's trigger; exit 1 on a failure."),
}


def load_command(name: str) -> click.Command:
    entry = COMMANDS[name]
    command = getattr(importlib.import_module(entry.module), entry.attr)
    assert isinstance(command, click.Command)
    return command


def all_commands() -> list[click.Command]:
    return [load_command(name) for name in COMMANDS]


def _shorten(text: str, limit: int) -> str:
    """As click shortens a help text: whole words, then '...'."""
    if len(text) <= limit:
        return text
    out = ""
    for word in text.split():
        longer = f"{out} {word}" if out else word
        if len(longer) + 3 > limit:
            break
        out = longer
    return out + "..."


class LazyGroup(click.Group):
    """A group whose commands are imported when they are looked up, not before."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(load_command(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            entry: Entry = COMMANDS[name]
            text = (loaded.get_short_help_str(limit) if loaded is not None
                    else _shorten(entry.short_help, limit))
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

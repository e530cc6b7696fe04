"""The list of commands; each lives in its own module."""

from __future__ import annotations

import importlib

import click

# module name -> attribute holding the click command (or group)
_COMMANDS: dict[str, str] = {
    "reconciler.cli.validate": "validate",
    "reconciler.cli.rules": "rules",
    "reconciler.cli.schemas": "schemas",
    "reconciler.cli.n8n": "n8n",
    "reconciler.cli.plan": "plan",
    "reconciler.cli.apply": "apply",
    "reconciler.cli.report": "report",
    "reconciler.cli.report:status": "status",
    "reconciler.cli.report:history": "history",
    "reconciler.cli.version": "version",
    "reconciler.cli.run": "run",
    "reconciler.cli.doctor": "doctor",
    "reconciler.cli.instance": "instance",
    "reconciler.cli.trigger": "trigger",
    "reconciler.cli.test_cmd": "test",
    "reconciler.cli.executions": "executions",
    "reconciler.cli.skills": "skills",
    "reconciler.cli.ui": "ui",
    "reconciler.cli.import_codika": "import_group",
}


def all_commands() -> list[click.Command]:
    found: list[click.Command] = []
    for name, attr in _COMMANDS.items():
        module = importlib.import_module(name.split(":", 1)[0])
        found.append(getattr(module, attr))
    return found

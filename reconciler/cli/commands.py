"""The list of commands; each lives in its own module."""

from __future__ import annotations

import importlib

import click

# module name -> attribute holding the click command (or group)
_COMMANDS: dict[str, str] = {
    "reconciler.cli.validate": "validate",
    "reconciler.cli.schemas": "schemas",
    "reconciler.cli.n8n": "n8n",
}


def all_commands() -> list[click.Command]:
    found: list[click.Command] = []
    for module_name, attr in _COMMANDS.items():
        module = importlib.import_module(module_name)
        found.append(getattr(module, attr))
    return found

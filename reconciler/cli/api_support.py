"""What the CLI commands of the API share: a Service on the state file and n8n from env."""

from __future__ import annotations

import json
from typing import Any

import click

from reconciler.api.service import ApiContext, Service
from reconciler.errors import ConfigError
from reconciler.store.db import state_exists, state_path

STATE = click.option("--state", help="SQLite state file (default $RECONCILER_STATE).")


def open_service(state: str | None) -> Service:
    from reconciler.apply.runtime import n8n_from_env  # the CLI's one reading of the env

    file = state_path(state)
    if not state_exists(file):  # instances live there: without it there is nothing to read
        raise ConfigError(f"no state file at {file}: pass --state FILE or set "
                          "RECONCILER_STATE to the daemon's state file")
    url, key = n8n_from_env()
    return Service(ApiContext(file, url, key))


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))

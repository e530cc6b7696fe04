"""`reconciler instance key INSTANCE [--rotate]`: the instance's API key, shown once."""

from __future__ import annotations

import click

from reconciler.api.keys import issue_key
from reconciler.apply.runtime import open_store
from reconciler.cli.api_support import STATE


@click.group("instance")
def instance() -> None:
    """Process instances: their API keys."""


@instance.command("key")
@click.argument("instance_id", metavar="INSTANCE")
@click.option("--rotate", is_flag=True, help="Replace the key; the old one stops working.")
@STATE
def key(instance_id: str, rotate: bool, state: str | None) -> int:
    """Make the instance's API key and print it once (only its hash is kept)."""
    store = open_store(state)
    try:
        value = issue_key(store, instance_id, rotate=rotate)
    finally:
        store.close()
    click.echo(value)
    click.echo("store this key now: it is not shown again", err=True)
    return 0

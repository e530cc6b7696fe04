"""`reconciler n8n up|down|status`: a managed local n8n for development and tests."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.adapters import n8n_server
from reconciler.cli.output import output_option

_DATA = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=n8n_server.DEFAULT_DATA_DIR,
    show_default=True,
    help="Folder holding this server's database, log, pid file and API key.",
)


@click.group("n8n")
def n8n() -> None:
    """Install, start and stop a local n8n server (loopback only)."""


@n8n.command("up")
@_DATA
@click.option(
    "--ready-timeout",
    type=float,
    default=n8n_server.READY_TIMEOUT,
    show_default=True,
    help="Seconds to wait for n8n to answer /healthz/readiness.",
)
def up(data_dir: Path, ready_timeout: float) -> int:
    """Start n8n (installing it once into the cache) or reuse the running one.

    Prints RECONCILER_N8N_URL and RECONCILER_N8N_API_KEY lines on stdout (progress
    goes to stderr) and writes them to DATA/n8n.env.
    """
    info = n8n_server.up(data_dir, ready_timeout=ready_timeout)
    for line in n8n_server.env_lines(info):
        click.echo(line)
    return 0


@n8n.command("down")
@_DATA
def down(data_dir: Path) -> int:
    """Stop the server started for DATA (only that process group)."""
    if n8n_server.down(data_dir):
        click.echo("stopped", err=True)
    else:
        click.echo("not running", err=True)
    return 0


@n8n.command("status")
@_DATA
@output_option("text", "json")
def status(data_dir: Path, fmt: str) -> int:
    """Print running/starting/stopped and the URL; exit 1 when stopped."""
    found = n8n_server.status(data_dir)
    state = "stopped" if not found.running else "running" if found.ready else "starting"
    if fmt == "json":
        click.echo(json.dumps({"state": state, "url": found.url if found.running else None,
                               "pid": found.pid if found.running else None}))
    elif not found.running:
        click.echo("stopped")
    else:
        click.echo(f"{state} {found.url} pid {found.pid}")
    return 0 if found.running else 1

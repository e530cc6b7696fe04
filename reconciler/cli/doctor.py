"""`reconciler doctor`: is everything the daemon needs in place? Exit 0 yes, 1 no."""

from __future__ import annotations

import dataclasses
import json
import os

import click

from reconciler.cli.output import output_option
from reconciler.daemon.config import resolve
from reconciler.daemon.doctor import render, run_checks


@click.command("doctor")
@click.option("--repo", help="Repository to check (default $RECONCILER_REPO).")
@click.option("--branch", help="Branch that must exist.  [default: main]")
@click.option("--state", help="SQLite state file (default $RECONCILER_STATE).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="The daemon's settings file (TOML or YAML).")
@click.option("--ssh-key", type=click.Path(dir_okay=False),
              help="Private key file for ssh:// repositories (default: the ssh agent).")
@output_option("text", "json")
def doctor(repo: str | None, branch: str | None, state: str | None, config_file: str | None,
           ssh_key: str | None, fmt: str) -> int:
    """Check git access, n8n and its API key scopes, secret sources and the state file."""
    config = resolve({"repo": repo, "branch": branch, "state": state, "ssh_key": ssh_key},
                     config_file=config_file)
    checks = run_checks(config, os.environ)
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(c) for c in checks], indent=2))
    else:
        click.echo(render(checks))
    return 0 if all(c.ok for c in checks) else 1

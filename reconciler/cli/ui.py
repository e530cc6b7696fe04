"""`reconciler ui token --org ORG`: a new viewer token for the dashboard, shown once."""

from __future__ import annotations

import re

import click

from reconciler.errors import UsageError
from reconciler.ui.auth import VIEWERS_ENV, new_token, viewer_entry

_ORG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@click.group("ui")
def ui() -> None:
    """The web dashboard (/ui on the daemon): its access tokens."""


@ui.command("token")
@click.option("--org", required=True, help="The organization the token may see.")
def token(org: str) -> int:
    """Make a viewer token: print it once, and the entry for RECONCILER_UI_VIEWER_TOKENS."""
    if not _ORG.match(org):
        raise UsageError(f"--org takes an organization id (a-z, 0-9, -), not {org!r}")
    value = new_token()
    click.echo(value)
    click.echo(f"add to {VIEWERS_ENV} (comma-separated; only the hash is kept there):\n"
               f"  {viewer_entry(org, value)}\nstore the token now: it is not shown again",
               err=True)
    return 0

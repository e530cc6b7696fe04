"""`reconciler import codika SRC... --into REPO`: Codika use cases into a repository."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from reconciler.adapters.codika_cli import ensure_codika
from reconciler.importers.codika import Owner, import_codika


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@click.group("import")
def import_group() -> None:
    """Import use cases written for another platform."""


@import_group.command("codika")
@click.argument("sources", metavar="SRC...", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--into", "repo", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The repository folder to write use-cases/<slug>/ into.")
@click.option("--owner", "owner_user", default="owner", show_default=True,
              help="The process owner's user id (Codika kept it on its platform).")
@click.option("--org", "owner_org", default="owner-org", show_default=True,
              help="The process owner's organization id.")
@click.option("--visibility", type=click.Choice(["private", "organizational", "public"]),
              default=None, help="Who may install it (Codika kept this on its platform; "
                                 "default private).")
@click.option("--slug", "slug_name", default=None,
              help="The use-case folder name (default: from SRC's name; one SRC only).")
def codika(sources: tuple[Path, ...], repo: Path, owner_user: str, owner_org: str,
           visibility: str | None, slug_name: str | None) -> int:
    """Read each Codika use-case folder (config.ts evaluated in Node, project.json,
    version.json, workflows/, skills/) and write use-case.yaml, version.json,
    workflows and skills under REPO/use-cases/<slug>/. Every rewrite is printed."""
    if slug_name and len(sources) > 1:
        raise click.UsageError("--slug needs exactly one SRC")
    if slug_name and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", slug_name):
        raise click.UsageError(f"--slug {slug_name!r}: lowercase letters, digits and '-'")
    install = ensure_codika(log=_log)
    repo.mkdir(parents=True, exist_ok=True)
    owner = Owner(owner_user, owner_org)
    for src in sources:
        result = import_codika(src, repo, owner, install, slug_name, visibility)
        click.echo(f"{src} -> {result.folder}")
        for rel in result.written:
            click.echo(f"  wrote {rel}")
        for rel in result.removed:
            click.echo(f"  removed {rel}")
        for file, notes in sorted(result.notes.by_file.items()):
            for note in notes:
                click.echo(f"  {file}: {note}")
        if not result.written and not result.removed:
            click.echo("  unchanged")
    return 0

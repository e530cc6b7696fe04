"""`reconciler schemas`: the JSON Schemas of the repository files, for editors and CI.

`--write DIR` writes them into a user's repository (run it at the repository's root)
and prints the `yaml-language-server` line each kind of file needs to find them;
`--check DIR` fails when they are stale. Without either, it lists them (read-only).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.model.schemas import SCHEMAS, stale_schemas, write_schemas
from reconciler.report.table import table

# schema -> the YAML files it describes, from the repository's root
_FILES = {"platform.schema.json": "platform.yaml", "instance.schema.json": "instances/<id>.yaml",
          "use-case.schema.json": "use-cases/<slug>/use-case.yaml"}


def editor_line(folder: Path, name: str) -> str | None:
    """The first line a YAML file needs so that yaml-language-server finds its schema."""
    file = _FILES.get(name)
    if file is None:
        return None
    target = os.path.relpath(folder / name, start=Path(file).parent)
    return f"# yaml-language-server: $schema={Path(target).as_posix()}"


@click.command("schemas")
@click.option("--write", "write", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Write the schema files into DIR (relative to the "
                                  "repository's root, e.g. `schemas`).")
@click.option("--check", "check", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Write nothing; exit 1 listing the files in DIR that "
                                  "differ from the models.")
def schemas(write: Path | None, check: Path | None) -> int:
    """JSON Schemas of every file users write (editors validate YAML with them)."""
    if write is not None and check is not None:
        raise click.UsageError("give --write DIR or --check DIR, not both")
    if check is not None:
        stale = stale_schemas(check)
        for name in stale:
            click.echo(f"stale: {check / name}", err=True)
        if stale:
            click.echo(f"run `reconciler schemas --write {check}` to regenerate them", err=True)
            return 1
        click.echo(f"{check}: up to date")
        return 0
    if write is None:
        click.echo(table(["schema", "describes"],
                         [(name, describes) for name, (_, describes) in SCHEMAS.items()]))
        return 0
    for path in write_schemas(write):
        click.echo(f"wrote {path}", err=True)
    for name, file in _FILES.items():
        click.echo(f"{file}: {editor_line(write, name)}")
    return 0

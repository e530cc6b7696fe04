"""`reconciler schemas`: write the JSON Schemas of the repository files, or check them."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.model.schemas import stale_schemas, write_schemas


@click.command("schemas")
@click.option("-o", "--output", "folder", type=click.Path(file_okay=False, path_type=Path),
              default=Path("schemas"), show_default=True,
              help="Folder the schema files are written to (or checked in).")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 listing the files that differ from the models.")
def schemas(folder: Path, check: bool) -> int:
    """Generate schemas/*.schema.json from the models (editors validate YAML with them)."""
    if check:
        stale = stale_schemas(folder)
        for name in stale:
            click.echo(f"stale: {folder / name}", err=True)
        if stale:
            click.echo("run `reconciler schemas` to regenerate them", err=True)
            return 1
        click.echo(f"{folder}: up to date")
        return 0
    for path in write_schemas(folder):
        click.echo(f"wrote {path}")
    return 0

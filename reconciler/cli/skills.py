"""`reconciler skills INSTANCE [--write DIR]`: the instance's SKILL.md files, completed."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.api.skills import skills as instance_skills
from reconciler.cli.api_support import STATE, echo_json, open_service
from reconciler.cli.output import output_option


@click.command("skills")
@click.argument("instance_id", metavar="INSTANCE")
@click.option("--write", "output", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Write DIR/<skill>/SKILL.md instead of printing.")
@output_option("text", "json")
@click.option("--api-url", default=lambda: os.environ.get("RECONCILER_API_URL"),
              help="The daemon's base URL, for the API trigger URLs "
                   "(default $RECONCILER_API_URL).")
@STATE
def skills(instance_id: str, output: Path | None, fmt: str, api_url: str | None,
           state: str | None) -> int:
    """Each SKILL.md with this instance's trigger URLs and input schema."""
    service = open_service(state)
    try:
        found = instance_skills(service.store, service.instance(instance_id), service.n8n_url,
                                api_url)
    finally:
        service.close()
    if fmt == "json" and output is None:
        echo_json(found)
        return 0
    for skill in found:
        if output is None:
            click.echo(skill["markdown"])
            continue
        target = output / skill["name"] / "SKILL.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(skill["markdown"], encoding="utf-8")
        click.echo(str(target), err=True)
    return 0

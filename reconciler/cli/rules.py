"""`reconciler rules`: the validation rules, as a list or as docs/rules.md."""

from __future__ import annotations

import json

import click

from reconciler.cli.output import output_option
from reconciler.validate.docs import must_rules_markdown, rules_listing, rules_markdown
from reconciler.validate.rules.registry import ordered


@click.command("rules")
@click.option("--markdown", is_flag=True, help="Print the full documentation (docs/rules.md).")
@click.option("--must", is_flag=True,
              help="Print the table of `must` rules of docs/repository-format.md.")
@output_option("text", "markdown", "json")
def rules(markdown: bool, must: bool, fmt: str) -> int:
    """List the validation rules: id, layer, severity, fix, summary."""
    if must:
        click.echo(must_rules_markdown())
    elif fmt == "json":
        click.echo(json.dumps([{"id": r.id, "layer": r.layer.value, "severity": r.severity,
                                "fix": r.fix is not None, "summary": r.summary}
                               for r in ordered()], indent=2))
    elif markdown or fmt == "markdown":
        click.echo(rules_markdown(), nl=False)
    else:
        click.echo(rules_listing())
    return 0

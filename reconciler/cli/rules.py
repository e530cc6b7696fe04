"""`reconciler rules`: the validation rules, as a list or as docs/rules.md."""

from __future__ import annotations

import click

from reconciler.validate.docs import must_rules_markdown, rules_listing, rules_markdown


@click.command("rules")
@click.option("--markdown", is_flag=True, help="Print the full documentation (docs/rules.md).")
@click.option("--must", is_flag=True,
              help="Print the table of `must` rules of docs/repository-format.md.")
def rules(markdown: bool, must: bool) -> int:
    """List the validation rules: id, layer, severity, fix, summary."""
    if must:
        click.echo(must_rules_markdown())
        return 0
    click.echo(rules_markdown() if markdown else rules_listing(), nl=not markdown)
    return 0

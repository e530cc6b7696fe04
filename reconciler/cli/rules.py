"""`reconciler rules`: the validation rules, as a list or as docs/rules.md."""

from __future__ import annotations

import click

from reconciler.validate.docs import rules_listing, rules_markdown


@click.command("rules")
@click.option("--markdown", is_flag=True, help="Print the full documentation (docs/rules.md).")
def rules(markdown: bool) -> int:
    """List the validation rules: id, layer, severity, fix, summary."""
    click.echo(rules_markdown() if markdown else rules_listing(), nl=not markdown)
    return 0

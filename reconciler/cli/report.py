"""`reconciler report`, `status` and `history`: read the state, change nothing."""

from __future__ import annotations

import click

from reconciler.apply.runtime import open_store
from reconciler.report.show import render_run
from reconciler.report.status import as_json, history_rows, history_text, status_data, status_text

STATE = click.option("--state", help="SQLite state file (default $RECONCILER_STATE).")


@click.command("report")
@click.argument("run", default="latest")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "junit"]),
              default="text", show_default=True)
@STATE
def report(run: str, fmt: str, state: str | None) -> int:
    """Show one reconcile run (a run id, or `latest`)."""
    click.echo(render_run(open_store(state), run if run == "latest" else int(run), fmt))
    return 0


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@STATE
def status(fmt: str, state: str | None) -> int:
    """Processes, templates and instances with their state, version, pin and notices."""
    data = status_data(open_store(state))
    click.echo(as_json(data) if fmt == "json" else status_text(data))
    return 0


@click.command("history")
@click.option("--limit", default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@STATE
def history(limit: int, fmt: str, state: str | None) -> int:
    """The latest reconcile runs, newest first."""
    rows = history_rows(open_store(state), limit)
    click.echo(as_json(rows) if fmt == "json" else history_text(rows))
    return 0

"""`reconciler report`, `status` and `history`: read the state, change nothing."""

from __future__ import annotations

import click

from reconciler.apply.runtime import open_store
from reconciler.cli.output import color, output_option
from reconciler.report.show import render_run
from reconciler.report.status import as_json, history_rows, history_text, status_data, status_text

STATE = click.option("--state", help="SQLite state file (default $RECONCILER_STATE).")


def _run_id(value: str) -> str | int:
    if value == "latest":
        return value
    if not value.isdigit():
        raise click.BadParameter(f"{value!r} is not a run id (a number) or `latest`",
                                 param_hint="RUN")
    return int(value)


@click.command("report")
@click.argument("run", default="latest")
@output_option("text", "markdown", "json", "junit")
@STATE
def report(run: str, fmt: str, state: str | None) -> int:
    """Show one reconcile run (a run id, or `latest`)."""
    which = _run_id(run)
    click.echo(render_run(open_store(state, create=False), which, fmt, color=color()))
    return 0


@click.command("status")
@output_option("text", "json")
@STATE
def status(fmt: str, state: str | None) -> int:
    """Processes, templates and instances with their state, version, pin and notices."""
    data = status_data(open_store(state, create=False))
    click.echo(as_json(data) if fmt == "json" else status_text(data))
    return 0


@click.command("history")
@click.option("--limit", default=20, show_default=True)
@output_option("text", "json")
@STATE
def history(limit: int, fmt: str, state: str | None) -> int:
    """The latest reconcile runs, newest first."""
    rows = history_rows(open_store(state, create=False), limit)
    click.echo(as_json(rows) if fmt == "json" else history_text(rows))
    return 0

"""`reconciler executions list|get`: execution records, straight from the state and n8n."""

from __future__ import annotations

import click

from reconciler.api.errors import not_found
from reconciler.api.records import STATUSES
from reconciler.cli.api_support import STATE, echo_json, open_service
from reconciler.cli.output import output_option
from reconciler.report.table import table


@click.group("executions")
def executions() -> None:
    """Executions started through the API or reported by an org's error workflow."""


@executions.command("list")
@click.option("--instance", "instance_id", help="Only this instance.")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--workflow", "workflow_id", help="Only this workflow id.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@output_option("text", "json")
@STATE
def list_(instance_id: str | None, status: str | None, workflow_id: str | None, limit: int,
          fmt: str, state: str | None) -> int:
    """Newest first; pending ones are brought up to date with n8n."""
    service = open_service(state)
    try:
        rows = service.records.search(instance_id, workflow_id=workflow_id, status=status,
                                      limit=limit)
        rows = [service.tracker.refresh(r) if r.status == "pending" else r for r in rows]
    finally:
        service.close()
    if fmt == "json":
        echo_json([r.public() for r in rows])
        return 0
    click.echo(table(["id", "workflow", "status", "error", "started", "ms"], [
        (r.id, f"{r.instance_id}/{r.workflow_id}", r.status,
         f"{r.error_class} at {r.failed_node}" if r.status == "failed" else "",
         r.started_at, r.duration_ms) for r in rows]))
    return 0


@executions.command("get")
@click.argument("record_id", metavar="ID")
@click.option("--deep", is_flag=True, help="Follow sub-workflow executions recursively.")
@click.option("--slim", is_flag=True, help="Drop item bodies from the node data.")
@output_option("json", default="json")
@STATE
def get(record_id: str, deep: bool, slim: bool, fmt: str, state: str | None) -> int:
    """One execution with its n8n run, as JSON."""
    service = open_service(state)
    try:
        record = service.records.find(record_id)
        if record is None:
            raise not_found(f"execution {record_id!r}")
        found, run = service.execution(service.instance(record.instance_id), record_id,
                                       deep=deep, slim=slim)
    finally:
        service.close()
    echo_json({"execution": found.public(), "run": run})
    return 0

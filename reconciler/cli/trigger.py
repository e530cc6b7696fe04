"""`reconciler trigger INSTANCE WORKFLOW --payload-file F|- [--wait]`."""

from __future__ import annotations

import json
from typing import IO, Any

import click

from reconciler.cli.api_support import STATE, echo_json, open_service
from reconciler.errors import InvalidInput, PermanentError, Problem


def _payload(stream: IO[str]) -> Any:
    try:
        return json.loads(stream.read())
    except (ValueError, UnicodeDecodeError):
        name = getattr(stream, "name", "-")
        raise InvalidInput([Problem(str(name), "the payload file is not valid JSON")]) from None


@click.command("trigger")
@click.argument("instance_id", metavar="INSTANCE")
@click.argument("workflow_id", metavar="WORKFLOW")
@click.option("--payload-file", type=click.File("r", encoding="utf-8"), required=True,
              help="JSON object to send; - reads standard input.")
@click.option("--wait", is_flag=True, help="Wait for the run to end (bounded by --timeout).")
@click.option("--timeout", type=click.FloatRange(1, 120), default=30.0, show_default=True)
@STATE
def trigger(instance_id: str, workflow_id: str, payload_file: IO[str], wait: bool, timeout: float,
            state: str | None) -> int:
    """Run a workflow of an instance through its production webhook; print the record."""
    payload = _payload(payload_file)
    service = open_service(state)
    try:
        found = service.instance(instance_id)
        if not found.usable:
            raise PermanentError(f"instance {instance_id!r} is {found.state}, not active")
        record, answer = service.trigger(found, workflow_id, payload, wait=wait,
                                         timeout=timeout)
    finally:
        service.close()
    echo_json({"execution": record.public(), "response": answer})
    return 1 if record.status == "failed" else 0

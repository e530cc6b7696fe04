"""Recording failures reported by an organization's error workflow.

The failing workflow's live name `"<name> [<instance>/<workflow>]"` says which
instance it belongs to; the instance must belong to the reporting org. A run our
API started already has a record (found by the id its trigger carried, or by the
n8n execution id) and is completed; any other run gets a new record with
trigger_source `error_workflow`. A sub-workflow's failure is left to its caller's
report, which traces it.
"""

from __future__ import annotations

from typing import Any

from reconciler.api import analysis, keys
from reconciler.api.errors import ApiError
from reconciler.api.executions import outcome_of
from reconciler.api.records import Outcome, Record
from reconciler.api.service import Service
from reconciler.errors import N8nError
from reconciler.plan.workflows import parse_workflow_name
from reconciler.render.error_workflow import token_matches


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def is_sub_execution(execution: dict[str, Any]) -> bool:
    return any(_d(run.get("metadata")).get("parentExecution")
               for runs in analysis.run_data(execution).values() for run in runs)


def from_payload(report: dict[str, Any]) -> Outcome:
    """What n8n's error payload alone says (when the execution cannot be read)."""
    run = _d(report.get("execution"))
    error = _d(run.get("error"))
    name = error.get("name")
    api = name == "NodeApiError" or error.get("httpCode")
    last = run.get("lastNodeExecuted")
    return Outcome(status="failed",
                   n8n_execution_id=str(run["id"]) if run.get("id") else None,
                   error_class="external_api_error" if api else "node_failure",
                   error_name=str(name) if name else None,
                   failed_node=str(last) if last else None)


def record_report(service: Service, org_id: str, token: str | None,
                  report: dict[str, Any]) -> tuple[str | None, str]:
    """Returns (record id or None, what was done)."""
    if not token or not token_matches(service.hash_key, org_id, token):
        raise ApiError(401, "invalid_org_token", "the organization token is not valid")
    parsed = parse_workflow_name(str(_d(report.get("workflow")).get("name") or ""))
    with service.lock:
        instance = keys.load_instance(service.store, parsed[0]) if parsed else None
    if parsed is None or instance is None or instance.owner_org != org_id:
        raise ApiError(404, "unknown_workflow", "the failing workflow is not an instance "
                       "workflow of this organization")
    n8n_wf = str(_d(report.get("workflow")).get("id") or "") or None
    outcome, execution = _outcome(service, report)
    if execution is not None and is_sub_execution(execution):
        return None, "sub_execution"
    existing = _existing(service, instance, outcome, execution)
    if existing is not None:
        return service.records.finish(existing, outcome).id, "completed"
    record = service.records.create(instance_id=instance.id, workflow_id=parsed[1],
                                    n8n_workflow_id=n8n_wf, payload_hash=None,
                                    trigger_source="error_workflow", outcome=outcome)
    return record.id, "recorded"


def _outcome(service: Service, report: dict[str, Any]) -> tuple[Outcome, dict[str, Any] | None]:
    fallback = from_payload(report)
    if not fallback.n8n_execution_id:
        return fallback, None  # the trigger itself failed: no execution was saved
    try:
        execution = service.client.get_execution(fallback.n8n_execution_id, include_data=True)
        outcome = outcome_of(service.tracker.tree(execution), service.tracker.prices)
    except N8nError:
        return fallback, None
    return (outcome if outcome.status != "pending" else fallback), execution


def _existing(service: Service, instance: keys.Instance, outcome: Outcome,
              execution: dict[str, Any] | None) -> Record | None:
    link = analysis.link_id(execution) if execution is not None else None
    found = service.records.get(link, instance.id) if link else None
    if found is None and outcome.n8n_execution_id:
        found = service.records.by_n8n(instance.id, outcome.n8n_execution_id)
    return found

"""What the HTTP API and the CLI do, on one state file and one n8n.

Every request re-reads the instance, so pausing or archiving it takes effect at
once. A key of one instance sees only that instance's records: another instance's
execution is "not found", never "forbidden".
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reconciler.adapters.n8n_client import N8nClient
from reconciler.adapters.secrets import hash_key_from
from reconciler.api import analysis, instances, keys, payloads, usage, webhook
from reconciler.api.errors import ApiError, not_found
from reconciler.api.executions import Tracker, Tree, outcome_of, token_totals
from reconciler.api.prices import PriceTable, load_prices
from reconciler.api.records import Outcome, Record, Records
from reconciler.errors import N8nError
from reconciler.store.db import Store, state_label

ACCEPT_WINDOW = 1.0  # seconds a trigger without ?wait waits for n8n's first answer
WEBHOOK_TIMEOUT = 300.0  # a webhook answering "lastNode" holds the call until the end
MAX_WAIT = 120.0
REFRESH_ON_LIST = 10  # pending rows brought up to date per list call


@dataclass
class Fired:
    """A webhook call in flight on its own thread."""

    record: Record
    done: threading.Event = field(default_factory=threading.Event)
    answer: webhook.Answer | None = None


class ApiSettings(Protocol):
    """What the API needs from its host (ApiContext, or the daemon's own context)."""

    @property
    def store_path(self) -> str | Path: ...
    @property
    def n8n_url(self) -> str: ...
    @property
    def n8n_api_key(self) -> str: ...
    @property
    def hash_key(self) -> bytes | None: ...
    @property
    def prices(self) -> Any: ...


@dataclass
class ApiContext:
    store_path: str | Path
    n8n_url: str
    n8n_api_key: str
    hash_key: bytes | None = None
    prices: PriceTable | None = None

    def __repr__(self) -> str:  # never shows the key
        return f"ApiContext({state_label(self.store_path)!r}, {self.n8n_url!r})"


class Service:
    def __init__(self, context: ApiSettings) -> None:
        self.store = Store(context.store_path)
        self.n8n_url = context.n8n_url.rstrip("/")
        self.client = N8nClient(self.n8n_url, context.n8n_api_key, max_retries=2)
        self.hash_key = context.hash_key or hash_key_from(
            self.store.local_dir, os.environ)
        self.lock = threading.RLock()
        self.records = Records(self.store, self.lock)
        self.tracker = Tracker(self.records, self.client, context.prices or load_prices())

    def close(self) -> None:
        self.client.close()
        self.store.close()

    # --- who is calling ---------------------------------------------------------

    def instance(self, instance_id: str) -> keys.Instance:
        with self.lock:
            found = keys.load_instance(self.store, instance_id)
        if found is None:
            raise not_found(f"instance {instance_id!r}")
        return found

    def authenticate(self, presented: str | None) -> keys.Instance:
        if not presented:
            raise ApiError(401, "missing_api_key", "send the instance's key in X-API-Key")
        with self.lock:
            instance_id = keys.instance_for_key(self.store, presented)
            found = keys.load_instance(self.store, instance_id) if instance_id else None
        if found is None:
            raise ApiError(401, "invalid_api_key", "this API key is not valid")
        if not found.usable and found.state != "over_quota":  # reads stay; triggers: 402
            raise ApiError(403, "instance_inactive",
                           f"instance is {found.state if found.state != 'active' else 'inactive'}"
                           "; its key is refused until it is active again")
        return found

    # --- trigger ----------------------------------------------------------------

    def _target(self, instance: keys.Instance, workflow_id: str) -> tuple[
            instances.Target, str]:
        with self.lock:
            template = instances.template(self.store, instance)
            n8n_id = instances.n8n_workflow_id(self.store, instance.id, workflow_id)
        spec = instances.workflows(template[0]).get(workflow_id) if template else None
        if spec is None:
            raise not_found(f"workflow {workflow_id!r}")
        target = instances.target(spec)
        if target is None:
            raise ApiError(409, "not_triggerable", f"workflow {workflow_id!r} has no http "
                           "trigger and no schedule with a manual_trigger_path")
        if n8n_id is None:
            raise ApiError(409, "not_deployed", f"workflow {workflow_id!r} is not deployed")
        return target, n8n_id

    def trigger(self, instance: keys.Instance, workflow_id: str, payload: Any, *,
                wait: bool = False, timeout: float = 30.0) -> tuple[Record, Any]:
        """Start the workflow; returns its record and n8n's answer (when it came)."""
        with self.lock:
            usage.require_credits(self.store, instance)
        target, n8n_id = self._target(instance, workflow_id)
        problems = payloads.problems(target.input_schema, payload)
        if problems:
            record = self.records.create(
                instance_id=instance.id, workflow_id=workflow_id, n8n_workflow_id=n8n_id,
                payload_hash=payloads.digest(payload), outcome=Outcome(
                    status="failed", error_class="validation_error",
                    error_name="InputValidation", duration_ms=0))
            raise ApiError(422, "validation_error", "; ".join(problems), execution_id=record.id)
        record = self.records.create(instance_id=instance.id, workflow_id=workflow_id,
                                     n8n_workflow_id=n8n_id,
                                     payload_hash=payloads.digest(payload))
        fired = self._fire(instance, target, record, payload)
        deadline = time.monotonic() + min(max(timeout, 0.0), MAX_WAIT)
        fired.done.wait(max(0.0, deadline - time.monotonic()) if wait else ACCEPT_WINDOW)
        answer = fired.answer
        if answer is not None and _not_started(answer):
            raise ApiError(502 if answer.status is None else 409, "not_started",
                           _why_not_started(answer), execution_id=record.id)
        record = self.tracker.wait(record, deadline) if wait else self._quiet_refresh(record)
        return record, answer.body if answer is not None else None

    def _fire(self, instance: keys.Instance, target: instances.Target, record: Record,
              payload: dict[str, Any]) -> Fired:
        fired = Fired(record)
        path = instances.webhook_path(instance, target.slug)

        def run() -> None:
            answer = webhook.call(self.n8n_url, path, target.method, payload, record.id,
                                  timeout=WEBHOOK_TIMEOUT)
            if _not_started(answer):
                self.records.finish(record, Outcome(
                    status="failed", error_class="not_started",
                    error_name="WebhookUnreachable" if answer.status is None
                    else f"WebhookHttp{answer.status}"))
            fired.answer = answer
            fired.done.set()

        threading.Thread(target=run, name=f"trigger-{record.id}", daemon=True).start()
        return fired

    def _quiet_refresh(self, record: Record) -> Record:
        try:
            return self.tracker.refresh(record)
        except N8nError:
            return record  # n8n slow or away: the record stays pending, nothing is lost

    # --- executions -------------------------------------------------------------

    def list_executions(self, instance: keys.Instance, *, workflow_id: str | None = None,
                        status: str | None = None, since: str | None = None,
                        limit: int = 50) -> list[Record]:
        found = self.records.search(instance.id, workflow_id=workflow_id, status=status,
                                    since=since, limit=limit)
        pending = [r for r in found if r.status == "pending"][:REFRESH_ON_LIST]
        fresh = {r.id: self._quiet_refresh(r) for r in pending}
        updated = [fresh.get(r.id, r) for r in found]
        return [r for r in updated if status is None or r.status == status]

    def execution(self, instance: keys.Instance, record_id: str, *, deep: bool = False,
                  slim: bool = False) -> tuple[Record, dict[str, Any] | None]:
        record = self.records.get(record_id, instance.id)
        if record is None:
            raise not_found(f"execution {record_id!r}")
        try:
            execution = self.tracker.execution_for(record)
            if execution is None:
                return self.records.get(record.id, instance.id) or record, None
            tree = (self.tracker.tree(execution) if deep or record.status == "pending"
                    else Tree(execution))
        except N8nError as exc:
            raise ApiError(502, "n8n_unavailable", f"n8n did not answer: {exc}") from None
        if record.status == "pending":
            record = self.records.finish(record, outcome_of(tree, self.tracker.prices))
        names = self._workflow_names(instance.id)
        return record, describe(tree, names, self.tracker.prices, deep=deep, slim=slim)

    def _workflow_names(self, instance_id: str) -> dict[str, str]:
        with self.lock:
            rows = self.store.conn.execute("SELECT n8n_id, workflow_id FROM workflow_mappings "
                                           "WHERE instance_id=?", (instance_id,)).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}


def _not_started(answer: webhook.Answer) -> bool:
    # n8n answers 404 for a path no published workflow serves: nothing ran.
    return answer.status is None or answer.status in (404, 405)


def _why_not_started(answer: webhook.Answer) -> str:
    if answer.status is None:
        return f"n8n could not be reached ({answer.problem})"
    return f"n8n did not start the workflow (webhook answered HTTP {answer.status})"


def describe(tree: Tree, names: dict[str, str], prices: PriceTable, *, deep: bool,
             slim: bool) -> dict[str, Any]:
    """One n8n execution as the API shows it; children only when `deep`."""
    ex = tree.execution
    failed = analysis.status(ex) == "failed"
    tokens, cost = token_totals(Tree(ex), prices)
    n8n_wf = str(ex.get("workflowId") or "")
    runs = analysis.run_data(ex)
    return {
        "n8n_execution_id": str(ex.get("id")),
        "n8n_workflow_id": n8n_wf or None,
        "workflow_id": names.get(n8n_wf),
        "called_from_node": tree.node,
        "status": analysis.status(ex),
        "n8n_status": ex.get("status"),
        "mode": ex.get("mode"),
        "started_at": ex.get("startedAt"),
        "stopped_at": ex.get("stoppedAt"),
        "duration_ms": analysis.duration_ms(ex),
        "error": analysis.public_error(analysis.main_error(ex), slim=slim) if failed else None,
        "error_class": analysis.classify(ex),
        "failed_node": analysis.failed_node(ex),
        "last_node": analysis.last_successful_node(ex),
        "output": analysis.output(ex),
        "tokens": tokens or None,
        "cost": cost,
        "run_data": analysis.slim_runs(runs) if slim else runs,
        "sub_executions": [{"node": s.node, "n8n_execution_id": s.execution_id,
                            "n8n_workflow_id": s.workflow_id}
                           for s in analysis.sub_executions(ex)],
        "children": [describe(c, names, prices, deep=deep, slim=slim)
                     for c in tree.children] if deep else [],
    }


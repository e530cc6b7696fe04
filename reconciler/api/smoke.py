"""Running smoke tests: each test calls its workflow through the instance's live
trigger (the production webhook, like `reconciler trigger`) and judges the answer.

Every call is an execution record (`trigger_source` "smoke"), so a test's result
names the execution to look at. Nothing here writes to n8n.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from reconciler.api import instances, keys, payloads, webhook
from reconciler.api.analysis import LINK_FIELD
from reconciler.api.service import Service
from reconciler.model.repository import SmokeTest, UseCase
from reconciler.model.smoke_match import judge
from reconciler.store.db import Store
from reconciler.store.smoke import Batch, Result, save_batch

TRACK_SECONDS = 5.0  # after the answer, how long to look for n8n's execution id
# n8n registers a just-published workflow's webhook a moment later: a 404 right after
# a deployment is retried this long before it counts as the answer.
REGISTER_SECONDS = 15.0


def subject(store: Store, instance_id: str, version: str, use_case: UseCase) -> str:
    """What a run of the tests tests: the version, the deployed content and the tests."""
    rows = store.conn.execute("SELECT workflow_id, content_hash FROM workflow_mappings WHERE "
                              "instance_id=? ORDER BY workflow_id", (instance_id,)).fetchall()
    text = json.dumps([version, use_case.tests_digest, rows])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _parameters(store: Store, instance_id: str) -> dict[str, Any]:
    row = store.conn.execute("SELECT parameters FROM instances WHERE id=?",
                             (instance_id,)).fetchone()
    value = json.loads(row[0]) if row and row[0] else {}
    return value if isinstance(value, dict) else {}


def _failed(test: SmokeTest, why: str) -> Result:
    return Result(test.name, test.spec.workflow, False, 0, (why,), why)


def run_one(service: Service, instance: keys.Instance, test: SmokeTest) -> Result:
    spec = test.spec
    params = _parameters(service.store, instance.id)
    wrong = [f"parameter {k}: the instance has {params.get(k)!r}, the test assumes {v!r}"
             for k, v in spec.parameters.items() if params.get(k) != v]
    if wrong:
        return _failed(test, "; ".join(wrong))
    with service.lock:
        template = instances.template(service.store, instance)
        n8n_id = instances.n8n_workflow_id(service.store, instance.id, spec.workflow)
    found = instances.workflows(template[0]).get(spec.workflow) if template else None
    target = instances.target(found) if found else None
    if target is None or n8n_id is None:
        return _failed(test, f"workflow {spec.workflow!r} is not deployed with a trigger "
                             f"on {instance.id}")
    record = service.records.create(instance_id=instance.id, workflow_id=spec.workflow,
                                    n8n_workflow_id=n8n_id, trigger_source="smoke",
                                    payload_hash=payloads.digest(spec.payload))
    path = instances.webhook_path(instance, target.slug)
    started = time.monotonic()
    while True:
        answer = webhook.call(service.n8n_url, path, target.method, spec.payload, record.id,
                              timeout=spec.timeout)
        if answer.status != 404 or time.monotonic() - started > REGISTER_SECONDS:
            break
        time.sleep(0.5)
    elapsed = int((time.monotonic() - started) * 1000)
    record = service.tracker.wait(record, time.monotonic() + TRACK_SECONDS)
    body = answer.body
    if isinstance(body, dict):  # our link marker, echoed by workflows returning their input
        body = {k: v for k, v in body.items() if k != LINK_FIELD}
    verdict = judge(spec.expect, answer.status, body)
    failures = verdict.failures
    if answer.status is None:
        failures = (f"no answer from n8n ({answer.problem or 'unreachable'})", *failures[1:])
    return Result(test.name, spec.workflow, verdict.passed, elapsed, failures, verdict.diff,
                  record.id, record.n8n_execution_id)


def run_tests(service: Service, instance_id: str, use_case: UseCase, *, trigger: str,
              tests: Sequence[SmokeTest] | None = None) -> Batch:
    """Run the use case's tests on one instance and store the batch."""
    instance = service.instance(instance_id)
    chosen = list(use_case.tests if tests is None else tests)
    if not instance.usable:
        results = [_failed(t, f"instance {instance_id} is {instance.state}, not active")
                   for t in chosen]
    else:
        results = [run_one(service, instance, t) for t in chosen]
    return save_batch(service.store, instance_id=instance_id, use_case=use_case.slug,
                      version=instance.version or "", trigger=trigger, results=results,
                      subject=subject(service.store, instance_id, instance.version or "",
                                      use_case))

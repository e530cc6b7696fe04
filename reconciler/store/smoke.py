"""Smoke test results in the state: written by the runner, read by the gate and reports.

A batch is one run of a use case's tests on one instance; its `subject` names what was
tested (version, deployed content, tests digest), so the daemon re-runs only when one
of them changed. Diffs are bounded; payloads are never stored.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from reconciler.store.db import Store, now


@dataclass(frozen=True)
class Result:
    test: str
    workflow_id: str
    passed: bool
    duration_ms: int
    failures: tuple[str, ...] = ()
    diff: str = ""
    execution_id: str | None = None  # our execution record
    n8n_execution_id: str | None = None


@dataclass(frozen=True)
class Batch:
    batch: str
    instance_id: str
    use_case: str
    version: str
    subject: str
    trigger: str
    created_at: str
    results: tuple[Result, ...]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)


def save_batch(store: Store, *, instance_id: str, use_case: str, version: str, subject: str,
               trigger: str, results: list[Result]) -> Batch:
    batch, at = uuid.uuid4().hex[:16], now()
    with store.transaction() as c:
        for r in results:
            c.execute("INSERT INTO smoke_results (batch, instance_id, use_case, version, test,"
                      " workflow_id, passed, duration_ms, diff, failures, execution_id,"
                      " n8n_execution_id, subject, trigger, created_at) VALUES"
                      " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      (batch, instance_id, use_case, version, r.test, r.workflow_id,
                       int(r.passed), r.duration_ms, r.diff or None, json.dumps(r.failures),
                       r.execution_id, r.n8n_execution_id, subject, trigger, at))
    return Batch(batch, instance_id, use_case, version, subject, trigger, at, tuple(results))


def _batches(rows: list[Any]) -> list[Batch]:
    out: dict[str, Batch] = {}
    for row in rows:
        (batch, inst, uc, version, test, wf, passed, ms, diff, failures, ex, n8n_ex, subject,
         trigger, at) = row
        result = Result(test, wf, bool(passed), int(ms), tuple(json.loads(failures)),
                        diff or "", ex, n8n_ex)
        if batch in out:
            b = out[batch]
            out[batch] = Batch(b.batch, inst, uc, version, subject, trigger, at,
                               (*b.results, result))
        else:
            out[batch] = Batch(batch, inst, uc, version, subject, trigger, at, (result,))
    return list(out.values())


_COLUMNS = ("batch, instance_id, use_case, version, test, workflow_id, passed, duration_ms,"
            " diff, failures, execution_id, n8n_execution_id, subject, trigger, created_at")


def latest_batch(store: Store, instance_id: str) -> Batch | None:
    row = store.conn.execute("SELECT batch FROM smoke_results WHERE instance_id=? "
                             "ORDER BY id DESC LIMIT 1", (instance_id,)).fetchone()
    if row is None:
        return None
    rows = store.conn.execute(f"SELECT {_COLUMNS} FROM smoke_results WHERE batch=? "
                              "ORDER BY id", (row[0],)).fetchall()
    found = _batches(rows)
    return found[0] if found else None


def latest_by_version(store: Store, instance_ids: dict[str, str]) -> dict[tuple[str, str], bool]:
    """(use case, version) -> whether the newest batch of that version passed, on the
    instances given (instance id -> use case: the owners' dev instances)."""
    out: dict[tuple[str, str], bool] = {}
    for inst, use_case in instance_ids.items():
        rows = store.conn.execute(
            "SELECT version, batch, min(passed) FROM smoke_results WHERE instance_id=? AND "
            "use_case=? GROUP BY batch, version ORDER BY max(id)", (inst, use_case)).fetchall()
        for version, _, passed in rows:  # oldest first: the newest batch wins
            out[(use_case, str(version))] = bool(passed)
    return out


def delete_instance_results(store: Store, instance_id: str) -> int:
    with store.transaction() as c:
        return int(c.execute("DELETE FROM smoke_results WHERE instance_id=?",
                             (instance_id,)).rowcount)

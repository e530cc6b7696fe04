"""Execution records in SQLite: one row per execution, UUIDv7 id, no payload kept.

Only the payload's hash is stored (a payload may hold personal data or secrets),
and from n8n only what classifies the run: status, timings, error class and name,
the failed and last successful node, token usage and cost.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from reconciler.api.uuid7 import uuid7_str
from reconciler.store import ledger
from reconciler.store.db import Store, now

STATUSES = ("pending", "success", "failed")
_COLUMNS = ("id", "instance_id", "workflow_id", "n8n_workflow_id", "n8n_execution_id",
            "status", "started_at", "finished_at", "duration_ms", "error_class", "error_name",
            "failed_node", "last_node", "tokens", "cost", "trigger_source", "payload_hash")


@dataclass(frozen=True)
class Record:
    id: str
    instance_id: str
    workflow_id: str
    n8n_workflow_id: str | None
    n8n_execution_id: str | None
    status: str
    started_at: str
    finished_at: str | None = None
    duration_ms: int | None = None
    error_class: str | None = None
    error_name: str | None = None
    failed_node: str | None = None
    last_node: str | None = None
    tokens: dict[str, Any] | None = None
    cost: float | None = None
    trigger_source: str = "api"
    payload_hash: str | None = None

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """What a finished n8n execution (and its sub-executions) came to."""

    status: str
    n8n_execution_id: str | None = None
    finished_at: str | None = None
    duration_ms: int | None = None
    error_class: str | None = None
    error_name: str | None = None
    failed_node: str | None = None
    last_node: str | None = None
    tokens: dict[str, Any] = field(default_factory=dict)
    cost: float | None = None


def _record(row: tuple[Any, ...]) -> Record:
    data = dict(zip(_COLUMNS, row, strict=True))
    data["tokens"] = json.loads(data["tokens"]) if data["tokens"] else None
    return Record(**data)


class Records:
    """Every call is one short transaction, serialized by a lock (one connection)."""

    def __init__(self, store: Store, lock: threading.RLock | None = None) -> None:
        self.store = store
        self.lock = lock or threading.RLock()

    def _one(self, where: str, *args: Any) -> Record | None:
        with self.lock:
            row = self.store.conn.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM executions WHERE {where}", args).fetchone()
        return _record(row) if row else None

    def get(self, record_id: str, instance_id: str) -> Record | None:
        return self._one("id=? AND instance_id=?", record_id, instance_id)

    def by_n8n(self, instance_id: str, n8n_execution_id: str) -> Record | None:
        return self._one("instance_id=? AND n8n_execution_id=?", instance_id, n8n_execution_id)

    def create(self, *, instance_id: str, workflow_id: str, n8n_workflow_id: str | None,
               payload_hash: str | None, trigger_source: str = "api",
               outcome: Outcome | None = None) -> Record:
        record = Record(id=uuid7_str(), instance_id=instance_id, workflow_id=workflow_id,
                        n8n_workflow_id=n8n_workflow_id, n8n_execution_id=None,
                        status="pending", started_at=now(), trigger_source=trigger_source,
                        payload_hash=payload_hash)
        row = record.public()
        row["tokens"] = None
        with self.lock, self.store.transaction() as c:
            c.execute(f"INSERT INTO executions ({', '.join(_COLUMNS)}, updated_at) VALUES "
                      f"({', '.join('?' for _ in _COLUMNS)}, ?)", [*row.values(), now()])
        return self.finish(record, outcome) if outcome is not None else record

    def finish(self, record: Record, outcome: Outcome) -> Record:
        """Write a final (or newly linked) state; a row already final is left alone."""
        values = {k: v for k, v in asdict(outcome).items() if k != "n8n_execution_id"}
        values["tokens"] = json.dumps(outcome.tokens, sort_keys=True) if outcome.tokens else None
        sets = ", ".join(f"{k}=?" for k in values)
        with self.lock, self.store.transaction() as c:
            c.execute(f"UPDATE executions SET {sets}, updated_at=? WHERE id=? "
                      "AND status='pending'", [*values.values(), now(), record.id])
        if outcome.n8n_execution_id:
            self.link(record, outcome.n8n_execution_id)
        with self.lock:  # a kill before this line is settled by the next reader
            ledger.debit(self.store, record.id)
        found = self.get(record.id, record.instance_id)
        assert found is not None
        return found

    def link(self, record: Record, n8n_execution_id: str) -> None:
        # One n8n execution belongs to one record: a racing second link is a no-op.
        with self.lock, self.store.transaction() as c:
            c.execute("UPDATE executions SET n8n_execution_id=?, updated_at=? WHERE id=? AND "
                      "n8n_execution_id IS NULL AND NOT EXISTS (SELECT 1 FROM executions "
                      "WHERE instance_id=? AND n8n_execution_id=?)",
                      (n8n_execution_id, now(), record.id, record.instance_id,
                       n8n_execution_id))

    def linked(self, instance_id: str, n8n_workflow_id: str) -> set[str]:
        with self.lock:
            rows = self.store.conn.execute(
                "SELECT n8n_execution_id FROM executions WHERE instance_id=? AND "
                "n8n_workflow_id=? AND n8n_execution_id IS NOT NULL",
                (instance_id, n8n_workflow_id)).fetchall()
        return {str(r[0]) for r in rows}

    def find(self, record_id: str) -> Record | None:
        """Any instance's record: for the operator's CLI, never for an API key."""
        return self._one("id=?", record_id)

    def search(self, instance_id: str | None, *, workflow_id: str | None = None,
               status: str | None = None, since: str | None = None,
               limit: int = 50) -> list[Record]:
        """Newest first; `instance_id` None (the operator's CLI) searches every instance."""
        where: list[str] = ["1=1"]
        args: list[Any] = []
        for column, value, op in (("instance_id", instance_id, "="),
                                  ("workflow_id", workflow_id, "="), ("status", status, "="),
                                  ("started_at", since, ">=")):
            if value is not None:
                where.append(f"{column}{op}?")
                args.append(value)
        with self.lock:
            rows = self.store.conn.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM executions WHERE {' AND '.join(where)} "
                "ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
        return [_record(r) for r in rows]

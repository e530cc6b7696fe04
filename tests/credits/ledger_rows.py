"""Rows a ledger test needs, written straight into a state: an instance, the template
its version runs (with workflow costs) and execution records."""

from __future__ import annotations

import json

from reconciler.store.db import Store, now

INSTANCE_COLUMNS = ("id", "use_case", "owner_user", "owner_org", "environment", "automatic",
                    "version", "pinned", "active", "state", "sharing", "parameters",
                    "created_at", "updated_at")


def add_instance(store: Store, instance_id: str, *, org: str = "acme", user: str | None = None,
                 use_case: str = "echo", version: str = "1.0.0",
                 costs: dict[str, int] | None = None) -> None:
    config = {"workflows": [{"id": wf, "cost": c} for wf, c in (costs or {"echo": 5}).items()]}
    with store.transaction() as c:
        c.execute("INSERT OR IGNORE INTO templates (id, use_case, version, fingerprint, status,"
                  " config, workflows, skills, file_digests, created_at) VALUES "
                  "(?, ?, ?, 'f', 'published', ?, '{}', '{}', '{}', ?)",
                  (f"{use_case}@{version}", use_case, version, json.dumps(config), now()))
        c.execute(f"INSERT INTO instances ({', '.join(INSTANCE_COLUMNS)}) VALUES "
                  f"({', '.join('?' for _ in INSTANCE_COLUMNS)})",
                  (instance_id, use_case, user, org, "prod", 0, version, 0, 1, "active", "{}",
                   "{}", now(), now()))


def add_execution(store: Store, record_id: str, instance_id: str, *, workflow: str = "echo",
                  status: str = "success", n8n_id: str | None = "auto",
                  started: str = "2026-12-02T10:00:00.000+00:00") -> None:
    linked = f"n8n-{record_id}" if n8n_id == "auto" else n8n_id
    with store.transaction() as c:
        c.execute("INSERT INTO executions (id, instance_id, workflow_id, n8n_execution_id, "
                  "status, started_at, trigger_source, updated_at) VALUES "
                  "(?, ?, ?, ?, ?, ?, 'api', ?)",
                  (record_id, instance_id, workflow, linked, status, started, now()))


def ledger_rows(store: Store) -> list[tuple[str, str, str, int]]:
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in store.conn.execute(
        "SELECT execution_id, account, period, credits FROM ledger ORDER BY seq")]

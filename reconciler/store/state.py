"""Reading the platform state snapshot and the small writes the applier makes."""

from __future__ import annotations

import json
from typing import Any

from reconciler.model.platform import (
    CredentialRec,
    InstanceRec,
    MappingRec,
    PlatformState,
    ProcessRec,
    TemplateRec,
)
from reconciler.store import ledger
from reconciler.store.db import Store, now


def _j(text: str | None) -> Any:
    return json.loads(text) if text else {}


def snapshot(store: Store) -> PlatformState:
    c = store.conn
    row = c.execute("SELECT value FROM meta WHERE key='state_version'").fetchone()
    processes = {
        r[0]: ProcessRec(use_case=r[0], active_env=r[1], removed=bool(r[2]), visibility=r[3],
                         owner_user=r[4], owner_org=r[5])
        for r in c.execute("SELECT use_case, active_env, removed, visibility, owner_user,"
                           " owner_org FROM processes")
    }
    templates = {
        r[0]: TemplateRec(id=r[0], use_case=r[1], version=r[2], fingerprint=r[3], status=r[4],
                          revision=r[5], config=r[6], workflows=_j(r[7]), skills=_j(r[8]),
                          file_digests=_j(r[9]))
        for r in c.execute("SELECT id, use_case, version, fingerprint, status, revision, config,"
                           " workflows, skills, file_digests FROM templates")
    }
    instances = {
        r[0]: InstanceRec(id=r[0], use_case=r[1], owner_user=r[2], owner_org=r[3],
                          environment=r[4], automatic=bool(r[5]), version=r[6],
                          pinned=bool(r[7]), active=bool(r[8]), state=r[9], state_detail=r[10],
                          sharing=_j(r[11]), parameters=_j(r[12]))
        for r in c.execute("SELECT id, use_case, owner_user, owner_org, environment, automatic,"
                           " version, pinned, active, state, state_detail, sharing, parameters"
                           " FROM instances")
    }
    mappings = {
        (r[0], r[1]): MappingRec(instance_id=r[0], workflow_id=r[1], n8n_id=r[2],
                                 content_hash=r[3], version_id=r[4], published_version_id=r[5],
                                 archived=bool(r[6]))
        for r in c.execute("SELECT instance_id, workflow_id, n8n_id, content_hash, version_id,"
                           " published_version_id, archived FROM workflow_mappings")
    }
    credentials = {
        r[0]: CredentialRec(key=r[0], n8n_id=r[1], name=r[2], type=r[3], digest=r[4])
        for r in c.execute("SELECT key, n8n_id, name, type, digest FROM credentials")
    }
    notices = frozenset(
        (r[0], r[1], r[2])
        for r in c.execute("SELECT instance_id, kind, version FROM notices WHERE dismissed=0")
    )
    period = ledger.current_period()
    return PlatformState(
        version=int(row[0]) if row else 0,
        period=period, debits=ledger.debits_by_account(store, period),
        processes=processes,
        templates=templates,
        instances=instances,
        mappings=mappings,
        credentials=credentials,
        notices=notices,
    )


class StateWriter:
    """Every method is one small transaction, so a kill loses at most the step in flight."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def bump_version(self) -> None:
        with self.store.transaction() as c:
            c.execute("INSERT INTO meta(key, value) VALUES ('state_version', '1') "
                      "ON CONFLICT(key) DO UPDATE SET value = CAST(meta.value AS INTEGER) + 1")

    def upsert(self, table: str, row: dict[str, Any], pk: str | tuple[str, ...]) -> None:
        cols = list(row)
        keys = (pk,) if isinstance(pk, str) else pk
        updates = ", ".join(f"{c}=excluded.{c}" for c in cols if c not in keys) or None
        sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
               f"({', '.join('?' for _ in cols)}) ON CONFLICT({', '.join(keys)}) DO "
               + (f"UPDATE SET {updates}" if updates else "NOTHING"))
        values = [json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
                  for v in row.values()]
        with self.store.transaction() as c:
            c.execute(sql, values)

    def execute(self, sql: str, *args: Any) -> None:
        with self.store.transaction() as c:
            c.execute(sql, args)

    def insert_returning_id(self, sql: str, *args: Any) -> int:
        with self.store.transaction() as c:
            cur = c.execute(sql, args)
            return int(cur.lastrowid or 0)

    def add_notice(self, instance_id: str, kind: str, version: str, message: str) -> None:
        self.execute("INSERT OR IGNORE INTO notices (instance_id, kind, version, message, "
                     "created_at) VALUES (?, ?, ?, ?, ?)", instance_id, kind, version, message,
                     now())

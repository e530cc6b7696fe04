"""What the overview and the lists show, read from SQLite and scoped to the viewer.

A viewer of organization X sees only X's processes (the ones it owns), X's
instances and their executions, and of each run only the steps about those. Every
list is paginated (PAGE rows) with its total, so a page costs the same on a large
state as on a small one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.model.platform import INSTANCE_STATES
from reconciler.store.db import Connection, Store

PAGE = 50
STATE_LABELS = {"active": "active", "user_paused": "paused", "deploy_failed": "deploy failed",
                "missing_integration": "missing integration", "archived": "archived",
                "over_quota": "over quota"}
RUN_COLUMNS = ("id", "started_at", "finished_at", "trigger", "revision", "outcome", "reads",
               "writes", "summary", "error")


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total: int
    number: int  # 1-based

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE))


def rows(conn: Connection, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cur = conn.execute(sql, tuple(args))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


class Scope:
    """SQL conditions limiting what a viewer of one organization reads (None: all)."""

    def __init__(self, org: str | None) -> None:
        self.org = org

    def where(self, column: str) -> tuple[str, list[Any]]:
        return ("1=1", []) if self.org is None else (f"{column}=?", [self.org])

    def instance_ids(self, conn: Connection) -> set[str] | None:
        if self.org is None:
            return None
        return {r[0] for r in conn.execute("SELECT id FROM instances WHERE owner_org=?",
                                           (self.org,))}

    def use_cases(self, conn: Connection) -> set[str] | None:
        if self.org is None:
            return None
        return {r[0] for r in conn.execute("SELECT use_case FROM processes WHERE owner_org=?",
                                           (self.org,))}


def overview(store: Store, scope: Scope) -> dict[str, Any]:
    c = store.conn
    inst_where, inst_args = scope.where("owner_org")
    proc_where, proc_args = scope.where("owner_org")
    states = dict(c.execute(f"SELECT state, count(*) FROM instances WHERE {inst_where} "
                            "GROUP BY state", inst_args).fetchall())
    envs = dict(c.execute(f"SELECT environment, count(*) FROM instances WHERE {inst_where} "
                          "GROUP BY environment ORDER BY environment", inst_args).fetchall())
    joined, joined_args = scope.where("i.owner_org")
    notices = c.execute("SELECT count(*) FROM notices n JOIN instances i ON i.id=n.instance_id"
                        f" WHERE n.dismissed=0 AND {joined}", joined_args).fetchone()[0]
    processes = c.execute(f"SELECT count(*) FROM processes WHERE {proc_where}",
                          proc_args).fetchone()[0]
    last = last_run(store, scope)
    return {
        "processes": processes,
        "states": [(s, STATE_LABELS[s], states.get(s, 0)) for s in INSTANCE_STATES],
        "environments": sorted(envs.items()),
        "instances": sum(states.values()),
        "notices": notices,
        "last_run": last,
        "running": running_run(store),
        "recent_notices": scoped_notices(store, scope, limit=10),
    }


def last_run(store: Store, scope: Scope) -> dict[str, Any] | None:
    found = rows(store.conn, f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE finished_at IS "
                 "NOT NULL ORDER BY id DESC LIMIT 1")
    return scoped_run(store.conn, found[0], scope) if found else None


def running_run(store: Store) -> dict[str, Any] | None:
    found = rows(store.conn, "SELECT r.id, r.started_at, r.trigger, (SELECT count(*) FROM "
                 "run_steps s WHERE s.run_id=r.id) AS steps FROM runs r WHERE r.finished_at "
                 "IS NULL ORDER BY r.id DESC LIMIT 1")
    return found[0] if found else None


def scoped_run(conn: Connection, run: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """A run row with its summary parsed; a viewer gets only its own drift, no error text."""
    out = dict(run)
    summary = json.loads(out.get("summary") or "{}") if isinstance(out.get("summary"), str) \
        else dict(out.get("summary") or {})
    drift = [str(t) for t in summary.get("drift", [])]
    ids = scope.instance_ids(conn)
    if ids is not None:
        drift = [t for t in drift if t.split("/", 1)[0] in ids]
        summary = {k: v for k, v in summary.items() if k in ("duration_s", "outcomes")}
        if out.get("error"):
            out["error"] = "this run failed; the admin view shows why"
    out["summary"] = summary
    out["drift"] = drift
    return out


def scoped_notices(store: Store, scope: Scope, *, limit: int) -> list[dict[str, Any]]:
    where, args = scope.where("i.owner_org")
    return rows(store.conn, "SELECT n.instance_id, n.kind, n.version, n.message, n.created_at "
                "FROM notices n JOIN instances i ON i.id=n.instance_id WHERE n.dismissed=0 "
                f"AND {where} ORDER BY n.id DESC LIMIT ?", [*args, limit])


def _filters(spec: dict[str, Any]) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    for column, value in spec.items():
        if value not in (None, ""):
            where.append(f"{column}=?")
            args.append(value)
    return where, args


def instances(store: Store, scope: Scope, *, state: str | None = None,
              environment: str | None = None, use_case: str | None = None,
              notices: bool = False, page: int = 1) -> Page:
    where, args = _filters({"i.state": state, "i.environment": environment,
                            "i.use_case": use_case})
    org_where, org_args = scope.where("i.owner_org")
    where.append(org_where)
    args += org_args
    if notices:
        where.append("EXISTS (SELECT 1 FROM notices n WHERE n.instance_id=i.id AND "
                     "n.dismissed=0)")
    cond = " AND ".join(where)
    total = store.conn.execute(f"SELECT count(*) FROM instances i WHERE {cond}",
                               args).fetchone()[0]
    found = rows(store.conn, "SELECT i.id, i.use_case, i.owner_user, i.owner_org, "
                 "i.environment, i.version, i.pinned, i.active, i.state, i.state_detail, "
                 "(SELECT count(*) FROM notices n WHERE n.instance_id=i.id AND n.dismissed=0)"
                 f" AS notices FROM instances i WHERE {cond} ORDER BY i.id LIMIT ? OFFSET ?",
                 [*args, PAGE, (page - 1) * PAGE])
    return Page(found, total, page)


def processes(store: Store, scope: Scope) -> list[dict[str, Any]]:
    where, args = scope.where("p.owner_org")
    inst_where, inst_args = scope.where("i.owner_org")
    return rows(store.conn, "SELECT p.use_case, p.title, p.type, p.owner_org, p.active_env, "
                "p.removed, (SELECT count(*) FROM instances i WHERE i.use_case=p.use_case AND "
                f"{inst_where}) AS instances, (SELECT count(*) FROM templates t WHERE "
                f"t.use_case=p.use_case) AS templates FROM processes p WHERE {where} "
                "ORDER BY p.use_case", [*inst_args, *args])


def runs(store: Store, scope: Scope, *, outcome: str | None = None,
         trigger: str | None = None, page: int = 1) -> Page:
    where, args = _filters({"outcome": outcome})
    if trigger:
        where.append("trigger LIKE ?")
        args.append(f"%{trigger}%")
    cond = " AND ".join(where) or "1=1"
    total = store.conn.execute(f"SELECT count(*) FROM runs WHERE {cond}", args).fetchone()[0]
    found = rows(store.conn, f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE {cond} "
                 "ORDER BY id DESC LIMIT ? OFFSET ?", [*args, PAGE, (page - 1) * PAGE])
    return Page([scoped_run(store.conn, r, scope) for r in found], total, page)


def executions(store: Store, scope: Scope, *, status: str | None = None,
               instance_id: str | None = None, page: int = 1) -> Page:
    where, args = _filters({"e.status": status, "e.instance_id": instance_id})
    org_where, org_args = scope.where("i.owner_org")
    where.append(org_where)
    args += org_args
    cond = " AND ".join(where)
    join = "FROM executions e JOIN instances i ON i.id=e.instance_id"
    total = store.conn.execute(f"SELECT count(*) {join} WHERE {cond}", args).fetchone()[0]
    found = rows(store.conn, "SELECT e.id, e.instance_id, e.workflow_id, e.status, "
                 "e.started_at, e.duration_ms, e.error_class, e.failed_node, e.last_node, "
                 f"e.tokens, e.cost {join} WHERE {cond} ORDER BY e.id DESC LIMIT ? OFFSET ?",
                 [*args, PAGE, (page - 1) * PAGE])
    for row in found:
        row["tokens"] = json.loads(row["tokens"]) if row["tokens"] else None
    return Page(found, total, page)

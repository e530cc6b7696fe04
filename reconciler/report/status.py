"""`status` and `history`: what the platform holds now, and what the runs did."""

from __future__ import annotations

import json
from typing import Any

from reconciler.report.table import table
from reconciler.store.db import Store


def status_data(store: Store) -> dict[str, Any]:
    c = store.conn
    processes = [
        {"use_case": r[0], "title": r[1], "type": r[2], "active_env": r[3]}
        for r in c.execute("SELECT use_case, title, type, active_env FROM processes "
                           "ORDER BY use_case")
    ]
    templates = [
        {"id": r[0], "status": r[1], "fingerprint": r[2], "created_at": r[3]}
        for r in c.execute("SELECT id, status, fingerprint, created_at FROM templates "
                           "ORDER BY use_case, created_at")
    ]
    notices: dict[str, list[str]] = {}
    for inst, message in c.execute("SELECT instance_id, message FROM notices WHERE "
                                   "dismissed=0 ORDER BY id"):
        notices.setdefault(inst, []).append(message)
    instances = [
        {"id": r[0], "use_case": r[1], "owner": r[2] or r[3], "environment": r[4],
         "version": r[5], "pinned": bool(r[6]), "active": bool(r[7]), "state": r[8],
         "detail": r[9], "notices": notices.get(r[0], [])}
        for r in c.execute("SELECT id, use_case, owner_user, owner_org, environment, version,"
                           " pinned, active, state, state_detail FROM instances ORDER BY id")
    ]
    return {"processes": processes, "templates": templates, "instances": instances}


def status_text(data: dict[str, Any]) -> str:
    lines = ["Processes:", table(["use case", "type", "active env"], [
        (p["use_case"], p["type"], p["active_env"]) for p in data["processes"]]), "",
        "Templates:", table(["template", "status", "fingerprint"], [
            (t["id"], t["status"], t["fingerprint"][:19]) for t in data["templates"]]), "",
        "Instances:", table(["instance", "state", "env", "version", "follows", "published"], [
            (i["id"], i["state"], i["environment"], i["version"],
             "pinned" if i["pinned"] else "newest", "yes" if i["active"] else "no")
            for i in data["instances"]])]
    notices = [(i["id"], n) for i in data["instances"] for n in i["notices"]]
    if notices:
        lines += ["", "Notices:", table(["instance", "notice"], notices)]
    return "\n".join(lines)


def history_rows(store: Store, limit: int) -> list[dict[str, Any]]:
    cur = store.conn.execute("SELECT id, started_at, trigger, revision, outcome, reads, writes,"
                             " error FROM runs ORDER BY id DESC LIMIT ?", (limit,))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def history_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no runs yet"
    return table(["run", "started", "trigger", "revision", "outcome", "reads", "writes"], [
        (r["id"], r["started_at"], r["trigger"], (r["revision"] or "-")[:12],
         r["outcome"] or "running", r["reads"], r["writes"]) for r in rows])


def as_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str)

"""`status` and `history`: what the platform holds now, and what the runs did."""

from __future__ import annotations

import json
from typing import Any

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
    lines = ["Processes:"]
    lines += [f"  {p['use_case']:<24} {p['type']:<15} active env: {p['active_env']}"
              for p in data["processes"]]
    lines.append("Templates:")
    lines += [f"  {t['id']:<32} {t['status']:<11} {t['fingerprint'][:19]}"
              for t in data["templates"]]
    lines.append("Instances:")
    for i in data["instances"]:
        pin = "pinned" if i["pinned"] else "follows"
        on = "on" if i["active"] else "off"
        lines.append(f"  {i['id']:<34} {i['state']:<20} {i['environment']:<5} "
                     f"{i['version'] or '-':<8} {pin:<8} {on}")
        lines += [f"      notice: {n}" for n in i["notices"]]
    return "\n".join(lines)


def history_rows(store: Store, limit: int) -> list[dict[str, Any]]:
    cur = store.conn.execute("SELECT id, started_at, trigger, revision, outcome, reads, writes,"
                             " error FROM runs ORDER BY id DESC LIMIT ?", (limit,))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def history_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no runs yet"
    return "\n".join(
        f"{r['id']:>5}  {r['started_at']}  {r['trigger']:<8} {(r['revision'] or '-')[:12]:<12} "
        f"{r['outcome'] or 'running':<11} reads {r['reads']:<4} writes {r['writes']}"
        for r in rows)


def as_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str)

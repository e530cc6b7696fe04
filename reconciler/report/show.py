"""Reconcile reports read back from SQLite: text, markdown, json and JUnit XML."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from reconciler.errors import UsageError
from reconciler.store.db import Store


def run_record(store: Store, run: str | int) -> dict[str, Any]:
    conn = store.conn
    if run == "latest":
        row = conn.execute("SELECT max(id) FROM runs WHERE finished_at IS NOT NULL").fetchone()
        if row is None or row[0] is None:
            raise UsageError("no reconcile run is recorded yet")
        run = int(row[0])
    cur = conn.execute("SELECT id, started_at, finished_at, trigger, revision, outcome, reads,"
                       " writes, summary, error FROM runs WHERE id=?", (int(run),))
    row = cur.fetchone()
    if row is None:
        raise UsageError(f"no run {run}")
    names = [d[0] for d in cur.description]
    record = dict(zip(names, row, strict=True))
    record["summary"] = json.loads(record["summary"] or "{}")
    steps = conn.execute("SELECT seq, kind, instance_id, target, detail, outcome, error,"
                         " duration_ms FROM run_steps WHERE run_id=? ORDER BY seq",
                         (record["id"],)).fetchall()
    record["steps"] = [
        {"seq": s[0], "kind": s[1], "instance": s[2], "target": s[3],
         "detail": json.loads(s[4]), "outcome": s[5], "error": s[6], "duration_ms": s[7]}
        for s in steps
    ]
    record["notices"] = [
        {"instance": n[0], "kind": n[1], "version": n[2], "message": n[3]}
        for n in conn.execute("SELECT instance_id, kind, version, message FROM notices "
                              "WHERE dismissed=0 ORDER BY id")
    ]
    return record


def _step_line(step: dict[str, Any]) -> str:
    mark = {"applied": "+", "failed": "!", "skipped": "-"}.get(step["outcome"], "?")
    text = f"  {mark} {step['kind']} {step['target']} ({step['outcome']}, "
    text += f"{step['duration_ms']:.0f} ms)"
    if step["error"]:
        text += f"\n      {step['error']}"
    for diff in step["detail"].get("diff", []) or []:
        text += f"\n      ~ {diff}"
    return text


def report_text(rec: dict[str, Any]) -> str:
    lines = [
        f"Run {rec['id']} ({rec['trigger']}) at {rec['started_at']}: {rec['outcome']}",
        f"  revision {rec['revision'] or '-'}, n8n reads {rec['reads']}, "
        f"writes {rec['writes']}, {rec['summary'].get('duration_s', 0)} s",
    ]
    if rec["error"]:
        lines.append(f"  error: {rec['error']}")
    lines += [_step_line(s) for s in rec["steps"]]
    if rec["notices"]:
        lines.append("Notices:")
        lines += [f"  {n['instance']}: {n['message']}" for n in rec["notices"]]
    return "\n".join(lines)


def report_markdown(rec: dict[str, Any]) -> str:
    out = [f"### Reconcile run {rec['id']}: `{rec['outcome']}`", "",
           "| revision | trigger | n8n reads | n8n writes | duration |", "|---|---|---|---|---|",
           f"| `{(rec['revision'] or '-')[:12]}` | {rec['trigger']} | {rec['reads']} | "
           f"{rec['writes']} | {rec['summary'].get('duration_s', 0)} s |", ""]
    if rec["error"]:
        out += [f"**Error:** {rec['error']}", ""]
    if rec["steps"]:
        out.append(f"<details><summary>{len(rec['steps'])} step(s)</summary>\n")
        out += [f"- `{s['outcome']}` {s['kind']} {s['target']}"
                + (f": {s['error']}" if s["error"] else "") for s in rec["steps"]]
        out.append("\n</details>")
    if rec["notices"]:
        out += ["", "**Notices**", ""] + [f"- {n['instance']}: {n['message']}"
                                           for n in rec["notices"]]
    return "\n".join(out) + "\n"


def report_junit(rec: dict[str, Any]) -> str:
    suite = ET.Element("testsuite", name=f"reconcile-run-{rec['id']}",
                       tests=str(len(rec["steps"]) or 1),
                       failures=str(sum(s["outcome"] == "failed" for s in rec["steps"])),
                       skipped=str(sum(s["outcome"] == "skipped" for s in rec["steps"])))
    if not rec["steps"]:
        case = ET.SubElement(suite, "testcase", classname="reconcile", name="no changes")
        if rec["error"]:
            ET.SubElement(case, "failure", message=rec["error"])
    for step in rec["steps"]:
        case = ET.SubElement(suite, "testcase", classname=step["instance"] or "platform",
                             name=f"{step['kind']} {step['target']}",
                             time=f"{step['duration_ms'] / 1000:.3f}")
        if step["outcome"] == "failed":
            ET.SubElement(case, "failure", message=step["error"] or "failed")
        elif step["outcome"] == "skipped":
            ET.SubElement(case, "skipped", message=step["error"] or "skipped")
    return ET.tostring(suite, encoding="unicode")


def render_run(store: Store, run: str | int, fmt: str) -> str:
    rec = run_record(store, run)
    if fmt == "json":
        return json.dumps(rec, indent=2, sort_keys=True, default=str)
    if fmt == "markdown":
        return report_markdown(rec)
    if fmt == "junit":
        return report_junit(rec)
    return report_text(rec)

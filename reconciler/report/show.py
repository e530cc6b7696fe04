"""Reconcile reports read back from SQLite: text, markdown, json and JUnit XML."""

from __future__ import annotations

import json
from typing import Any

import click

from reconciler.errors import InvalidInput, Problem
from reconciler.model.junit import Case, Suite, junit_xml
from reconciler.plan.diff import diff_line
from reconciler.plan.summary import summarize, writes_n8n
from reconciler.report.table import table
from reconciler.report.usage import usage_line
from reconciler.store.db import Store


def run_record(store: Store, run: str | int) -> dict[str, Any]:
    conn = store.conn
    if run == "latest":
        row = conn.execute("SELECT max(id) FROM runs WHERE finished_at IS NOT NULL").fetchone()
        if row is None or row[0] is None:
            raise InvalidInput([Problem(store.label, "no reconcile run is recorded yet")])
        run = int(row[0])
    cur = conn.execute("SELECT id, started_at, finished_at, trigger, revision, outcome, reads,"
                       " writes, summary, error FROM runs WHERE id=?", (int(run),))
    row = cur.fetchone()
    if row is None:
        raise InvalidInput([Problem(store.label, f"no run {run}")])
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


def _diff_lines(step: dict[str, Any], arrow: str) -> list[str]:
    # Runs recorded before diffs held old and new values kept plain strings.
    return [d if isinstance(d, str) else diff_line(d, arrow)
            for d in step["detail"].get("diff", []) or []]


def _items(rec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(s["instance"] or "", s["kind"], s["detail"]) for s in rec["steps"]]


def _by_kind(rec: dict[str, Any]) -> list[list[Any]]:
    """kind, steps, applied, failed, skipped, n8n write steps."""
    rows: dict[str, list[Any]] = {}
    for step in rec["steps"]:
        row = rows.setdefault(step["kind"], [step["kind"], 0, 0, 0, 0, 0])
        row[1] += 1
        if step["outcome"] in OUTCOMES:
            row[2 + OUTCOMES.index(step["outcome"])] += 1
        row[5] += writes_n8n(step["kind"])
    return [rows[k] for k in sorted(rows)]


OUTCOMES = ("applied", "failed", "skipped")


def _warnings(rec: dict[str, Any]) -> list[str]:
    return [str(w) for w in rec["summary"].get("warnings", []) or []]


def _step_line(step: dict[str, Any]) -> str:
    mark = {"applied": "+", "failed": "!", "skipped": "-"}.get(step["outcome"], "?")
    text = f"  {mark} {step['kind']} {step['target']} ({step['outcome']}, "
    text += f"{step['duration_ms']:.0f} ms)"
    if step["error"]:
        text += f"\n      {step['error']}"
    for line in _diff_lines(step, "->"):
        text += f"\n      ~ {line}"
    return text


KIND_HEADERS = ["step", "count", "applied", "failed", "skipped", "n8n writes"]


def report_text(rec: dict[str, Any]) -> str:
    summary = summarize(_items(rec))
    lines = [
        f"Run {rec['id']} ({rec['trigger']}) at {rec['started_at']}: {rec['outcome']}",
        f"  {summary.line()}",
        f"  revision {rec['revision'] or '-'}, n8n requests: {rec['reads']} read(s), "
        f"{rec['writes']} write(s), {rec['summary'].get('duration_s', 0)} s",
    ]
    if rec["error"]:
        lines.append(f"  error: {rec['error']}")
    lines += [f"  {u}" for u in [usage_line(rec)] if u]
    lines += [f"warning: {w}" for w in _warnings(rec)]
    drift = rec["summary"].get("drift") or []
    if drift:
        lines.append(f"Drift (hand edits in n8n): {', '.join(map(str, drift))}")
    if rec["steps"]:
        lines += ["", table(KIND_HEADERS, _by_kind(rec)), ""]
    lines += [_step_line(s) for s in rec["steps"]]
    if rec["notices"]:
        lines += ["", "Notices:", table(["instance", "notice"],
                                         [(n["instance"], n["message"]) for n in rec["notices"]])]
    return "\n".join(lines)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def report_markdown(rec: dict[str, Any]) -> str:
    summary = summarize(_items(rec))
    out = [f"### Reconcile run {rec['id']}: `{rec['outcome']}`", "",
           f"**Summary:** {summary.line()}", "",
           "| revision | trigger | n8n reads | n8n writes | duration |", "|---|---|---|---|---|",
           f"| `{(rec['revision'] or '-')[:12]}` | {rec['trigger']} | {rec['reads']} | "
           f"{rec['writes']} | {rec['summary'].get('duration_s', 0)} s |", ""]
    if rec["error"]:
        out += [f"**Error:** {_md(rec['error'])}", ""]
    out += [f"**Usage:** {_md(u)}\n" for u in [usage_line(rec)] if u]
    out += [f"> **Warning:** {_md(w)}" for w in _warnings(rec)]
    out += [""] if _warnings(rec) else []
    drift = rec["summary"].get("drift") or []
    if drift:
        out += ["#### Drift (hand edits in n8n)", "", *(f"- `{_md(d)}`" for d in drift), ""]
    if rec["steps"]:
        out += ["| " + " | ".join(KIND_HEADERS) + " |", "|" + "---|" * len(KIND_HEADERS)]
        out += ["| " + " | ".join(f"`{c}`" if i == 0 else str(c) for i, c in enumerate(row))
                + " |" for row in _by_kind(rec)]
        out += ["", f"<details><summary>{len(rec['steps'])} step(s)</summary>", ""]
        for s in rec["steps"]:
            out.append(f"- `{s['outcome']}` {s['kind']} {_md(s['target'])}"
                       + (f": {_md(s['error'])}" if s["error"] else ""))
            out += [f"  - {_md(line)}" for line in _diff_lines(s, "→")]
        out += ["", "</details>"]
    if rec["notices"]:
        out += ["", "**Notices**", ""] + [f"- {n['instance']}: {_md(n['message'])}"
                                           for n in rec["notices"]]
    return "\n".join(out) + "\n"


def report_junit(rec: dict[str, Any]) -> str:
    """One case for the run's outcome, one per step; failures counted from the cases."""
    failed = rec["outcome"] not in ("applied", "no_changes", None)
    cases = [Case(name="run outcome", classname="reconcile",
                  failure=(rec["error"] or rec["outcome"]) if failed else None,
                  failure_type=rec["outcome"], output="\n".join(_warnings(rec)) or None)]
    for step in rec["steps"]:
        case = Case(name=f"{step['kind']} {step['target']}",
                    classname=step["instance"] or "platform",
                    time=step["duration_ms"] / 1000)
        if step["outcome"] == "failed":
            case.failure = step["error"] or "failed"
        elif step["outcome"] != "applied":
            case.skipped = step["error"] or step["outcome"]
        cases.append(case)
    return junit_xml(f"reconcile run {rec['id']}",
                     [Suite(f"reconcile-run-{rec['id']}", cases)])


def render_run(store: Store, run: str | int, fmt: str, color: bool = False) -> str:
    rec = run_record(store, run)
    if fmt == "json":
        return json.dumps(rec, indent=2, sort_keys=True, default=str)
    if fmt == "markdown":
        return report_markdown(rec)
    if fmt == "junit":
        return report_junit(rec)
    text = report_text(rec)
    return _colored(text) if color else text


def _colored(text: str) -> str:
    styles = {"  ! ": "red", "warning:": "yellow", "  + ": "green"}
    out = []
    for line in text.splitlines():
        fg = next((c for prefix, c in styles.items() if line.startswith(prefix)), None)
        out.append(click.style(line, fg=fg) if fg else line)
    return "\n".join(out)

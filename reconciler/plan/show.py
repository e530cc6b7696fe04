"""Render a plan for people (text, markdown for a pull-request comment) and machines (json).

Every format starts with the same summary (`plan.summary`), then what touches
production, then drift, then each instance's steps with their field-level diffs.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.catalog import access_lines, access_markdown
from reconciler.plan.diff import diff_line
from reconciler.plan.planner import Plan
from reconciler.plan.steps import Step
from reconciler.plan.summary import (
    Summary,
    plan_items,
    production_impact,
    summarize,
)

# GitHub refuses comments above 65,536 characters; leave room for a caller's header.
MARKDOWN_LIMIT = 60_000
TITLE = "n8n-reconciler plan"
LIST_MAX = 100  # items of the production-impact and drift lists shown


def _drift(plan: Plan) -> list[Step]:
    return [s for s in plan.steps
            if s.kind == "report_drift" or getattr(s, "reason", "") == "drift"]


def plan_json(plan: Plan, extra: dict[str, Any] | None = None) -> str:
    items = plan_items(plan.steps)
    return json.dumps({
        "revision": plan.revision, "state_version": plan.state_version,
        "fingerprint": plan.fingerprint(), "changes": plan.changes,
        "n8n_writes": plan.n8n_writes, "summary": summarize(items).as_dict(),
        "production_impact": [_plain(s) for s in production_impact(items)],
        "drift": [s.target() for s in _drift(plan)], "warnings": list(plan.notes),
        "held": [{"kind": k, "id": i, "problems": [str(p) for p in ps]}
                 for k, i, ps in plan.held],
        "steps": [s.as_dict() for s in plan.steps], **(extra or {}),
    }, indent=2, sort_keys=True, default=str)


def _held(plan: Plan) -> list[str]:
    lines = []
    for kind, ident, problems in plan.held:
        lines.append(f"{kind.replace('_', ' ')} {ident or '(everything)'}")
        lines += [f"    {p}" for p in problems]
    return lines


def _line(step: Step) -> str:
    wait = f" (once {step.after_group} is live)" if step.after_group else ""
    return step.summary() + wait


def _plain(sentence: str) -> str:
    return sentence.replace("**", "").replace("`", "")


def _groups(plan: Plan) -> dict[str, list[Step]]:
    groups: dict[str, list[Step]] = {}
    for step in plan.steps:
        groups.setdefault(step.group or "", []).append(step)
    return groups


def _diffs(step: Step) -> list[dict[str, Any]]:
    return list(getattr(step, "diff", None) or [])


def plan_text(plan: Plan) -> str:
    held = _held(plan)
    tail = ["", f"Held back ({len(plan.held)}): nothing of these is planned, what is live "
            "stays live", *(f"  ! {line}" for line in held)] if held else []
    if not plan.steps:
        return "\n".join(["No changes: n8n and the state match the repository.", *tail])
    items = plan_items(plan.steps)
    summary = summarize(items)
    lines = [f"Plan: {summary.line()}"]
    lines += [f"warning: {note}" for note in plan.notes]
    impact = production_impact(items)
    if impact:
        lines.append("PRODUCTION IMPACT:")
        lines += [f"  ! {_plain(s)}" for s in impact]
    lines += [f"ACCESS: {line}" for line in access_lines(plan.steps)]
    drift = _drift(plan)
    if drift:
        lines.append(f"Drift (hand edits in n8n): {', '.join(s.target() for s in drift)}")
    for group, steps in _groups(plan).items():
        lines.append(f"{_heading(group, summary)}:")
        for step in steps:
            lines.append(f"  + {_line(step)}")
            lines += [f"      ~ {diff_line(d, '->')}" for d in _diffs(step)]
    return "\n".join(lines + tail)


def _held_markdown(plan: Plan) -> list[str]:
    if not plan.held:
        return []
    out = [f"#### :no_entry: Held back ({len(plan.held)})", "",
           "The gate refused these; what is live for them stays live.", ""]
    for kind, ident, problems in plan.held[:LIST_MAX]:
        out.append(f"- **{kind.replace('_', ' ')} `{ident or 'platform'}`**")
        out += [f"  - `{_cell(p.location())}`: {_cell(p.message)}" for p in problems[:20]]
    out += [f"- _and {len(plan.held) - LIST_MAX} more_"] if len(plan.held) > LIST_MAX else []
    return [*out, ""]


def _heading(group: str, summary: Summary) -> str:
    if not group:
        return "platform"
    record = summary.records.get(group, {}).get("record") or {}
    facts = [str(record[k]) for k in ("environment", "version") if record.get(k)]
    return f"{group} ({', '.join(facts)})" if facts else group


def _fence(lines: list[str]) -> list[str]:
    """A code block no value can close early (its fence is longer than any in it)."""
    ticks = "`" * max(3, _backtick_run(lines) + 1)
    return [ticks + "text", *lines, ticks]


def _backtick_run(lines: list[str]) -> int:
    best = run = 0
    for ch in "\n".join(lines):
        run = run + 1 if ch == "`" else 0
        best = max(best, run)
    return best


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(group: str, steps: list[Step], summary: Summary, room: int) -> str | None:
    """One collapsible section in at most `room` characters: its steps while they fit,
    the rest counted; None when not even its heading fits."""
    counts = summary.instances.get(group)
    writes = counts.n8n_writes if counts else sum(s.writes_n8n for s in steps)
    head = (f"<details><summary><b>{_cell(_heading(group, summary))}</b>: {len(steps)} "
            f"step(s), {writes} n8n write(s)</summary>\n")
    tail = "\n\n</details>\n"
    used = len(head) + len(tail) + 120  # the "more steps" line
    if used > room:
        return None
    out = [head]
    for index, step in enumerate(steps):
        lines = [f"- {_cell(_line(step))}"]
        diffs = [diff_line(d) for d in _diffs(step)]
        if diffs:
            lines += ["", *("  " + line for line in _fence(diffs)), ""]
        text = "\n".join(lines)
        if used + len(text) + 1 > room:
            out.append(f"- _{len(steps) - index} more step(s) not shown (the comment's "
                       "size limit)_")
            break
        out.append(text)
        used += len(text) + 1
    return "\n".join(out) + tail


def _table(summary: Summary, shown: list[str]) -> list[str]:
    head = ["instance", "create", "update", "publish", "unpublish", "archive", "delete",
            "n8n writes"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group in shown:
        c = summary.instances[group]
        cells = [f"`{_cell(group)}`", *(str(c.workflows[a]) for a in head[1:7]),
                 str(c.n8n_writes)]
        rows.append("| " + " | ".join(cells) + " |")
    t = summary.total
    rows.append("| **total** | " + " | ".join(str(t.workflows[a]) for a in head[1:7])
                + f" | {t.n8n_writes} |")
    return rows


def plan_markdown(plan: Plan, title: str = TITLE, limit: int = MARKDOWN_LIMIT) -> str:
    if not plan.steps:
        return f"### {title}\n\nNo changes.\n" + "\n".join(["", *_held_markdown(plan)])
    items = plan_items(plan.steps)
    summary = summarize(items)
    at = f" at `{plan.revision[:12]}`" if plan.revision else ""
    head = [f"### {title}", "", f"**Summary**{at}: {summary.line()}", ""]
    head += [f"> **Warning:** {_cell(n)}" for n in plan.notes] + ([""] if plan.notes else [])
    head += _held_markdown(plan)
    impact = production_impact(items)
    if impact:
        head += ["#### ⚠️ Production impact", "", *(f"- {s}" for s in impact[:LIST_MAX])]
        head += [f"- _and {len(impact) - LIST_MAX} more_"] if len(impact) > LIST_MAX else []
        head.append("")
    head += access_markdown(plan.steps, LIST_MAX)
    drift = _drift(plan)
    if drift:
        head += ["#### Drift (hand edits in n8n)", "",
                 *(f"- `{_cell(s.target())}`: {len(_diffs(s))} field(s)"
                   + (" reverted" if s.kind == "put_workflow" else " reported, not reverted")
                   for s in drift[:LIST_MAX])]
        head += [f"- _and {len(drift) - LIST_MAX} more_"] if len(drift) > LIST_MAX else []
        head.append("")
    groups = _groups(plan)
    return _fit(head, groups, summary, limit)


def _fit(head: list[str], groups: dict[str, list[Step]], summary: Summary, limit: int) -> str:
    """Whole sections while they fit (a section too big alone is cut inside); the
    instances left out are counted as "N more instances"."""
    names = [g for g in groups if g]
    sections: list[str] = []
    shown: list[str] = []
    room = limit - len("\n".join(head)) - len("\n".join(_table(summary, []))) - 300
    for name in ([""] if "" in groups else []) + names:
        room -= (90 + len(name)) if name else 0  # its row in the table
        text = _section(name, groups[name], summary, room)
        if text is None:
            break
        sections.append(text)
        room -= len(text) + 1
        if name:
            shown.append(name)
    body = [*head, *_table(summary, shown), "", *sections]
    hidden = len(names) - len(shown)
    if hidden:
        body.append(f"_{hidden} more instance(s) not shown (the comment's size limit): "
                    "run `reconciler plan` for all of it._")
    return "\n".join(body).rstrip() + "\n"


def render_plan(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return plan_json(plan)
    if fmt == "markdown":
        return plan_markdown(plan)
    return plan_text(plan)

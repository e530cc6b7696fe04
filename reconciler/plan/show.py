"""Render a plan for people (text, markdown for a pull-request comment) and machines (json)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from reconciler.plan.planner import Plan
from reconciler.plan.steps import Step

MARKDOWN_LIMIT = 64_000  # GitHub refuses comments above 65,536 characters


def plan_json(plan: Plan, extra: dict[str, Any] | None = None) -> str:
    return json.dumps({
        "revision": plan.revision, "state_version": plan.state_version,
        "fingerprint": plan.fingerprint(), "changes": plan.changes,
        "n8n_writes": plan.n8n_writes, "steps": [s.as_dict() for s in plan.steps],
        "held": [{"kind": k, "id": i, "problems": [str(p) for p in ps]}
                 for k, i, ps in plan.held],
        **(extra or {}),
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


def plan_text(plan: Plan) -> str:
    held = _held(plan)
    tail = ["", f"Held back ({len(plan.held)}): nothing of these is planned, what is live "
            "stays live", *(f"  ! {line}" for line in held)] if held else []
    if not plan.steps:
        return "\n".join(["No changes: n8n and the state match the repository.", *tail])
    lines = [f"Plan: {plan.changes} step(s), {plan.n8n_writes} n8n write step(s)"]
    for step in plan.steps:
        lines.append(f"  + {_line(step)}")
        for diff in getattr(step, "diff", []) or []:
            lines.append(f"      ~ {diff}")
    return "\n".join(lines + tail)


def _held_markdown(plan: Plan) -> str:
    if not plan.held:
        return ""
    out = ["", f"#### :no_entry: Held back ({len(plan.held)})", "",
           "The gate refused these; what is live for them stays live.", ""]
    for kind, ident, problems in plan.held:
        out.append(f"- **{kind.replace('_', ' ')} `{ident or 'platform'}`**")
        out += [f"  - `{p.location()}`: {p.message}" for p in problems[:20]]
    return "\n".join(out) + "\n"


def plan_markdown(plan: Plan, title: str = "n8n-reconciler plan") -> str:
    if not plan.steps:
        return f"### {title}\n\nNo changes.\n" + _held_markdown(plan)
    by_group: dict[str, list[str]] = {}
    for step in plan.steps:
        by_group.setdefault(step.group or "platform", []).append(_line(step))
    kinds = Counter(step.kind for step in plan.steps)
    head = [f"### {title}", "",
            f"**{plan.changes}** step(s), **{plan.n8n_writes}** n8n write step(s)"
            + (f" at `{plan.revision[:12]}`" if plan.revision else ""), "",
            "| step | count |", "|---|---|"]
    head += [f"| `{kind}` | {count} |" for kind, count in sorted(kinds.items())]
    body: list[str] = [""]
    for group, lines in by_group.items():
        body.append(f"<details><summary><b>{group}</b>: {len(lines)} step(s)</summary>\n")
        body += [f"- {line}" for line in lines]
        body.append("\n</details>")
    text = "\n".join(head + body) + "\n" + _held_markdown(plan)
    if len(text) > MARKDOWN_LIMIT:
        cut = text[: MARKDOWN_LIMIT - 200].rsplit("\n", 1)[0]
        text = cut + "\n\n</details>\n\n_Plan truncated: run `reconciler plan` for all of it._\n"
    return text


def render_plan(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return plan_json(plan)
    if fmt == "markdown":
        return plan_markdown(plan)
    return plan_text(plan)

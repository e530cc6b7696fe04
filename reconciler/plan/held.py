"""The units a plan's gate held back, as lines for people (plan and apply print them)."""

from __future__ import annotations

from reconciler.plan.planner import Plan


def held_lines(plan: Plan) -> list[str]:
    """One line per unit the gate held back, with its first reasons."""
    out = []
    for kind, ident, problems in plan.held:
        why = "; ".join(f"{p} ({p.rule})" for p in problems[:3])
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        out.append(f"held {kind.replace('_', ' ')} {ident or 'platform'}: {why}{more}")
    return out

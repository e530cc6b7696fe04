"""Webhook paths checked on what the plan really deploys, against what is live.

`validate` checks the branch's templates (WEBHOOK-PATH-UNIQUE); here the planner
checks the versions it deploys (a pinned or published version may not be the
branch's) against each other and against the paths the state's deployments hold.
An installation that already serves a path keeps it: only the newcomer is held, so
one tenant cannot take another's path, nor make it stop updating, by declaring it.
"""

from __future__ import annotations

from reconciler.errors import Problem
from reconciler.load.stored import use_case_from_template
from reconciler.model.platform import template_id
from reconciler.plan.inputs import PlanInput
from reconciler.plan.instances import Desired
from reconciler.validate.gate import INSTANCE, Unit
from reconciler.validate.webhooks import Installation, collisions, hooks_of


def _current(inp: PlanInput) -> list[Installation]:
    """The webhooks the state's deployments serve now."""
    out: list[Installation] = []
    for rec in inp.state.instances.values():
        if rec.version is None or rec.state == "archived":
            continue
        stored = inp.state.templates.get(template_id(rec.use_case, rec.version))
        if stored is None:
            continue
        uc = use_case_from_template(stored)
        out += [(rec.id, hook.file, hook) for hook in hooks_of(uc, rec.id, rec.parameters)]
    return out


def webhook_problems(inp: PlanInput, desired: list[Desired]) -> list[tuple[Problem, Unit]]:
    planned: list[Installation] = []
    for d in desired:
        if d.template is None or d.archived:
            continue
        decl = inp.declared.instances.get(d.id)
        for hook in hooks_of(d.template, d.id, d.parameters):
            planned.append((d.id, decl.path if decl else hook.file, hook))
    ids = {item[0] for item in planned}
    current = _current(inp)
    serving = {(i, h.method, h.path) for i, _, h in current}
    kept = [item for item in current if item[0] not in ids]  # held or not planned
    found: dict[tuple[str, str], tuple[Problem, Unit]] = {}
    for a, b in collisions(planned + kept):
        a_new = a[0] in ids and (a[0], a[2].method, a[2].path) not in serving
        b_new = b[0] in ids and (b[0], b[2].method, b[2].path) not in serving
        losers = [x for x, new in ((a, a_new), (b, b_new)) if new] or [
            x for x in (a, b) if x[0] in ids]
        for loser in losers:
            other = b if loser is a else a
            hook = loser[2]
            problem = Problem(loser[1], f"webhook {hook.node!r} of {loser[0]} renders "
                              f"{hook.method} /{hook.path}, which {other[2].node!r} of "
                              f"{other[0]} ({other[1]}) serves or also renders",
                              rule="WEBHOOK-PATH-UNIQUE")
            found.setdefault((loser[0], hook.path), (problem, (INSTANCE, loser[0])))
    return list(found.values())

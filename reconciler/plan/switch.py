"""The owner's dev/prod switch is all-or-nothing: the side going down waits for the other.

`_owner_envs` plans the environment going live first. Here the other one's group,
when it unpublishes anything, and the process record's switch of `active_env` get
`after_group`: the applier holds them back unless the incoming group succeeded and
its instance is live, so a failed deploy leaves the running side up and the switch
is tried again on the next run.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.plan.steps import SaveProcess, Step, UnpublishWorkflow


def hold_switches(steps: list[Step], switches: dict[str, tuple[str, str]]) -> list[Step]:
    """`switches`: use case -> (instance going live, instance going down)."""
    for use_case, (incoming, outgoing) in sorted(switches.items()):
        steps = _hold(steps, use_case, incoming, outgoing)
    return steps


def _hold(steps: list[Step], use_case: str, incoming: str, outgoing: str) -> list[Step]:
    if any(isinstance(s, UnpublishWorkflow) and s.group == outgoing for s in steps):
        steps = [replace(s, after_group=incoming) if s.group == outgoing else s for s in steps]
    at = next((i for i, s in enumerate(steps) if isinstance(s, SaveProcess)
               and s.use_case == use_case and not s.removed), None)
    if at is None:
        return steps
    held = replace(steps[at], after_group=incoming)
    rest = steps[:at] + steps[at + 1:]
    last = max((i for i, s in enumerate(rest) if s.group in (incoming, outgoing)), default=at - 1)
    rest.insert(last + 1, held)  # after both groups: it records the switch as done
    return rest

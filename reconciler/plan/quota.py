"""Credits: the instances of an account whose balance is spent go down until it is not.

Fed by the snapshot (credits used per account in the current period) and by the
plans platform.yaml gives. An instance that would run is planned inactive, in state
`over_quota`, with a notice for the period; unlike a user's pause nobody has to undo
it: the next period (used credits start at zero) or a bigger plan brings it back at
the next reconcile. Unmetered accounts (no plan) are never held.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.plans import account_for, accounts_of
from reconciler.plan.inputs import PlanInput
from reconciler.plan.instances import Desired

NOTICE = "over_quota"


def apply_quota(inp: PlanInput, desired: list[Desired]) -> None:
    """Mark (in place) the running instances of exhausted accounts inactive."""
    accounts = accounts_of(inp.declared.platform)
    personal = {a[len("user:"):] for a in accounts if a.startswith("user:")}
    period = inp.state.period
    for index, d in enumerate(desired):
        if d.archived or not d.active or d.template is None:
            continue  # nothing running to stop (a pause stays a pause)
        account = accounts.get(account_for(personal, d.owner_user, d.owner_org))
        if account is None:
            continue
        used = inp.state.debits.get(account.id, 0)
        if account.credits - used > 0:
            continue
        message = (f"{account.id} used {used} of {account.credits} credits of plan "
                   f"{account.plan} in {period}: deactivated until the next period or a "
                   "plan change")
        desired[index] = replace(d, active=False, over_quota=True,
                                 notices=(*d.notices, (NOTICE, period, message)))

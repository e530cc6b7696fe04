"""Plans, billing accounts and monthly periods: plain functions over platform.yaml.

An account is what a run debits: `org:<id>` or, for a personal instance of a user
with a personal plan, `user:<id>`. A period is a UTC calendar month, `YYYY-MM`.
An organization without a plan is not metered: its runs are recorded, never refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.model.declared import PlanSpec, PlatformFile

# The seeds' four plans (their Enterprise is "200,000+ credits, 50+ seats": the floor
# here; a bigger contract is a custom plan with the same id or another).
DEFAULT_PLANS: dict[str, PlanSpec] = {
    p.id: p for p in (
        PlanSpec(id="free", name="Free", credits=200, seats=2),
        PlanSpec(id="pro", name="Pro", credits=10_000, seats=5),
        PlanSpec(id="business", name="Business", credits=50_000, seats=10),
        PlanSpec(id="enterprise", name="Enterprise", credits=200_000, seats=50),
    )
}
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Account:
    id: str  # org:<id> | user:<id>
    plan: str
    credits: int
    seats: int


def plans_of(platform: PlatformFile) -> dict[str, PlanSpec]:
    """The built-in plans, with the declared ones added (or redefining one)."""
    return {**DEFAULT_PLANS, **{p.id: p for p in platform.plans}}


def accounts_of(platform: PlatformFile) -> dict[str, Account]:
    """Every metered account: orgs with a plan, users with a personal plan."""
    plans = plans_of(platform)
    owners = [(f"org:{o.id}", o.plan) for o in platform.organizations]
    owners += [(f"user:{u.id}", u.plan) for u in platform.users]
    return {acc: Account(acc, plan, plans[plan].credits, plans[plan].seats)
            for acc, plan in owners if plan is not None and plan in plans}


def account_for(personal_plans: set[str] | frozenset[str], owner_user: str | None,
                owner_org: str) -> str:
    """Who pays for an instance's runs: its user's personal plan, else its org."""
    if owner_user and owner_user in personal_plans:
        return f"user:{owner_user}"
    return f"org:{owner_org}"


def period_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def period_of_iso(text: str) -> str:
    moment = datetime.fromisoformat(text)
    return period_of(moment if moment.tzinfo else moment.replace(tzinfo=UTC))

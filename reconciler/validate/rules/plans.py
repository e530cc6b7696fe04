"""Plan rules: every plan named in platform.yaml exists, and no organization has more
members than its plan has seats."""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.model.plans import plans_of
from reconciler.validate.rules.registry import Finding, Layer, Lint, rule

PLATFORM_FILE = "platform.yaml"


@rule("PLAN-KNOWN", Layer.platform, "must", "Every plan named in platform.yaml exists")
def plan_known(lint: Lint) -> Iterator[Finding]:
    """An organization's `plan` and a user's personal `plan` name one of the built-in
    plans (free, pro, business, enterprise) or a plan declared under `plans`; a custom
    plan id is declared once."""
    platform = lint.state.platform
    seen: set[str] = set()
    for index, spec in enumerate(platform.plans):
        if spec.id in seen:
            yield Finding(PLATFORM_FILE, f"plan {spec.id!r} is declared twice",
                          ("plans", index, "id"))
        seen.add(spec.id)
    known = plans_of(platform)
    names = ", ".join(sorted(known))
    for index, org in enumerate(platform.organizations):
        if org.plan is not None and org.plan not in known:
            yield Finding(PLATFORM_FILE, f"organization {org.id}: plan {org.plan!r} is "
                          "not a plan", ("organizations", index, "plan"), f"one of {names}")
    for index, user in enumerate(platform.users):
        if user.plan is not None and user.plan not in known:
            yield Finding(PLATFORM_FILE, f"user {user.id}: plan {user.plan!r} is not a "
                          "plan", ("users", index, "plan"), f"one of {names}")


@rule("PLAN-SEATS", Layer.platform, "must",
      "An organization has no more members than its plan has seats")
def plan_seats(lint: Lint) -> Iterator[Finding]:
    """Each member of an organization takes a seat; an organization on a plan with
    fewer seats than members is refused (a bigger plan, or fewer members). An
    organization without a plan is not metered and has no seat limit."""
    platform = lint.state.platform
    known = plans_of(platform)
    for index, org in enumerate(platform.organizations):
        spec = known.get(org.plan) if org.plan is not None else None
        if spec is None or len(org.members) <= spec.seats:
            continue
        yield Finding(PLATFORM_FILE, f"organization {org.id} has {len(org.members)} "
                      f"members but its plan {spec.id!r} has {spec.seats} seats",
                      ("organizations", index, "members"),
                      "choose a plan with more seats or remove members")

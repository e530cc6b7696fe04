"""Credits through the API: the 402 of a spent balance and the usage read route.

An instance's key sees its own account (its organization, or its user's personal
plan): the balance, and what this instance used; never other instances' shares.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from reconciler.api.errors import ApiError
from reconciler.api.keys import Instance
from reconciler.model.plans import PERIOD
from reconciler.store import ledger
from reconciler.store.db import Store

PAYMENT_REQUIRED = 402


class UsageResult(BaseModel):
    account: str = Field(description="`org:<id>` or `user:<id>` (a personal plan).")
    organization: str
    period: str = Field(description="UTC calendar month, YYYY-MM.")
    plan: str | None = Field(description="None: the account is not metered.")
    credits: int | None
    used: int
    balance: int | None
    runs: int
    exhausted: bool
    instance: dict[str, int] = Field(description="This instance's credits and runs.")


def exhausted_error(usage: ledger.Usage, organization: str) -> ApiError:
    return ApiError(PAYMENT_REQUIRED, "credits_exhausted",
                    f"{usage.account} has no credits left in {usage.period} "
                    f"(balance {usage.balance} of {usage.credits}, plan {usage.plan})",
                    organization=organization, account=usage.account, period=usage.period,
                    balance=usage.balance, credits=usage.credits, used=usage.used)


def account_usage(store: Store, instance: Instance, period: str | None = None) -> ledger.Usage:
    account = ledger.instance_account(store, instance.id) or f"org:{instance.owner_org}"
    return ledger.account_usage(store, account, period)


def require_credits(store: Store, instance: Instance) -> None:
    """402 when the instance's account spent its credits (or the reconcile held it)."""
    usage = account_usage(store, instance)
    if usage.exhausted or instance.state == "over_quota":
        raise exhausted_error(usage, instance.owner_org)


def usage_body(store: Store, instance: Instance, period: str | None) -> dict[str, Any]:
    usage = account_usage(store, instance, period)
    mine = usage.instances.get(instance.id, {"credits": 0, "runs": 0})
    return {**usage.public(instances=False), "organization": instance.owner_org,
            "instance": mine}


def add_usage(router: APIRouter, get_store: Callable[[], tuple[Store, Any]],
              caller: Callable[..., Instance]) -> None:
    @router.get("/usage", response_model=UsageResult, tags=["usage"])
    def usage(instance: Annotated[Instance, Depends(caller)],
              period: Annotated[str | None, Query(pattern=PERIOD.pattern)] = None
              ) -> dict[str, Any]:
        """Credits of the key's account in a period (default: the current month)."""
        store, lock = get_store()
        with lock:
            return usage_body(store, instance, period)

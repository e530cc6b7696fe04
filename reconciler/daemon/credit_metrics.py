"""Credit series per account (organization, or a user's personal plan) for /metrics."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge

from reconciler.errors import StateError
from reconciler.store import ledger
from reconciler.store.db import Connection


@dataclass
class CreditGauges:
    used: Gauge
    limit: Gauge
    balance: Gauge
    runs: Gauge

    def refresh(self, conn: Connection) -> None:
        """The current period's figures; a state without the ledger yet shows none."""
        for gauge in (self.used, self.limit, self.balance, self.runs):
            gauge.clear()
        try:
            found = ledger.usage_from(conn, ledger.current_period())
        except (sqlite3.Error, StateError):  # a PostgreSQL error arrives as StateError
            return
        for u in found:
            labels = (u.account, u.plan or "")
            self.used.labels(*labels).set(u.used)
            self.runs.labels(*labels).set(u.runs)
            if u.credits is not None and u.balance is not None:
                self.limit.labels(*labels).set(u.credits)
                self.balance.labels(*labels).set(u.balance)


def credit_gauges(registry: CollectorRegistry) -> CreditGauges:
    names = ["account", "plan"]
    return CreditGauges(
        used=Gauge("reconciler_credits_used", "Credits debited this month (UTC) per "
                   "account (org:ID, or user:ID for a personal plan)", names,
                   registry=registry),
        limit=Gauge("reconciler_credits_limit", "Credits a month the account's plan gives",
                    names, registry=registry),
        balance=Gauge("reconciler_credits_balance", "Credits left this month (0 or less: "
                      "triggers answer 402 and the next reconcile deactivates)", names,
                      registry=registry),
        runs=Gauge("reconciler_credits_runs", "Executions debited this month", names,
                   registry=registry))

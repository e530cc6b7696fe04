"""The credit ledger: append-only debits, one per execution, and balances per period.

A debit is derived from an execution record once it is final and linked to the n8n
execution that ran: `INSERT OR IGNORE` on the UNIQUE execution id makes a second
debit of the same run (a retried call, a second report, a racing thread or process,
a re-run after a kill) a no-op. `settle` debits every final run not debited yet, so
a process killed between n8n's run and its debit loses nothing: the next reader
settles it. Rows are never updated or deleted; a new month starts from zero.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import InvalidInput, Problem, StateError
from reconciler.model.declared import PlatformFile
from reconciler.model.plans import PERIOD, account_for, accounts_of, period_of, period_of_iso
from reconciler.store.db import Connection, Store, now

CLOCK_ENV = "RECONCILER_CLOCK"  # an ISO time: tests (and drills) move the month


def clock() -> datetime:
    fixed = os.environ.get(CLOCK_ENV)
    if fixed:
        moment = datetime.fromisoformat(fixed)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def current_period() -> str:
    return period_of(clock())


def checked_period(text: str | None) -> str:
    if text is None:
        return current_period()
    if not PERIOD.match(text):
        raise InvalidInput([Problem("--period", f"{text!r} is not a month (YYYY-MM)")])
    return text


def sync_accounts(store: Store, platform: PlatformFile) -> None:
    """Mirror the plans platform.yaml gives into the state; writes only on a change."""
    wanted = {a.id: (a.plan, a.credits, a.seats) for a in accounts_of(platform).values()}
    current = {str(r[0]): (str(r[1]), int(r[2]), int(r[3])) for r in store.conn.execute(
        "SELECT id, plan, credits, seats FROM accounts")}
    if wanted == current:
        return
    with store.transaction() as c:
        c.execute("DELETE FROM accounts")
        for key, (plan, credits, seats) in sorted(wanted.items()):  # the seam has no executemany
            c.execute("INSERT INTO accounts (id, plan, credits, seats) VALUES (?, ?, ?, ?)",
                      (key, plan, credits, seats))


def debit(store: Store, execution_id: str) -> bool:
    """Debit one final, linked execution; False when it is not due or already debited."""
    with store.transaction() as c:
        row = c.execute(
            "SELECT e.id, e.instance_id, e.workflow_id, e.started_at, i.owner_user, "
            "i.owner_org, i.use_case, i.version FROM executions e JOIN instances i ON "
            "i.id = e.instance_id WHERE e.id=? AND e.status != 'pending' AND "
            "e.n8n_execution_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger l "
            "WHERE l.execution_id = e.id)", (execution_id,)).fetchone()
        if row is None:
            return False
        rid, instance_id, workflow_id, started, user, org, use_case, version = row
        personal = {str(r[0])[5:] for r in c.execute(
            "SELECT id FROM accounts WHERE id LIKE 'user:%'")}
        cur = c.execute(
            "INSERT OR IGNORE INTO ledger (execution_id, account, instance_id, workflow_id, "
            "period, credits, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rid, account_for(personal, user, org), instance_id, workflow_id,
             period_of_iso(started), _cost(c, use_case, version, workflow_id), now()))
        return cur.rowcount == 1


def _cost(c: Connection, use_case: str, version: str | None, workflow: str) -> int:
    """The workflow's `cost` in the version the instance runs (0 when unknown)."""
    row = c.execute("SELECT config FROM templates WHERE use_case=? AND version=?",
                    (use_case, version)).fetchone()
    if row is None:
        return 0
    for spec in json.loads(row[0]).get("workflows", []):
        if isinstance(spec, dict) and spec.get("id") == workflow:
            return int(spec.get("cost") or 0)
    return 0


def settle(store: Store) -> int:
    """Debit every final run that has no debit yet; how many were debited."""
    due = [str(r[0]) for r in store.conn.execute(
        "SELECT e.id FROM executions e WHERE e.status != 'pending' AND "
        "e.n8n_execution_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger l "
        "WHERE l.execution_id = e.id) ORDER BY e.id")]
    return sum(1 for rid in due if debit(store, rid))


@dataclass(frozen=True)
class Usage:
    account: str
    period: str
    plan: str | None  # None: not metered
    credits: int | None
    used: int
    runs: int
    instances: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def balance(self) -> int | None:
        return None if self.credits is None else self.credits - self.used

    @property
    def exhausted(self) -> bool:
        return self.balance is not None and self.balance <= 0

    def public(self, *, instances: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "account": self.account, "period": self.period, "plan": self.plan,
            "credits": self.credits, "used": self.used, "balance": self.balance,
            "runs": self.runs, "exhausted": self.exhausted}
        if instances:
            data["instances"] = self.instances
        return data


def usage(store: Store, period: str, account: str | None = None) -> list[Usage]:
    """Each account's use in a period: metered accounts and any that was debited."""
    settle(store)
    return usage_from(store.conn, period, account)


def usage_from(conn: Connection, period: str,
               account: str | None = None) -> list[Usage]:
    """The same on any connection (a read-only one: metrics), without settling."""
    plans = {str(r[0]): (str(r[1]), int(r[2])) for r in conn.execute(
        "SELECT id, plan, credits FROM accounts")}
    spent: dict[str, dict[str, dict[str, int]]] = {}
    for acc, inst, credits, runs in conn.execute(
            "SELECT account, instance_id, sum(credits), count(*) FROM ledger WHERE period=? "
            "GROUP BY account, instance_id ORDER BY account, instance_id", (period,)):
        spent.setdefault(str(acc), {})[str(inst)] = {"credits": int(credits), "runs": int(runs)}
    out = []
    for acc in sorted(set(plans) | set(spent)):
        if account is not None and acc != account:
            continue
        per = spent.get(acc, {})
        plan = plans.get(acc)
        out.append(Usage(account=acc, period=period, plan=plan[0] if plan else None,
                         credits=plan[1] if plan else None,
                         used=sum(v["credits"] for v in per.values()),
                         runs=sum(v["runs"] for v in per.values()), instances=per))
    return out


def account_usage(store: Store, account: str, period: str | None = None) -> Usage:
    found = usage(store, period or current_period(), account)
    if found:
        return found[0]
    return Usage(account=account, period=period or current_period(), plan=None,
                 credits=None, used=0, runs=0)


def instance_account(store: Store, instance_id: str) -> str | None:
    row = store.conn.execute("SELECT owner_user, owner_org FROM instances WHERE id=?",
                             (instance_id,)).fetchone()
    if row is None:
        return None
    personal = {str(r[0])[5:] for r in store.conn.execute(
        "SELECT id FROM accounts WHERE id LIKE 'user:%'")}
    return account_for(personal, row[0], str(row[1]))


def debits_by_account(store: Store, period: str) -> dict[str, int]:
    """For the planner's snapshot: credits used per account in the period."""
    with contextlib.suppress(StateError, sqlite3.Error):  # a read-only copy (offline CI)
        settle(store)
    return {str(r[0]): int(r[1]) for r in store.conn.execute(
        "SELECT account, sum(credits) FROM ledger WHERE period=? GROUP BY account",
        (period,))}


def run_summary(store: Store) -> list[dict[str, Any]]:
    """What a reconcile run records of credits: each account's use this period."""
    try:
        found = usage(store, current_period())
    except (StateError, sqlite3.Error):
        return []
    return [u.public(instances=False) for u in found]

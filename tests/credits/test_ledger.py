"""The ledger without n8n: once per execution id, whatever retries, races and processes."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from reconciler.errors import InvalidInput
from reconciler.model.declared import PlatformFile
from reconciler.model.plans import DEFAULT_PLANS, accounts_of, period_of_iso
from reconciler.store import ledger
from reconciler.store.db import Store
from tests.credits.ledger_rows import add_execution, add_instance, ledger_rows

PLATFORM = PlatformFile.model_validate({
    "users": [{"id": "alice", "name": "A", "email": "a@x.example"},
              {"id": "erin", "name": "E", "email": "e@x.example", "plan": "solo"}],
    "organizations": [{"id": "acme", "name": "Acme", "plan": "tiny",
                       "members": [{"user": "alice"}, {"user": "erin"}]},
                      {"id": "globex", "name": "Globex"}],
    "plans": [{"id": "tiny", "credits": 12, "seats": 3},
              {"id": "solo", "credits": 500, "seats": 1}]})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "state.sqlite")
    ledger.sync_accounts(s, PLATFORM)
    add_instance(s, "echo-acme")
    add_instance(s, "echo-erin", user="erin", use_case="echo-personal", costs={"echo": 7})
    add_instance(s, "echo-globex", org="globex")
    return s


def test_the_seed_plans_are_the_defaults() -> None:
    assert {k: (p.credits, p.seats) for k, p in DEFAULT_PLANS.items()} == {
        "free": (200, 2), "pro": (10_000, 5), "business": (50_000, 10),
        "enterprise": (200_000, 50)}
    accounts = accounts_of(PLATFORM)
    assert sorted(accounts) == ["org:acme", "user:erin"]  # globex has no plan: unmetered
    assert accounts["org:acme"].credits == 12


def test_a_final_linked_execution_is_debited_once(store: Store) -> None:
    add_execution(store, "r1", "echo-acme")
    assert ledger.debit(store, "r1") is True
    assert ledger.debit(store, "r1") is False  # a retry
    assert ledger.settle(store) == 0
    assert ledger_rows(store) == [("r1", "org:acme", "2026-12", 5)]


def test_pending_unlinked_and_unknown_records_are_not_debited(store: Store) -> None:
    add_execution(store, "p", "echo-acme", status="pending")
    add_execution(store, "v", "echo-acme", status="failed", n8n_id=None)  # never ran
    assert [ledger.debit(store, r) for r in ("p", "v", "nope")] == [False] * 3
    assert ledger_rows(store) == []


def test_failed_runs_cost_like_successful_ones(store: Store) -> None:
    add_execution(store, "f", "echo-acme", status="failed")
    assert ledger.settle(store) == 1
    assert ledger_rows(store)[0][3] == 5


def test_personal_plan_pays_for_its_users_instances(store: Store) -> None:
    add_execution(store, "e1", "echo-erin")
    add_execution(store, "g1", "echo-globex")
    ledger.settle(store)
    assert [(r[1], r[3]) for r in ledger_rows(store)] == [("user:erin", 7), ("org:globex", 5)]


def test_periods_are_utc_calendar_months_and_reset(store: Store) -> None:
    assert period_of_iso("2026-12-31T23:30:00-01:00") == "2027-01"
    add_execution(store, "nov", "echo-acme", started="2026-11-30T23:59:59.000+00:00")
    add_execution(store, "dec1", "echo-acme", started="2026-12-01T00:00:00.000+00:00")
    add_execution(store, "dec2", "echo-acme", started="2026-12-20T00:00:00.000+00:00")
    dec = ledger.usage(store, "2026-12", "org:acme")[0]
    assert (dec.used, dec.runs, dec.balance, dec.exhausted) == (10, 2, 2, False)
    nov = ledger.usage(store, "2026-11", "org:acme")[0]
    assert (nov.used, nov.balance) == (5, 7)
    jan = ledger.usage(store, "2027-01", "org:acme")[0]
    assert (jan.used, jan.balance) == (0, 12)


def test_exhausted_when_the_balance_reaches_zero(store: Store) -> None:
    for n in range(3):
        add_execution(store, f"r{n}", "echo-acme")
    usage = ledger.usage(store, "2026-12", "org:acme")[0]
    assert (usage.used, usage.balance, usage.exhausted) == (15, -3, True)
    unmetered = ledger.account_usage(store, "org:globex", "2026-12")
    assert (unmetered.credits, unmetered.balance, unmetered.exhausted) == (None, None, False)


def test_concurrent_debits_of_the_same_runs_count_once(store: Store) -> None:
    for n in range(20):
        add_execution(store, f"r{n:02}", "echo-acme")
    barrier = threading.Barrier(6)
    won: list[int] = []

    def worker() -> None:
        own = Store(store.path)  # a connection each, like separate requests or processes
        barrier.wait()
        won.append(sum(ledger.debit(own, f"r{n:02}") for n in range(20)))
        own.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(won) == 20
    assert len(ledger_rows(store)) == 20


def _settle_in_process(path: str) -> int:
    return ledger.settle(Store(path))


def test_processes_settling_at_once_debit_each_run_once(store: Store) -> None:
    for n in range(30):
        add_execution(store, f"r{n:02}", "echo-acme")
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        counts = pool.map(_settle_in_process, [str(store.path)] * 3)
    assert sum(counts) == 30
    assert len({r[0] for r in ledger_rows(store)}) == len(ledger_rows(store)) == 30


def test_the_clock_can_be_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ledger.CLOCK_ENV, "2027-03-01T00:00:00")
    assert ledger.current_period() == "2027-03"
    assert ledger.checked_period(None) == "2027-03"
    with pytest.raises(InvalidInput):
        ledger.checked_period("2027-13")


def test_accounts_mirror_follows_platform_yaml(store: Store) -> None:
    rows = list(store.conn.execute("SELECT id, plan, credits, seats FROM accounts ORDER BY id"))
    assert rows == [("org:acme", "tiny", 12, 3), ("user:erin", "solo", 500, 1)]
    bigger = PLATFORM.model_copy(update={"organizations": [
        PLATFORM.organizations[0].model_copy(update={"plan": "pro"})]})
    ledger.sync_accounts(store, bigger)
    rows = list(store.conn.execute("SELECT id, plan, credits FROM accounts ORDER BY id"))
    assert rows == [("org:acme", "pro", 10_000), ("user:erin", "solo", 500)]

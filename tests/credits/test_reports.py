"""Credits in /metrics and in run reports, without n8n."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest

from reconciler.daemon.metrics import Metrics
from reconciler.report.show import report_markdown, report_text
from reconciler.store import ledger
from reconciler.store.db import Store
from tests.credits.ledger_rows import add_execution, add_instance
from tests.credits.test_ledger import PLATFORM


def test_metrics_per_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ledger.CLOCK_ENV, "2026-12-15T12:00:00+00:00")
    store = Store(tmp_path / "state.sqlite")
    ledger.sync_accounts(store, PLATFORM)
    add_instance(store, "echo-acme")
    add_instance(store, "echo-globex", org="globex")
    for rid, inst in (("a1", "echo-acme"), ("a2", "echo-acme"), ("g1", "echo-globex")):
        add_execution(store, rid, inst)
    ledger.settle(store)
    store.close()
    metrics = Metrics()
    metrics.refresh_instances(tmp_path / "state.sqlite")
    text = generate_latest(metrics.registry).decode()
    assert 'reconciler_credits_used{account="org:acme",plan="tiny"} 10.0' in text
    assert 'reconciler_credits_balance{account="org:acme",plan="tiny"} 2.0' in text
    assert 'reconciler_credits_limit{account="user:erin",plan="solo"} 500.0' in text
    assert 'reconciler_credits_runs{account="org:globex",plan=""} 1.0' in text
    assert 'reconciler_credits_balance{account="org:globex"' not in text  # not metered


def _run(usage: list[dict[str, object]]) -> dict[str, object]:
    return {"id": 7, "trigger": "cli", "started_at": "2026-12-02T10:00:00", "outcome": "applied",
            "revision": "abc", "reads": 1, "writes": 0, "error": None, "steps": [],
            "notices": [], "summary": {"usage": usage}}


def test_reports_carry_a_usage_line() -> None:
    rec = _run([{"account": "org:acme", "period": "2026-12", "credits": 12, "used": 15,
                 "balance": -3, "exhausted": True},
                {"account": "org:globex", "period": "2026-12", "credits": None, "used": 5,
                 "balance": None, "exhausted": False}])
    line = ("credits 2026-12: org:acme 15/12 (balance -3, exhausted), "
            "org:globex 5 (not metered)")
    assert f"  {line}" in report_text(rec).splitlines()
    assert f"**Usage:** {line}" in report_markdown(rec)
    assert "credits" not in report_text(_run([]))

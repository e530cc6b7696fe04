"""Concurrent apply (RECONCILER_APPLY_WORKERS > 1) keeps every guarantee of the
sequential one: a run killed at any write converges without duplicates, a failing
group rolls back alone, a no-op makes no write."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reconciler.apply.engine import RunOutcome
from reconciler.apply.parallel import blocks
from reconciler.plan.steps import PutWorkflow, SaveInstance, pending
from tests.engine.conftest import Platform, wipe
from tests.engine.test_safety_live import (
    Killed,
    Wrapped,
    converged,
    small_repo,
    upgrade_failing_for_globex,
)

pytestmark = pytest.mark.n8n

WORKERS = 4


def reconcile(platform: Platform, client: Any = None) -> RunOutcome:
    engine = dataclasses.replace(platform.engine(client), apply_workers=WORKERS)
    return engine.reconcile(platform.declared(), publications=frozenset(platform.publications))


def test_blocks_keep_group_order() -> None:
    steps = [SaveInstance(group="a"), PutWorkflow(group="b"), SaveInstance(group="b"),
             PutWorkflow(group="a", body={"x": pending("wf", "c/main")})]
    assert [[s.group for s in b] for b in blocks(steps)] == [["a"], ["b", "b"], ["a"]]


def test_concurrent_first_apply_and_no_op(platform: Platform) -> None:
    platform.publications |= {("lead-enrichment", "1.2.0"), ("inbox-triage", "2.1.0"),
                              ("daily-digest", "1.0.0")}
    first = reconcile(platform)
    assert first.outcome == "applied", first.error
    names = [str(w["name"]) for w in platform.client.list_workflows()]
    assert len(names) == len(set(names))
    again = reconcile(platform)
    assert (again.outcome, again.writes) == ("no_changes", 0), again.plan


def test_failing_group_rolls_back_alone_under_concurrency(platform: Platform) -> None:
    small_repo(platform)
    assert reconcile(platform).outcome == "applied"
    failing, old_summarize = upgrade_failing_for_globex(platform)
    out = reconcile(platform, failing)
    assert out.outcome == "partial"
    assert out.result is not None and list(out.result.failed_groups) == ["lead-enrichment-globex"]
    live = platform.live()
    summarize = live["Lead enrichment - summarize [lead-enrichment-globex/summarize]"]
    assert summarize["activeVersionId"] == old_summarize["activeVersionId"]  # rolled back
    assert platform.instance("lead-enrichment.owner-prod")["version"] == "1.3.0"
    seqs = [r[0] for r in platform.store.conn.execute(
        "SELECT seq FROM run_steps WHERE run_id=? ORDER BY seq", (out.run_id,))]
    assert seqs == list(range(1, len(seqs) + 1)), "one journal sequence across threads"
    healed = reconcile(platform)
    assert healed.outcome == "applied", healed.error
    assert reconcile(platform).outcome == "no_changes"


def test_killed_at_every_write_converges_under_concurrency(platform: Platform) -> None:
    small_repo(platform)
    full = reconcile(platform)
    assert full.outcome == "applied", full.error
    total = full.writes
    assert total > 10
    for k in range(1, total + 1):
        wipe(platform.client)
        platform.store.conn.executescript(
            "DELETE FROM workflow_mappings; DELETE FROM credentials; DELETE FROM instances;"
            " DELETE FROM templates; DELETE FROM processes; DELETE FROM deployments;"
            " DELETE FROM notices;")
        with pytest.raises(Killed):
            reconcile(platform, Wrapped(platform.client, kill_after=k))
        out = reconcile(platform)
        assert out.outcome in ("applied", "no_changes"), (k, out.error)
        converged(platform)

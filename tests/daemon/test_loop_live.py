"""The daemon's loop on real git (file:// remote) and the session's real n8n."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import pytest

from reconciler.adapters.n8n_client import N8nClient
from reconciler.daemon.loop import Daemon, Tick
from tests.daemon.conftest import Git, runs
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n

LEAD_DEV = "Lead enrichment - API [lead-enrichment.owner-dev/main]"
LEAD_PROD = "Lead enrichment - API [lead-enrichment.owner-prod/main]"
SUMMARIZE = "use-cases/lead-enrichment/workflows/summarize.json"
CURRENT_TAGS = ("lead-enrichment@1.2.0", "inbox-triage@2.1.0", "daily-digest@1.0.0")


def ok(tick: Tick | None) -> Tick:
    assert tick is not None, "expected a reconcile"
    assert tick.outcome in ("applied", "no_changes"), tick
    return tick


def on(platform: Platform, name: str) -> bool:
    return bool(platform.live()[name].get("activeVersionId"))


def test_commit_tag_and_new_commit_switch_environments(
        platform: Platform, git: Git, make_daemon: Callable[..., Daemon]) -> None:
    daemon = make_daemon()
    first = ok(daemon.tick())
    assert first.reason == "startup"
    assert on(platform, LEAD_DEV), "a commit on the tracked branch deploys dev"
    assert daemon.tick() is None, "git did not move: nothing to do"

    for tag in CURRENT_TAGS:
        git.tag(tag)
    tagged = ok(daemon.tick())
    assert tagged.reason == "git:tags"
    assert on(platform, LEAD_PROD) and not on(platform, LEAD_DEV)
    assert platform.instance("lead-enrichment.owner-prod")["version"] == "1.2.0"

    platform.edit_text(SUMMARIZE, '"maxTokensToSample": 300', '"maxTokensToSample": 350')
    platform.bump("lead-enrichment", "1.3.0")
    git.commit("lead-enrichment 1.3.0")
    moved = ok(daemon.tick())
    assert moved.reason == "git:branch"
    assert on(platform, LEAD_DEV) and not on(platform, LEAD_PROD)
    assert platform.instance("lead-enrichment.owner-dev")["version"] == "1.3.0"
    last = runs(platform.store.path)[-1]
    assert last["trigger"] == "daemon:git:branch"
    assert last["summary"]["daemon"]["commit"] == str(git.repo.head.target)


def test_deleted_tag_is_reported_never_unpublished(
        platform: Platform, git: Git, make_daemon: Callable[..., Daemon],
        caplog: pytest.LogCaptureFixture) -> None:
    daemon = make_daemon()
    for tag in CURRENT_TAGS:
        git.tag(tag)
    ok(daemon.tick())
    assert on(platform, LEAD_PROD)

    git.delete_tag("lead-enrichment@1.2.0")
    with caplog.at_level(logging.WARNING, logger="reconciler.daemon"):
        after = ok(daemon.tick())
    assert after.outcome == "no_changes", "a deleted tag changes nothing in n8n"
    assert on(platform, LEAD_PROD)
    record = runs(platform.store.path)[-1]
    assert record["writes"] == 0
    assert record["summary"]["tags_deleted"] == ["lead-enrichment@1.2.0"]
    assert "tag deleted: lead-enrichment@1.2.0" in record["summary"]["warnings"][0]
    assert any("tag deleted" in r.getMessage() for r in caplog.records)
    status = platform.store.conn.execute(
        "SELECT status FROM templates WHERE id='lead-enrichment@1.2.0'").fetchone()[0]
    assert status == "published"
    # Reported once: the next resync does not report it again.
    again = ok(make_daemon(resync=0.0).tick())
    assert "tags_deleted" not in runs(platform.store.path)[-1]["summary"], again


def test_bad_input_is_a_failed_run_and_the_last_good_state_stays(
        platform: Platform, git: Git, make_daemon: Callable[..., Daemon]) -> None:
    daemon = make_daemon()
    ok(daemon.tick())
    before = {name: wf.get("versionId") for name, wf in platform.live().items()}
    good = (platform.repo / "platform.yaml").read_text(encoding="utf-8")

    (platform.repo / "platform.yaml").write_text("organizations: [\n", encoding="utf-8")
    git.commit("broken")
    failed = daemon.tick()
    assert failed is not None and failed.outcome == "failed"
    record = runs(platform.store.path)[-1]
    assert record["outcome"] == "failed" and record["writes"] == 0
    assert "platform.yaml:" in record["error"], record["error"]  # file:line
    assert "nothing applied" in record["error"]
    assert record["summary"]["problems"]
    assert {n: w.get("versionId") for n, w in platform.live().items()} == before
    assert daemon.health.waiting_for_fix
    assert daemon.tick() is None, "no retry until git moves"

    (platform.repo / "platform.yaml").write_text(good, encoding="utf-8")
    git.commit("fixed")
    fixed = ok(daemon.tick())
    assert fixed.reason == "git:branch" and not daemon.health.waiting_for_fix


def test_resync_without_git_moving_and_retry_after_failure(
        platform: Platform, git: Git, make_daemon: Callable[..., Daemon]) -> None:
    daemon = make_daemon(resync=0.0)
    ok(daemon.tick())
    resync = ok(daemon.tick())
    assert resync.reason == "resync" and resync.outcome == "no_changes"

    # n8n refuses the key: the run fails and a retry is scheduled with backoff.
    engine = daemon.engine
    real = engine.client
    engine.client = N8nClient(real.base_url, "wrong-key", max_retries=0)
    try:
        daemon.config = dataclasses.replace(daemon.config, resync=3600.0)
        failed = daemon.tick(force=True)
        assert failed is not None and failed.outcome == "failed"
        assert daemon.health.failures == 1 and daemon._retry_at is not None
    finally:
        engine.client.close()
        engine.client = real
    daemon._retry_at = 0.0  # backoff elapsed
    retried = ok(daemon.tick())
    assert retried.reason == "retry" and daemon.health.failures == 0

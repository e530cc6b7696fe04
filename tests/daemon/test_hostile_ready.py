"""/readyz answers "can the daemon work?": a bad commit is a reported condition and a
metric, never unreadiness (the fix arrives by webhook); git, state or n8n down is."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reconciler.daemon import readiness
from reconciler.daemon.app import DaemonContext, create_app
from reconciler.daemon.loop import Daemon
from tests.daemon.conftest import Git
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n

BROKEN = "instances/inbox-triage-alice.yaml"


def context(daemon: Daemon) -> DaemonContext:
    return DaemonContext(state_path=daemon.store.path, n8n_url=daemon.engine.base_url,
                         branch="main", failing_grace=900.0, health=daemon.health,
                         metrics=daemon.metrics, request_reconcile=daemon.request,
                         n8n_api_key=daemon.engine.client._api_key,
                         hash_key=daemon.engine.hash_key)


def metric(client: TestClient, name: str) -> str:
    line = next(x for x in client.get("/metrics").text.splitlines() if x.startswith(name + " "))
    return line.split()[1]


def test_bad_commit_is_a_condition_not_unreadiness(
        platform: Platform, git: Git, make_daemon: Callable[..., Daemon]) -> None:
    daemon = make_daemon()
    assert daemon.tick() is not None and daemon.health.last_outcome in ("applied", "no_changes")
    client = TestClient(create_app(context(daemon)))
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"state", "git", "n8n"}
    assert ready.json()["conditions"]["revision"] == {"valid": True}
    assert metric(client, "reconciler_revision_invalid") == "0.0"

    good = (platform.repo / BROKEN).read_text(encoding="utf-8")
    (platform.repo / BROKEN).write_text("use_case: inbox-triage\nowner: [\n", encoding="utf-8")
    bad = git.commit("broken instance")
    tick = daemon.tick()
    # held back by the gate: only that instance; the rest reconciles as usual
    assert tick is not None and tick.outcome == "held"
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["ready"] is True
    revision = body["conditions"]["revision"]
    assert revision["valid"] is False and revision["commit"] == bad
    assert revision["problems"] >= 1 and BROKEN in revision["detail"]
    assert body["conditions"]["reconcile"]["failing"] is False
    assert metric(client, "reconciler_revision_invalid") == "1.0"
    assert client.get("/healthz").json() == {"ok": True}

    (platform.repo / BROKEN).write_text(good, encoding="utf-8")
    git.commit("fixed")
    tick = daemon.tick()
    assert tick is not None and tick.outcome in ("applied", "no_changes")
    assert client.get("/readyz").json()["conditions"]["revision"] == {"valid": True}
    assert metric(client, "reconciler_revision_invalid") == "0.0"


def test_git_state_or_n8n_down_is_unready(platform: Platform, git: Git, tmp_path: Path,
                                         make_daemon: Callable[..., Daemon]) -> None:
    daemon = make_daemon()
    daemon.tick()
    ctx = context(daemon)
    client = TestClient(create_app(ctx))
    assert client.get("/readyz").status_code == 200

    moved = git.path.with_name("moved-away")
    git.path.rename(moved)
    try:
        daemon.tick()
        down = client.get("/readyz")
        assert down.status_code == 503
        assert not down.json()["checks"]["git"]["ok"]
        assert down.json()["checks"]["state"]["ok"] and down.json()["checks"]["n8n"]["ok"]
        assert client.get("/healthz").status_code == 200
    finally:
        moved.rename(git.path)
    daemon.tick()
    assert client.get("/readyz").status_code == 200

    garbage = tmp_path / "not-a-database.sqlite"
    garbage.write_bytes(b"this is not SQLite" * 100)
    assert not readiness.state_ok(garbage)[0]
    assert not readiness.state_ok(tmp_path / "missing.sqlite")[0]
    stuck = sqlite3.connect(str(daemon.store.path), isolation_level=None)
    try:
        stuck.execute("BEGIN IMMEDIATE")  # a writer that never commits: nothing can be written
        locked = client.get("/readyz")
        assert locked.status_code == 503 and not locked.json()["checks"]["state"]["ok"]
    finally:
        stuck.execute("ROLLBACK")
        stuck.close()

    refused = TestClient(create_app(replace(ctx, n8n_api_key="not-the-key"))).get("/readyz")
    assert refused.status_code == 503
    assert "refused the API key" in refused.json()["checks"]["n8n"]["detail"]
    gone = TestClient(create_app(replace(ctx, n8n_url="http://127.0.0.1:9"))).get("/readyz")
    assert gone.status_code == 503 and not gone.json()["checks"]["n8n"]["ok"]

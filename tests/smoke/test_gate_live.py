"""Smoke tests on real n8n: they call the owner's dev webhook, and a release tag waits
for them: a failing test holds the tag (prod unchanged), a passing one publishes it."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.api.smoke_due import SmokeSettings, run_due
from reconciler.store.smoke import latest_batch
from tests.engine.conftest import Platform, platform  # noqa: F401  (the fixture)

pytestmark = pytest.mark.n8n

TEST = "use-cases/hello/tests/greets-by-name.yaml"
GREET = "use-cases/hello/workflows/greet.json"
DEV, PROD = "hello.owner-dev", "hello.owner-prod"
TENANT = "hello-globex"  # a tenant following every published version


def _smoke(platform: Platform, server: ServerInfo) -> list[bool]:  # noqa: F811
    settings = SmokeSettings(platform.store.path, server.url, server.api_key, b"t" * 32)
    return [b.passed for b in run_due(settings, platform.declared(), trigger="test")]


def _greet(server: ServerInfo, instance: str, want: str) -> object:
    """The live webhook's greeting; n8n registers a just-published one a moment later."""
    deadline = time.monotonic() + 15
    while True:
        answer = httpx.post(f"{server.url}/webhook/hello/{instance}/greet",
                            json={"name": "Ada"}, timeout=30)
        got = answer.json().get("greeting") if answer.status_code == 200 else answer.status_code
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_a_failing_smoke_test_holds_the_tag_and_a_fix_publishes_it(
        platform: Platform, n8n_server: ServerInfo) -> None:  # noqa: F811
    (platform.repo / "instances" / f"{TENANT}.yaml").write_text(
        "use_case: hello\nowner: {org: globex}\nparameters: {SIGNATURE: Globex}\n",
        encoding="utf-8")
    platform.publications.add(("hello", "1.0.0"))
    first = platform.reconcile()
    assert first.outcome == "held" and first.plan is not None
    assert ("release", "hello@1.0.0") in [(k, i) for k, i, _ in first.plan.held]
    assert "smoke tests have not run on dev yet" in (first.error or "")
    assert _smoke(platform, n8n_server) == [True]
    assert _smoke(platform, n8n_server) == []  # nothing changed: not due again
    batch = latest_batch(platform.store, DEV)
    assert batch is not None and batch.results[0].n8n_execution_id
    published = platform.reconcile()
    assert published.outcome == "applied", published.error
    assert platform.instance(TENANT)["version"] == "1.0.0"
    assert _greet(n8n_server, TENANT, "Hello, Ada!") == "Hello, Ada!"

    # 1.1.0 says "Hey": the test still expects "Hello", so its tag waits
    platform.edit_text(GREET, "=Hello, {{ $json.body.name }}!", "=Hey, {{ $json.body.name }}!")
    platform.bump("hello", "1.1.0")
    platform.publications.add(("hello", "1.1.0"))
    dev_run = platform.reconcile()
    assert dev_run.outcome == "held", dev_run.error
    assert _smoke(platform, n8n_server) == [False]
    failed = latest_batch(platform.store, DEV)
    assert failed is not None and failed.version == "1.1.0"
    assert '-  "greeting": "Hello, Ada!"' in failed.results[0].diff
    assert '+  "greeting": "Hey, Ada!"' in failed.results[0].diff
    held = platform.reconcile()
    assert held.outcome == "held" and "smoke tests failed on dev" in (held.error or "")
    assert held.writes == 0  # held is no work: prod untouched
    assert platform.instance(TENANT)["version"] == "1.0.0"
    assert _greet(n8n_server, TENANT, "Hello, Ada!") == "Hello, Ada!"
    notices = platform.store.conn.execute(
        "SELECT kind, version FROM notices WHERE instance_id=?", (PROD,)).fetchall()
    assert ("release_held", "1.1.0") in notices

    # the test was out of date: fixing it needs no version bump, and publishes 1.1.0
    platform.edit_text(TEST, 'greeting: "Hello, Ada!"', 'greeting: "Hey, Ada!"')
    platform.edit_text(TEST, '"^Hello, [A-Z]"', '"^Hey, [A-Z]"')
    assert _smoke(platform, n8n_server) == [True]
    out = platform.reconcile()
    assert out.outcome == "applied", out.error
    assert platform.instance(TENANT)["version"] == "1.1.0"
    assert _greet(n8n_server, TENANT, "Hey, Ada!") == "Hey, Ada!"
    open_notices = platform.store.conn.execute(
        "SELECT kind FROM notices WHERE instance_id=? AND dismissed=0", (PROD,)).fetchall()
    assert ("release_held",) not in open_notices  # published: the hold's notice is gone


def test_an_override_publishes_and_is_recorded(platform: Platform) -> None:  # noqa: F811
    platform.edit_text("platform.yaml", "\ndefaults:\n", "\nsmoke_overrides:\n  - release: "
                       "hello@1.0.0\n    reason: INC-42 hotfix\ndefaults:\n")
    platform.publications.add(("hello", "1.0.0"))
    out = platform.reconcile()
    assert out.outcome == "applied", out.error
    assert out.plan is not None and any("INC-42 hotfix" in n for n in out.plan.notes)
    assert platform.instance(PROD)["version"] == "1.0.0"
    row = platform.store.conn.execute(
        "SELECT message FROM notices WHERE instance_id=? AND kind='smoke_override'",
        (PROD,)).fetchone()
    assert row is not None and "INC-42 hotfix" in row[0]

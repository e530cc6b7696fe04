"""The reconcile semantics, proven against a real n8n and a real SQLite file."""

from __future__ import annotations

import shutil
from collections import Counter
from typing import Any

import pytest

from reconciler.apply.engine import RunOutcome
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n

SUMMARIZE = "use-cases/lead-enrichment/workflows/summarize.json"
TRIAGE = "use-cases/inbox-triage/workflows/triage.json"
ALL_CURRENT = {("lead-enrichment", "1.2.0"), ("inbox-triage", "2.1.0"),
               ("daily-digest", "1.0.0")}


def new_summarize(platform: Platform, tokens: int, *, publish: bool) -> None:
    """Lead enrichment 1.3.0: the summarize workflow asks for `tokens` tokens."""
    platform.edit_text(SUMMARIZE, '"maxTokensToSample": 300', f'"maxTokensToSample": {tokens}')
    platform.bump("lead-enrichment", "1.3.0")
    if publish:
        platform.publications.add(("lead-enrichment", "1.3.0"))


def kinds(out: RunOutcome) -> Counter[str]:
    assert out.plan is not None
    return Counter(step.kind for step in out.plan.steps)


def ok(out: RunOutcome) -> RunOutcome:
    assert out.outcome in ("applied", "no_changes"), out.error
    return out


def published(live: dict[str, Any], name_part: str) -> bool:
    found = [w for n, w in live.items() if name_part in n]
    assert found, f"no live workflow named like {name_part}"
    return all(w.get("activeVersionId") for w in found)


def node(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in workflow["nodes"] if n["name"] == name)


def test_first_apply_then_nothing_to_do(platform: Platform) -> None:
    first = ok(platform.reconcile())
    assert first.writes > 0
    live = platform.live()
    assert published(live, "[lead-enrichment.owner-dev/main]")
    assert published(live, "[inbox-triage-carol-dev/triage]")
    again = ok(platform.reconcile())
    assert again.outcome == "no_changes"
    assert (again.writes, again.reads) == (0, 2)  # list workflows + list credentials


def test_publish_switches_environments(platform: Platform) -> None:
    ok(platform.reconcile())
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    live = platform.live()
    assert published(live, "[lead-enrichment.owner-prod/main]")
    assert not live["Lead enrichment - API [lead-enrichment.owner-dev/main]"]["activeVersionId"]
    assert published(live, "[lead-enrichment-globex/main]")
    # A new dev deploy: dev active again, prod deactivated.
    new_summarize(platform, 350, publish=False)
    ok(platform.reconcile())
    live = platform.live()
    assert published(live, "[lead-enrichment.owner-dev/main]")
    assert not live["Lead enrichment - API [lead-enrichment.owner-prod/main]"]["activeVersionId"]
    assert platform.instance("lead-enrichment.owner-dev")["version"] == "1.3.0"
    assert platform.instance("lead-enrichment.owner-prod")["version"] == "1.2.0"


def test_one_changed_workflow_costs_exactly_its_writes(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    new_summarize(platform, 400, publish=True)
    out = ok(platform.reconcile())
    # owner-dev: draft only (prod is active after the publish); owner-prod and the
    # unpinned globex instance: update + publish of the one changed workflow.
    assert out.writes == 5, kinds(out)
    puts = [s for s in out.plan.steps if s.kind == "put_workflow"] if out.plan else []
    assert {s.target().split("/")[1] for s in puts} == {"summarize"}
    assert kinds(out)["publish_workflow"] == 2
    live = platform.live()
    globex = live["Lead enrichment - summarize [lead-enrichment-globex/summarize]"]
    assert node(globex, "Claude")["parameters"]["options"]["maxTokensToSample"] == 400
    assert platform.instance("lead-enrichment-globex")["version"] == "1.3.0"


def test_pinned_instance_gets_one_notice(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    platform.edit_text(TRIAGE, '"maxTries": 3', '"maxTries": 4')
    platform.bump("inbox-triage", "2.2.0")
    platform.publications.add(("inbox-triage", "2.2.0"))
    ok(platform.reconcile())
    alice = platform.instance("inbox-triage-alice")
    assert (alice["version"], alice["pinned"]) == ("2.1.0", 1)
    assert platform.instance("inbox-triage-carol")["version"] == "2.2.0"
    notices = platform.store.conn.execute(
        "SELECT kind, version FROM notices WHERE instance_id='inbox-triage-alice' AND "
        "dismissed=0").fetchall()
    assert ("update_available", "2.2.0") in notices
    assert ok(platform.reconcile()).outcome == "no_changes"  # one notice, not one per run


def test_rollback_by_pinning_an_older_version(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    new_summarize(platform, 500, publish=True)
    ok(platform.reconcile())
    # 1.2.0 is no longer in the repository: it comes back from the stored template.
    platform.edit_text("instances/lead-enrichment-globex.yaml", "environment: prod",
                       "environment: prod\nversion: 1.2.0")
    ok(platform.reconcile())
    live = platform.live()["Lead enrichment - summarize [lead-enrichment-globex/summarize]"]
    assert node(live, "Claude")["parameters"]["options"]["maxTokensToSample"] == 300
    assert platform.instance("lead-enrichment-globex")["version"] == "1.2.0"


def test_drift_is_reverted_with_a_diff(platform: Platform) -> None:
    ok(platform.reconcile())
    live = platform.live()["Inbox triage [inbox-triage-carol-dev/triage]"]
    node(live, "Sort by urgency")["parameters"]["jsCode"] = "return [];"
    body = {k: live[k] for k in ("name", "nodes", "connections", "settings")}
    platform.client.update_workflow(str(live["id"]), body)
    out = ok(platform.reconcile())
    drift = [s for s in out.plan.steps if getattr(s, "reason", "") == "drift"] if out.plan else []
    assert len(drift) == 1
    diff = getattr(drift[0], "diff", [])
    # Values, not paths: n8n's hand edit (old) and the repository's code (new).
    jscode = [d for d in diff if d["path"] == 'nodes["Sort by urgency"].parameters.jsCode']
    assert jscode and jscode[0]["old"] == '"return [];"', diff
    assert jscode[0]["new"] not in (None, '"return [];"')
    assert out.summary["drift"] == ["inbox-triage-carol-dev/triage"]
    again = platform.live()["Inbox triage [inbox-triage-carol-dev/triage]"]
    assert node(again, "Sort by urgency")["parameters"]["jsCode"] != "return [];"
    assert ok(platform.reconcile()).outcome == "no_changes"


def test_drift_only_reported_when_configured(platform: Platform) -> None:
    ok(platform.reconcile())
    platform.edit_text("platform.yaml", "drift: revert", "drift: report")
    live = platform.live()["Inbox triage [inbox-triage-carol-dev/triage]"]
    node(live, "Sort by urgency")["parameters"]["jsCode"] = "return [];"
    body = {k: live[k] for k in ("name", "nodes", "connections", "settings")}
    platform.client.update_workflow(str(live["id"]), body)
    out = ok(platform.reconcile())
    assert kinds(out)["report_drift"] == 1
    assert out.writes == 0


def test_pause_and_resume(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    path = "instances/inbox-triage-carol.yaml"
    platform.edit_text(path, "environment: prod", "environment: prod\nactive: false")
    out = ok(platform.reconcile())
    assert kinds(out)["unpublish_workflow"] == 1
    assert not published(platform.live(), "[inbox-triage-carol/triage]")
    assert platform.instance("inbox-triage-carol")["state"] == "user_paused"
    platform.edit_text(path, "\nactive: false", "")
    ok(platform.reconcile())
    assert published(platform.live(), "[inbox-triage-carol/triage]")
    assert platform.instance("inbox-triage-carol")["state"] == "active"


def test_removed_instance_is_archived_and_its_record_kept(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    (platform.repo / "instances" / "inbox-triage-carol.yaml").unlink()
    out = ok(platform.reconcile())
    assert kinds(out)["archive_workflow"] == 1
    archived = platform.live()["Inbox triage [inbox-triage-carol/triage]"]
    assert archived["isArchived"] and not archived["activeVersionId"]
    assert platform.instance("inbox-triage-carol")["state"] == "archived"
    assert ok(platform.reconcile()).outcome == "no_changes"


def test_changed_content_under_the_same_version_is_refused(platform: Platform) -> None:
    ok(platform.reconcile())
    platform.edit_text(SUMMARIZE, '"maxTokensToSample": 300', '"maxTokensToSample": 301')
    out = platform.reconcile()
    assert out.outcome == "held"  # that use case is held back; the rest is in sync
    assert out.error is not None and out.plan is not None
    assert [ident for _, ident, _ in out.plan.held] == ["lead-enrichment"]
    assert "lead-enrichment@1.2.0" in out.error and "workflows/summarize.json" in out.error
    assert out.writes == 0


def test_both_environments_active_setting(platform: Platform) -> None:
    platform.edit_text("platform.yaml", "both_environments_active: false",
                       "both_environments_active: true")
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    live = platform.live()
    assert published(live, "[daily-digest.owner-dev/digest]")
    assert published(live, "[daily-digest.owner-prod/digest]")


def test_saved_plan_is_refused_after_the_state_moved(platform: Platform) -> None:
    ok(platform.reconcile())
    plan, _ = platform.engine().plan(platform.declared())
    expect = (plan.state_version, plan.fingerprint())
    platform.edit_text("instances/inbox-triage-carol-dev.yaml", "environment: dev",
                       "environment: dev\nactive: false")
    ok(platform.reconcile())
    out = platform.reconcile(expect=expect)
    assert out.outcome == "failed" and "changed since the plan" in (out.error or "")


def test_a_removed_use_case_is_archived_with_its_instances(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    shutil.rmtree(platform.repo / "use-cases" / "daily-digest")
    (platform.repo / "instances" / "daily-digest-globex.yaml").unlink()
    platform.publications = {p for p in platform.publications if p[0] != "daily-digest"}
    out = ok(platform.reconcile())
    assert kinds(out)["archive_workflow"] == 3  # owner dev, owner prod, globex
    live = platform.live()
    assert all(w["isArchived"] for n, w in live.items() if "[daily-digest" in n)
    removed = platform.store.conn.execute(
        "SELECT removed FROM processes WHERE use_case='daily-digest'").fetchone()
    assert removed == (1,)
    assert platform.instance("daily-digest.owner-prod")["state"] == "archived"
    assert ok(platform.reconcile()).outcome == "no_changes"

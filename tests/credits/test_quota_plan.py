"""The planner's part of credits, without n8n: a spent account's instances go down."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.load.repository import load_partial
from reconciler.load.source import FolderSource
from reconciler.model.platform import PlatformState
from reconciler.plan.inputs import Observed, PlanInput
from reconciler.plan.planner import Plan, make_plan
from reconciler.plan.steps import AddNotice, PublishWorkflow, SaveInstance

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"
PUBLISHED = frozenset({("inbox-triage", "2.1.0"), ("lead-enrichment", "1.2.0"),
                       ("daily-digest", "1.0.0")})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    return tmp_path / "repo"


def plan_with(repo: Path, debits: dict[str, int]) -> Plan:
    state = PlatformState(version=0, period="2026-12", debits=debits)
    return make_plan(PlanInput(
        declared=load_partial(FolderSource(repo)), state=state,
        observed=Observed(workflows={}), publications=PUBLISHED,
        secrets={"org.acme.anthropic": "d1", "system.platform.anthropic": "d2",
                 "org.globex.slack": "d3", "org.acme.slack": "d4", "user.alice.gmail": "d5",
                 "user.carol.gmail": "d6", "user.dave.gmail": "d7", "user.erin.gmail": "d8"},
        n8n_base_url="http://127.0.0.1:5678"))


def states(plan: Plan) -> dict[str, str]:
    return {s.group: s.record["state"] for s in plan.steps if isinstance(s, SaveInstance)}


def test_nothing_is_held_while_credits_remain(repo: Path) -> None:
    plan = plan_with(repo, {"org:globex": 199, "org:acme": 9_999})
    assert "over_quota" not in states(plan).values()
    assert not [s for s in plan.steps if isinstance(s, AddNotice) and s.notice == "over_quota"]


def test_a_spent_org_has_its_instances_planned_inactive_with_a_notice(repo: Path) -> None:
    before = states(plan_with(repo, {}))
    plan = plan_with(repo, {"org:globex": 200})
    found = states(plan)
    globex = {"lead-enrichment-globex", "inbox-triage-erin", "daily-digest-globex",
              "inbox-triage-dave"}
    running = {i for i in globex if before.get(i) == "active"} - {"inbox-triage-erin"}
    assert running == {"lead-enrichment-globex"}
    assert {i: found[i] for i in running} == {i: "over_quota" for i in running}
    # a pause and an archive stay what they are; erin's personal plan pays for hers
    assert found["daily-digest-globex"] == "user_paused"
    assert found["inbox-triage-dave"] == "archived"
    assert found["inbox-triage-erin"] == before["inbox-triage-erin"] == "active"
    assert all(v != "over_quota" for k, v in found.items() if k not in running)
    globex = running
    published = {s.group for s in plan.steps if isinstance(s, PublishWorkflow)}
    assert not published & globex
    notices = {s.group: s for s in plan.steps if isinstance(s, AddNotice)
               and s.notice == "over_quota"}
    assert set(notices) == globex & set(found)
    assert all(n.version == "2026-12" and "200 of 200 credits" in n.message
               for n in notices.values())
    record = next(s.record for s in plan.steps
                  if isinstance(s, SaveInstance) and s.group in notices)
    assert record["active"] == 0


def test_a_personal_plan_is_spent_on_its_own(repo: Path) -> None:
    found = states(plan_with(repo, {"user:erin": 500}))
    assert found["inbox-triage-erin"] == "over_quota"
    assert found.get("inbox-triage-dave") != "over_quota"


def test_a_bigger_plan_lifts_the_hold(repo: Path) -> None:
    text = (repo / "platform.yaml").read_text(encoding="utf-8")
    (repo / "platform.yaml").write_text(text.replace("plan: free  #", "plan: pro  #"),
                                        encoding="utf-8")
    assert "over_quota" not in states(plan_with(repo, {"org:globex": 200})).values()


def test_an_unmetered_org_is_never_held(repo: Path) -> None:
    text = (repo / "platform.yaml").read_text(encoding="utf-8")
    (repo / "platform.yaml").write_text(text.replace("    plan: free  #", "    #"),
                                        encoding="utf-8")
    assert "over_quota" not in states(plan_with(repo, {"org:globex": 10**9})).values()

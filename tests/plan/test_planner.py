"""The pure planner, without n8n: ordering, plan errors, determinism, rendering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.errors import InvalidInput, PlanError, Problem
from reconciler.load.repository import load, load_partial
from reconciler.load.source import FolderSource
from reconciler.model.platform import PlatformState, TemplateRec
from reconciler.plan.inputs import Observed, PlanInput
from reconciler.plan.planner import Plan, make_plan
from reconciler.plan.show import MARKDOWN_LIMIT, plan_markdown, render_plan
from reconciler.plan.steps import PutWorkflow
from reconciler.validate.gate import Gate

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    return tmp_path / "repo"


def plan_for(repo: Path, state: PlatformState | None = None,
             publications: frozenset[tuple[str, str]] = frozenset()) -> Plan:
    inp = PlanInput(declared=load_partial(FolderSource(repo)),
                    state=state or PlatformState(version=0),
                    observed=Observed(workflows={}), publications=publications,
                    secrets={"org.acme.anthropic": "d1", "system.platform.anthropic": "d2"},
                    n8n_base_url="http://127.0.0.1:5678")
    return make_plan(inp)


def held(plan: Plan) -> dict[str, list[Problem]]:
    """Held unit id -> its problems."""
    return {ident: list(problems) for _, ident, problems in plan.held}


def groups(plan: Plan) -> set[str]:
    return {s.group for s in plan.steps if s.group}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_sub_workflows_come_before_their_callers(repo: Path) -> None:
    plan = plan_for(repo)
    puts = [(s.workflow_id, s.reason) for s in plan.steps
            if isinstance(s, PutWorkflow) and s.group == "lead-enrichment.owner-dev"]
    # New callees are written again once their new callers have ids (callerIds).
    assert puts == [("summarize", "new"), ("score-lead", "new"), ("main", "new"),
                    ("summarize", "callers"), ("score-lead", "callers")]
    publishes = [s.target() for s in plan.steps if s.kind == "publish_workflow"
                 and s.group == "lead-enrichment.owner-dev"]
    assert publishes == [f"lead-enrichment.owner-dev/{w}" for w, _ in puts[:3]]


def test_a_sub_workflow_cycle_is_a_plan_error(repo: Path) -> None:
    path = repo / "use-cases/lead-enrichment/workflows/summarize.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["nodes"][1]["parameters"]["text"] = "={{ 1 }} {{SUBWKFL_main_LFKWBUS}}"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    plan = plan_for(repo)
    assert any("cycle" in p.message for p in held(plan)["lead-enrichment"])
    # contained: the other use cases are planned as usual, nothing of this one
    assert not any(g.startswith("lead-enrichment") for g in groups(plan))
    assert {"inbox-triage.owner-dev", "daily-digest.owner-dev"} <= groups(plan)


def test_a_broken_platform_file_holds_everything(repo: Path) -> None:
    (repo / "platform.yaml").write_text("organizations: [\n", encoding="utf-8")
    with pytest.raises(InvalidInput):
        plan_for(repo)


def test_a_broken_use_case_file_holds_only_that_use_case(repo: Path) -> None:
    (repo / "use-cases/daily-digest/workflows/digest.json").write_text("{", encoding="utf-8")
    (repo / "instances/inbox-triage-erin.yaml").write_text("use_case: [", encoding="utf-8")
    plan = plan_for(repo)
    assert set(held(plan)) == {"daily-digest", "inbox-triage-erin"}
    assert not any(g.startswith("daily-digest") or g == "inbox-triage-erin"
                   for g in groups(plan))
    assert {"lead-enrichment.owner-dev", "inbox-triage.owner-dev"} <= groups(plan)


def test_a_platform_level_gate_problem_raises() -> None:
    with pytest.raises(PlanError):
        raise PlanError(Gate().add([(Problem("platform.yaml", "x"), None)]).platform)


def test_visibility_is_enforced(repo: Path) -> None:
    edit(repo / "use-cases/lead-enrichment/use-case.yaml", "visibility: {level: public}",
         "visibility: {level: organizational}")
    plan = plan_for(repo)
    problems = held(plan)["lead-enrichment-globex"]
    assert any(p.file == "instances/lead-enrichment-globex.yaml" and p.rule == "ACCESS"
               for p in problems)
    assert "lead-enrichment-globex" not in groups(plan)
    assert "lead-enrichment.owner-dev" in groups(plan)  # only the instance is held


def test_one_personal_instance_per_user_and_environment(repo: Path) -> None:
    shutil.copy(repo / "instances/inbox-triage-carol.yaml",
                repo / "instances/inbox-triage-carol-again.yaml")
    plan = plan_for(repo)
    for twin in ("inbox-triage-carol-again", "inbox-triage-carol"):
        assert any("more than one prod instance" in p.message for p in held(plan)[twin])
    assert "inbox-triage-alice" not in held(plan)


def test_a_declared_copy_of_the_owner_environment_is_refused(repo: Path) -> None:
    (repo / "instances/acme-lead.yaml").write_text(
        "use_case: lead-enrichment\nowner: {org: acme}\nenvironment: dev\n"
        "parameters: {COMPANY_NAME: Acme}\n", encoding="utf-8")
    plan = plan_for(repo)
    assert any("automatic dev environment" in p.message for p in held(plan)["acme-lead"])
    assert "lead-enrichment" not in held(plan)  # the owner's environments go on


def test_changed_content_under_a_stored_version(repo: Path) -> None:
    first = load(FolderSource(repo)).use_cases["daily-digest"]
    digests = dict(first.file_digests, **{"workflows/digest.json": "0" * 64})
    rec = TemplateRec(id="daily-digest@1.0.0", use_case="daily-digest", version="1.0.0",
                      fingerprint="sha256:other", status="inactive", revision=None,
                      config=first.config.model_dump_json(),
                      workflows={wf.spec.file: wf.text for wf in first.workflows}, skills={},
                      file_digests=digests)
    plan = plan_for(repo, PlatformState(version=1, templates={rec.id: rec}))
    text = "; ".join(str(p) for p in held(plan)["daily-digest"])
    assert "daily-digest@1.0.0" in text and "workflows/digest.json" in text
    assert "use-case.yaml" not in text.split("changed:")[1]


def test_plans_are_deterministic(repo: Path) -> None:
    assert plan_for(repo).fingerprint() == plan_for(repo).fingerprint()


def test_waiting_instances_get_a_notice_not_an_error(repo: Path) -> None:
    plan = plan_for(repo)
    notices = {s.group for s in plan.steps if s.kind == "add_notice"}
    assert "inbox-triage-alice" in notices  # pinned to a version not yet published
    assert "inbox-triage-dave" not in notices  # archived: nothing to wait for


def test_plan_renders_in_three_formats(repo: Path) -> None:
    plan = plan_for(repo)
    data = json.loads(render_plan(plan, "json"))
    assert data["changes"] == len(plan.steps) and data["fingerprint"] == plan.fingerprint()
    assert "create workflow lead-enrichment.owner-dev/main" in render_plan(plan, "text")
    markdown = render_plan(plan, "markdown")
    assert "| instance | create |" in markdown and "<details>" in markdown


def test_markdown_is_capped_for_pull_request_comments(repo: Path) -> None:
    plan = plan_for(repo)
    huge = Plan(steps=plan.steps * 400, state_version=0, revision=None)
    text = plan_markdown(huge)
    assert len(text) < MARKDOWN_LIMIT + 100 < 65_000
    assert "more step(s) not shown" in text


def test_every_check_the_planner_makes_is_a_validation_rule() -> None:
    """The planner's own problems carry ids of registered rules (validate has them)."""
    import re

    from reconciler.validate.rules import REGISTRY

    root = Path(__file__).resolve().parents[2] / "reconciler"
    found = {m for folder in ("plan", "load") for path in (root / folder).glob("*.py")
             for m in re.findall(r'rule="([A-Z][A-Z0-9-]+)"', path.read_text("utf-8"))}
    assert found and found <= set(REGISTRY), sorted(found - set(REGISTRY))

"""The pure planner, without n8n: ordering, plan errors, determinism, rendering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.errors import PlanError
from reconciler.load.repository import load
from reconciler.load.source import FolderSource
from reconciler.model.platform import PlatformState, TemplateRec
from reconciler.plan.inputs import Observed, PlanInput
from reconciler.plan.planner import Plan, make_plan
from reconciler.plan.show import MARKDOWN_LIMIT, plan_markdown, render_plan
from reconciler.plan.steps import PutWorkflow

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    return tmp_path / "repo"


def plan_for(repo: Path, state: PlatformState | None = None,
             publications: frozenset[tuple[str, str]] = frozenset()) -> Plan:
    inp = PlanInput(declared=load(FolderSource(repo)), state=state or PlatformState(version=0),
                    observed=Observed(workflows={}), publications=publications,
                    secrets={"org.acme.anthropic": "d1", "system.platform.anthropic": "d2"},
                    n8n_base_url="http://127.0.0.1:5678")
    return make_plan(inp)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_sub_workflows_come_before_their_callers(repo: Path) -> None:
    plan = plan_for(repo)
    puts = [s.workflow_id for s in plan.steps
            if isinstance(s, PutWorkflow) and s.group == "lead-enrichment.owner-dev"]
    assert puts == ["summarize", "score-lead", "main"]
    publishes = [s.target() for s in plan.steps if s.kind == "publish_workflow"
                 and s.group == "lead-enrichment.owner-dev"]
    assert publishes == [f"lead-enrichment.owner-dev/{w}" for w in puts]


def test_a_sub_workflow_cycle_is_a_plan_error(repo: Path) -> None:
    path = repo / "use-cases/lead-enrichment/workflows/summarize.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["nodes"][1]["parameters"]["text"] = "={{ 1 }} {{SUBWKFL_main_LFKWBUS}}"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    with pytest.raises(PlanError, match="cycle"):
        plan_for(repo)


def test_visibility_is_enforced(repo: Path) -> None:
    edit(repo / "use-cases/lead-enrichment/use-case.yaml", "visibility: {level: public}",
         "visibility: {level: organizational}")
    with pytest.raises(PlanError) as info:
        plan_for(repo)
    assert any(p.file == "instances/lead-enrichment-globex.yaml" and p.rule == "ACCESS"
               for p in info.value.problems)


def test_one_personal_instance_per_user_and_environment(repo: Path) -> None:
    shutil.copy(repo / "instances/inbox-triage-carol.yaml",
                repo / "instances/inbox-triage-carol-again.yaml")
    with pytest.raises(PlanError, match="already has the prod instance"):
        plan_for(repo)


def test_a_declared_copy_of_the_owner_environment_is_refused(repo: Path) -> None:
    (repo / "instances/acme-lead.yaml").write_text(
        "use_case: lead-enrichment\nowner: {org: acme}\nenvironment: dev\n"
        "parameters: {COMPANY_NAME: Acme}\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"lead-enrichment\.owner-dev"):
        plan_for(repo)


def test_changed_content_under_a_stored_version(repo: Path) -> None:
    first = load(FolderSource(repo)).use_cases["daily-digest"]
    digests = dict(first.file_digests, **{"workflows/digest.json": "0" * 64})
    rec = TemplateRec(id="daily-digest@1.0.0", use_case="daily-digest", version="1.0.0",
                      fingerprint="sha256:other", status="inactive", revision=None,
                      config=first.config.model_dump_json(),
                      workflows={wf.spec.file: wf.text for wf in first.workflows}, skills={},
                      file_digests=digests)
    with pytest.raises(PlanError) as info:
        plan_for(repo, PlatformState(version=1, templates={rec.id: rec}))
    text = str(info.value)
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

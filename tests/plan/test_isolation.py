"""Isolation in the pure planner: caller lists, platform settings, own credentials only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.load.repository import load, load_partial
from reconciler.load.source import FolderSource
from reconciler.model.platform import PlatformState
from reconciler.plan.credentials import foreign_credentials
from reconciler.plan.inputs import Observed, PlanInput
from reconciler.plan.planner import Plan, make_plan
from reconciler.plan.steps import PENDING, PutWorkflow, pending
from reconciler.plan.workflows import callers_of
from reconciler.render.context import CredentialRef, RenderContext
from reconciler.render.settings import CALLER_POLICY, DEFAULTS, REMOVE

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"
LEAD = "use-cases/lead-enrichment/workflows"
DEV = "lead-enrichment.owner-dev"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    return tmp_path / "repo"


def plan_for(repo: Path) -> Plan:
    inp = PlanInput(declared=load_partial(FolderSource(repo)), state=PlatformState(version=0),
                    observed=Observed(workflows={}),
                    secrets={"org.acme.anthropic": "d1", "system.platform.anthropic": "d2"},
                    n8n_base_url="http://127.0.0.1:5678")
    return make_plan(inp)


def change(repo: Path, rel: str, edit: Any) -> None:
    path = repo / rel
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def puts(plan: Plan, group: str) -> list[PutWorkflow]:
    return [s for s in plan.steps if isinstance(s, PutWorkflow) and s.group == group]


def test_callers_are_the_workflows_of_the_use_case_that_reference_it(repo: Path) -> None:
    uc = load(FolderSource(repo)).use_cases["lead-enrichment"]
    assert callers_of(uc) == {"main": [], "score-lead": ["main"], "summarize": ["score-lead"]}


def test_new_callees_list_their_new_callers_in_a_second_write(repo: Path) -> None:
    steps = puts(plan_for(repo), DEV)
    first = {s.workflow_id: s for s in steps if s.reason == "new"}
    second = {s.workflow_id: s for s in steps if s.reason == "callers"}
    assert set(second) == {"summarize", "score-lead"}
    assert first["summarize"].body["settings"]["callerIds"] == ""  # no caller exists yet
    assert second["summarize"].body["settings"]["callerIds"] == pending(
        "wf", f"{DEV}/score-lead")
    assert second["summarize"].n8n_id == pending("wf", f"{DEV}/summarize")
    assert second["score-lead"].body["settings"]["callerIds"] == pending("wf", f"{DEV}/main")
    # Each instance lists only its own workflows.
    assert all(DEV in s.body["settings"]["callerIds"] for s in second.values())


def test_every_setting_is_explicit_and_the_platform_policy_wins(repo: Path) -> None:
    change(repo, f"{LEAD}/summarize.json",
           lambda d: d["settings"].update(callerPolicy="any", callerIds="evil1,evil2"))
    for step in puts(plan_for(repo), DEV):
        settings = step.body["settings"]
        assert settings["callerPolicy"] == CALLER_POLICY
        assert "evil" not in settings["callerIds"]
        if step.n8n_id is None:  # a create: n8n would store "DEFAULT" verbatim
            assert set(settings) == set(DEFAULTS) - {"timezone"}
            assert REMOVE not in settings.values()
        else:
            assert set(settings) == set(DEFAULTS)
            assert settings["timezone"] == REMOVE  # an update removes a hand-set zone


def test_a_literal_credential_id_is_a_plan_problem_naming_file_and_node(repo: Path) -> None:
    def smuggle(data: dict[str, Any]) -> None:
        node = next(n for n in data["nodes"] if "credentials" in n)
        ctype = next(iter(node["credentials"]))
        node["credentials"][ctype] = {"id": "CredOfGlobex42", "name": "theirs"}

    change(repo, f"{LEAD}/summarize.json", smuggle)
    # validate's CRED-HARDCODED refuses it first: the use case is held, nothing planned
    held = {ident: ps for _, ident, ps in plan_for(repo).held}
    problems = [p for p in held["lead-enrichment"] if p.rule == "CRED-HARDCODED"]
    assert problems and all(p.file.endswith("lead-enrichment/workflows/summarize.json")
                            for p in problems)


def test_a_foreign_error_workflow_is_a_plan_problem(repo: Path) -> None:
    path = repo / LEAD / "main.json"  # holds bare placeholders: edited as text
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}"', '"OtherOrgs1"'),
                    encoding="utf-8")
    held = {ident: ps for _, ident, ps in plan_for(repo).held}
    assert any(p.rule == "PLATFORM-ERROR-WORKFLOW" for p in held["lead-enrichment"])


def _ctx(**refs: str) -> RenderContext:
    return RenderContext(process_id="p", namespace="acme", instance_uid="i1",
                         credentials={("USERCRED", k): CredentialRef(id=v, name=k)
                                      for k, v in refs.items()})


def _body(*creds: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": [{"name": f"n{i}", "credentials": {"gmailOAuth2": c}}
                      for i, c in enumerate(creds)]}


def test_foreign_credentials_accepts_only_the_instance_s_own_ids() -> None:
    ctx = _ctx(GMAIL="own1", SLACK=pending("cred", "user.alice.slack:slackApi"))
    own = _body({"id": "own1", "name": "x"}, {"id": ctx.credentials[("USERCRED", "SLACK")].id})
    assert foreign_credentials("wf.json", own, ctx) == []
    bad = foreign_credentials("wf.json", _body({"id": "bobs"}, {"name": "by name only"},
                                               "not a ref"), ctx)
    assert [(p.field, p.rule) for p in bad] == [
        (f"nodes[{i}].credentials.gmailOAuth2.id", "CRED-HARDCODED") for i in range(3)]
    assert "node 'n0'" in bad[0].message and "'bobs'" in bad[0].message
    assert "no id" in bad[1].message
    assert all(PENDING not in p.message for p in bad)

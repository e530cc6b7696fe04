"""An offline plan (no n8n) still shows changed fields old -> new: between the workflow
file of the template version an instance runs and the one it will run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from reconciler.load.repository import load
from reconciler.load.source import FolderSource
from reconciler.model.platform import InstanceRec, PlatformState, TemplateRec, template_id
from reconciler.plan.offline_diff import with_template_diffs
from reconciler.plan.planner import Plan
from reconciler.plan.show import plan_text
from reconciler.plan.steps import PutWorkflow, SaveInstance

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"


def test_offline_diff_between_template_versions() -> None:
    declared = load(FolderSource(str(EXAMPLE)))
    uc = declared.use_cases["inbox-triage"]
    wf = uc.workflows[0]
    old_text = wf.text.replace('"typeVersion": 2', '"typeVersion": 1', 1)
    assert old_text != wf.text
    old = TemplateRec(
        id=template_id(uc.slug, "0.9.0"), use_case=uc.slug, version="0.9.0",
        fingerprint="sha256:old", status="published", revision=None,
        config=uc.config.model_dump_json(), workflows={wf.spec.file: old_text}, skills={},
        file_digests={})
    current = InstanceRec(
        id="inbox-triage-carol-dev", use_case=uc.slug, owner_user="carol", owner_org="acme",
        environment="dev", automatic=True, version="0.9.0", pinned=False, active=True,
        state="active", state_detail=None, sharing={}, parameters={})
    state = PlatformState(version=1, templates={old.id: old},
                          instances={current.id: current})
    record = {**current.row(), "version": uc.version}
    plan = Plan(steps=(
        PutWorkflow(group=current.id, workflow_id=wf.spec.id, n8n_id="w1", reason="changed"),
        SaveInstance(group=current.id, record=record, deploy_template=template_id(
            uc.slug, uc.version), previous_version="0.9.0")), state_version=1, revision=None)

    diffed = with_template_diffs(plan, state, declared, {})
    step = diffed.steps[0]
    assert isinstance(step, PutWorkflow)
    assert [d for d in step.diff if d["path"].endswith(".typeVersion")] == [
        {"path": 'nodes["Triage request"].typeVersion', "change": "changed",
         "old": "1.1", "new": "2.1"}]
    assert 'nodes["Triage request"].typeVersion: 1.1 -> 2.1' in plan_text(diffed)
    # a workflow created, or one with a diff already, is left as it is
    untouched = dataclasses.replace(plan, steps=(dataclasses.replace(
        plan.steps[0], n8n_id=None),))
    assert with_template_diffs(untouched, state, declared, {}) == untouched
    assert json.dumps(step.diff)  # plain data, as the JSON plan needs

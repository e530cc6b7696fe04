"""The owner's dev/prod switch without n8n: what waits on what, and when it may run."""

from __future__ import annotations

from pathlib import Path

from reconciler.apply.gate import held_back
from reconciler.model.platform import InstanceRec, PlatformState, ProcessRec
from reconciler.plan.steps import (
    AddNotice,
    PublishWorkflow,
    PutWorkflow,
    SaveInstance,
    SaveProcess,
    UnpublishWorkflow,
)
from reconciler.plan.switch import hold_switches
from reconciler.store.db import Store
from reconciler.store.state import StateWriter
from tests.plan.test_planner import plan_for
from tests.plan.test_planner import repo as repo

DEV, PROD = "uc.owner-dev", "uc.owner-prod"


def test_the_side_going_down_and_the_switch_record_wait_for_the_other() -> None:
    steps = [SaveProcess(use_case="uc", record={"active_env": "dev"}),
             PutWorkflow(group=DEV, workflow_id="a"), PublishWorkflow(group=DEV, workflow_id="a"),
             UnpublishWorkflow(group=PROD, workflow_id="a", n8n_id="1"),
             SaveInstance(group=PROD, record={"state": "active", "version": "1"}),
             AddNotice(group="other", notice="n")]
    out = hold_switches(steps, {"uc": (DEV, PROD)})
    assert [s.kind for s in out] == ["put_workflow", "publish_workflow", "unpublish_workflow",
                                     "save_instance", "save_process", "add_notice"]
    assert [s.after_group for s in out] == ["", "", DEV, DEV, DEV, ""]


def test_nothing_to_unpublish_nothing_held_but_the_switch_record() -> None:
    steps = [SaveProcess(use_case="uc", record={"active_env": "prod"}),
             PutWorkflow(group=PROD, workflow_id="a"),
             PutWorkflow(group=DEV, workflow_id="a")]  # dev's draft only: it is not live
    out = hold_switches(steps, {"uc": (PROD, DEV)})
    assert [(s.kind, s.group, s.after_group) for s in out] == [
        ("put_workflow", PROD, ""), ("put_workflow", DEV, ""), ("save_process", "", PROD)]


def _rec(instance_id: str, env: str, version: str, active: bool) -> InstanceRec:
    return InstanceRec(id=instance_id, use_case="lead-enrichment", owner_user=None,
                       owner_org="acme", environment=env, automatic=True, version=version,
                       pinned=False, active=active, state="active", state_detail=None,
                       sharing={}, parameters={})


def test_a_publication_plans_prod_first_and_the_switch_after_it(repo: Path) -> None:
    dev = "lead-enrichment.owner-dev"
    state = PlatformState(version=1, processes={
        "lead-enrichment": ProcessRec("lead-enrichment", "dev", removed=False)},
        instances={dev: _rec(dev, "dev", "1.2.0", True)})
    plan = plan_for(repo, state, publications=frozenset({("lead-enrichment", "1.2.0")}))
    groups = [s.group for s in plan.steps if s.group.startswith("lead-enrichment.owner")]
    assert groups.index("lead-enrichment.owner-prod") < groups.index(dev)
    switch = [i for i, s in enumerate(plan.steps) if isinstance(s, SaveProcess)
              and s.use_case == "lead-enrichment"]
    assert len(switch) == 1 and plan.steps[switch[0]].after_group == "lead-enrichment.owner-prod"
    last_prod = max(i for i, s in enumerate(plan.steps) if s.group == "lead-enrichment.owner-prod")
    assert switch[0] > last_prod


def test_gate_needs_the_group_succeeded_and_its_instance_live(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    writer = StateWriter(store)
    steps = [UnpublishWorkflow(group=PROD, after_group=DEV)]
    assert held_back(store, steps, {}, {}) == f"held back: {DEV} is not deployed"
    row = {**_rec(DEV, "dev", "1", False).row(), "state": "missing_integration",
           "state_detail": "missing: user.x.gmail", "created_at": "t", "updated_at": "t"}
    writer.upsert("instances", row, "id")
    assert held_back(store, steps, {}, {}) == (
        f"held back: {DEV} is not live (missing_integration: missing: user.x.gmail)")
    writer.upsert("instances", {**row, "state": "active", "state_detail": None, "active": 1},
                  "id")
    assert held_back(store, steps, {}, {}) is None
    assert held_back(store, steps, {DEV: "publish failed"}, {}) == (
        f"held back: {DEV} did not go live (publish failed)")
    assert held_back(store, [PutWorkflow(group=PROD)], {DEV: "x"}, {}) is None
    store.close()

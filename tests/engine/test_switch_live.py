"""The owner's dev/prod switch is all-or-nothing, on a real n8n and real git.

A new version on the branch takes dev live and prod down; a publication the other
way round. The side going down waits until the other is live: when it fails, the
running side stays up and the report says why. The failure is real n8n's: a
hand-made workflow (not ours) already holds the incoming side's webhook path, so
its publish answers 409.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from typing import Any

import pygit2
import pytest

from reconciler.apply.engine import RunOutcome
from reconciler.daemon.demo import commit_all
from reconciler.errors import N8nTemporary
from reconciler.plan.show import plan_text
from reconciler.report.show import report_text, run_record
from tests.engine.conftest import Platform
from tests.engine.test_reconcile_live import new_summarize, ok

pytestmark = pytest.mark.n8n

DEV, PROD = "lead-enrichment.owner-dev", "lead-enrichment.owner-prod"
RELEASE = ("lead-enrichment", "1.2.0")
MAIN = "Lead enrichment - API [{}/main]"


def lead_only(platform: Platform) -> pygit2.Repository:
    """Only lead enrichment and its owner's environments (a quick test), in real git."""
    for slug in ("inbox-triage", "daily-digest"):
        shutil.rmtree(platform.repo / "use-cases" / slug)
    for path in (platform.repo / "instances").glob("*.yaml"):
        path.unlink()
    repo = pygit2.init_repository(str(platform.repo), initial_head="main")
    assert commit_all(repo, "lead enrichment only")
    return repo


def commit(repo: pygit2.Repository, message: str) -> str:
    made = commit_all(repo, message)
    assert made is not None
    return made


def webhook_path(platform: Platform, instance_id: str) -> str:
    main = platform.live()[MAIN.format(instance_id)]
    return str(next(n for n in main["nodes"]
                    if n["type"] == "n8n-nodes-base.webhook")["parameters"]["path"])


def squat(platform: Platform, path: str) -> str:
    """A hand-made live workflow on `path`: n8n refuses to publish ours on it (409)."""
    body = {"name": "Hand-made intake", "settings": {}, "connections": {},
            "nodes": [{"name": "Intake", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
                       "position": [0, 0], "webhookId": str(uuid.uuid4()),
                       "parameters": {"path": path, "httpMethod": "POST"}}]}
    for _ in range(5):  # a loaded machine's n8n may answer 503 to a create: look, retry
        made = [str(w["id"]) for w in platform.client.list_workflows()
                if w["name"] == body["name"]]
        if not made:
            with contextlib.suppress(N8nTemporary):
                made = [str(platform.client.create_workflow(body)["id"])]
        if made:
            platform.client.publish_workflow(made[0])
            return made[0]
    raise AssertionError("could not create the hand-made workflow")


def unsquat(platform: Platform, n8n_id: str) -> None:
    platform.client.unpublish_workflow(n8n_id)
    platform.client.archive_workflow(n8n_id)
    platform.client.delete_workflow(n8n_id)


def state_of(platform: Platform) -> dict[str, Any]:
    """What the switch touches: our live workflows and the environments' records."""
    live = {n: (w["id"], w["activeVersionId"]) for n, w in platform.live().items()
            if "[lead-enrichment." in n}
    records = {i: {k: platform.instance(i)[k] for k in ("version", "active", "state")}
               for i in (DEV, PROD)}
    env = platform.store.conn.execute(
        "SELECT active_env FROM processes WHERE use_case='lead-enrichment'").fetchone()
    return {"live": live, "records": records, "env": env[0]}


def published(platform: Platform, instance_id: str) -> bool:
    found = [w for n, w in platform.live().items() if f"[{instance_id}/" in n]
    assert len(found) == 3, instance_id
    states = {bool(w["activeVersionId"]) for w in found}
    assert len(states) == 1, f"{instance_id} half published"
    return states == {True}


def steps_of(platform: Platform, out: RunOutcome) -> list[dict[str, Any]]:
    assert out.run_id is not None
    steps: list[dict[str, Any]] = run_record(platform.store, out.run_id)["steps"]
    return steps


def seqs(steps: list[dict[str, Any]], kind: str, instance: str) -> list[int]:
    return [s["seq"] for s in steps if s["kind"] == kind and s["instance"] == instance
            and s["outcome"] == "applied"]


def no_op(platform: Platform) -> None:
    again = ok(platform.reconcile())
    assert again.outcome == "no_changes" and again.writes == 0


def test_failed_dev_deploy_keeps_prod_up_and_reverting_restores_it(platform: Platform) -> None:
    repo = lead_only(platform)
    platform.publications.add(RELEASE)
    ok(platform.reconcile())
    assert published(platform, PROD) and not published(platform, DEV)
    before = state_of(platform)
    good = str(repo.head.target)
    blocker = squat(platform, webhook_path(platform, DEV))
    new_summarize(platform, 350, publish=False)
    commit(repo, "lead enrichment 1.3.0")

    bad = platform.reconcile()
    assert bad.outcome == "partial" and bad.result is not None
    assert "conflict with one of the webhooks" in bad.result.failed_groups[DEV]
    assert bad.result.held_back[PROD].startswith(f"held back: {DEV} did not go live")
    assert state_of(platform) == before  # prod up, same ids and versions; dev off
    steps = steps_of(platform, bad)
    assert {s["outcome"] for s in steps if s["instance"] == PROD} == {"skipped"}
    report = report_text(run_record(platform.store, "latest"))
    assert f"{PROD}: held back: {DEV} did not go live" in report

    repo.reset(pygit2.Oid(hex=good), pygit2.enums.ResetMode.HARD)  # the branch moves back
    ok(platform.reconcile())
    assert state_of(platform) == before
    no_op(platform)

    # Once the path is free, the same version goes through: dev live first, then prod down.
    unsquat(platform, blocker)
    new_summarize(platform, 350, publish=False)
    commit(repo, "lead enrichment 1.3.0 again")
    out = ok(platform.reconcile())
    steps = steps_of(platform, out)
    assert max(seqs(steps, "publish_workflow", DEV)) < min(
        seqs(steps, "unpublish_workflow", PROD))
    assert published(platform, DEV) and not published(platform, PROD)
    assert state_of(platform)["env"] == "dev"
    no_op(platform)


def test_failed_publication_keeps_dev_up_until_prod_is_live(platform: Platform) -> None:
    lead_only(platform)
    ok(platform.reconcile())
    assert published(platform, DEV)
    prod_path = webhook_path(platform, DEV).replace(f"/{DEV}/", f"/{PROD}/")
    assert PROD in prod_path
    blocker = squat(platform, prod_path)
    platform.publications.add(RELEASE)
    plan, _ = platform.engine().plan(platform.declared(),
                                     publications=frozenset(platform.publications))
    groups = [s.group for s in plan.steps if s.group]
    assert groups.index(PROD) < groups.index(DEV)  # the side going live is planned first
    waiting = [i for i, s in enumerate(plan.steps) if s.after_group]
    assert {plan.steps[i].group for i in waiting} == {DEV, ""}  # dev and the process record
    assert all(plan.steps[i].after_group == PROD for i in waiting)
    assert plan.steps[waiting[-1]].kind == "save_process"  # after both groups
    assert f"(once {PROD} is live)" in plan_text(plan)

    bad = platform.reconcile()
    assert bad.result is not None
    assert "conflict with one of the webhooks" in bad.result.failed_groups[PROD]
    assert DEV in bad.result.held_back
    assert published(platform, DEV) and not published(platform, PROD)
    assert platform.instance(PROD)["state"] == "deploy_failed"
    assert state_of(platform)["env"] == "dev"

    again = platform.reconcile()  # still blocked: tried again, dev still up
    assert again.result is not None and PROD in again.result.failed_groups
    assert published(platform, DEV)

    unsquat(platform, blocker)
    out = ok(platform.reconcile())
    steps = steps_of(platform, out)
    assert max(seqs(steps, "publish_workflow", PROD)) < min(
        seqs(steps, "unpublish_workflow", DEV))
    assert published(platform, PROD) and not published(platform, DEV)
    assert platform.instance(PROD)["state"] == "active"
    assert state_of(platform)["env"] == "prod"
    no_op(platform)

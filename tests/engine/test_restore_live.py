"""Archived instances that come back are restored in one run, on a real n8n.

n8n refuses to update (`400 Cannot update an archived workflow`) or publish an
archived workflow, so a restore unarchives the same workflow first (same n8n id),
or creates it again when it is gone (prune). Afterwards the instance record, the
mappings and the deployment agree with n8n and the next run is a no-op.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from reconciler.plan.steps import UnarchiveWorkflow
from tests.engine.conftest import Platform
from tests.engine.test_reconcile_live import ALL_CURRENT, kinds, ok

pytestmark = pytest.mark.n8n

CAROL = "instances/inbox-triage-carol.yaml"
CAROL_TRIAGE = "Inbox triage [inbox-triage-carol/triage]"
DIGEST = "use-cases/daily-digest"
DIGEST_GLOBEX = "instances/daily-digest-globex.yaml"


def ids_of(platform: Platform, part: str) -> dict[str, str]:
    return {n: str(w["id"]) for n, w in platform.live().items() if part in n}


def mappings(platform: Platform, instance_id: str) -> list[dict[str, Any]]:
    cur = platform.store.conn.execute(
        "SELECT workflow_id, n8n_id, archived, published_version_id FROM workflow_mappings "
        "WHERE instance_id=? ORDER BY workflow_id", (instance_id,))
    return [dict(zip([d[0] for d in cur.description], row, strict=True)) for row in cur]


def last_deployment(platform: Platform, instance_id: str) -> str:
    row = platform.store.conn.execute(
        "SELECT status FROM deployments WHERE instance_id=? ORDER BY id DESC LIMIT 1",
        (instance_id,)).fetchone()
    assert row is not None, instance_id
    return str(row[0])


def assert_live_and_recorded(platform: Platform, instance_id: str, *, published: bool) -> None:
    """n8n, the mappings and the records agree: unarchived, (un)published as expected."""
    live = {str(w["id"]): w for w in platform.client.list_workflows()}
    rows = mappings(platform, instance_id)
    assert rows, instance_id
    for row in rows:
        wf = live[row["n8n_id"]]
        assert not wf["isArchived"] and row["archived"] == 0, (instance_id, row)
        assert bool(wf["activeVersionId"]) is published, (instance_id, row)
        assert (row["published_version_id"] is not None) is published, (instance_id, row)
    assert platform.instance(instance_id)["state"] != "archived"


def no_op(platform: Platform) -> None:
    again = ok(platform.reconcile())
    assert again.outcome == "no_changes", kinds(again)
    assert again.writes == 0


def test_archived_then_unarchived_instance_is_restored(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    before = ids_of(platform, "[inbox-triage-carol/")
    platform.edit_text(CAROL, "environment: prod", "environment: prod\narchived: true")
    ok(platform.reconcile())
    assert platform.live()[CAROL_TRIAGE]["isArchived"]
    platform.edit_text(CAROL, "\narchived: true", "")
    out = ok(platform.reconcile())
    assert kinds(out)["unarchive_workflow"] == 1 and kinds(out)["publish_workflow"] == 1
    assert ids_of(platform, "[inbox-triage-carol/") == before  # the same workflow, unarchived
    assert_live_and_recorded(platform, "inbox-triage-carol", published=True)
    assert platform.instance("inbox-triage-carol")["state"] == "active"
    assert last_deployment(platform, "inbox-triage-carol") == "deployed"
    no_op(platform)


def test_deleted_instance_file_re_added_with_new_parameters(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    path = platform.repo / CAROL
    saved = path.read_text(encoding="utf-8")
    before = ids_of(platform, "[inbox-triage-carol/")
    path.unlink()
    ok(platform.reconcile())
    assert platform.instance("inbox-triage-carol")["state"] == "archived"
    path.write_text(saved.replace("MAX_EMAILS: 50", "MAX_EMAILS: 60"), encoding="utf-8")
    out = ok(platform.reconcile())
    # Unarchive, then the PUT n8n would refuse on an archived workflow, then publish.
    assert out.plan is not None
    assert [s.kind for s in out.plan.steps if s.group == "inbox-triage-carol"][:3] == [
        "unarchive_workflow", "put_workflow", "publish_workflow"]
    assert ids_of(platform, "[inbox-triage-carol/") == before
    assert_live_and_recorded(platform, "inbox-triage-carol", published=True)
    assert json.loads(platform.instance("inbox-triage-carol")["parameters"])["MAX_EMAILS"] == 60
    assert last_deployment(platform, "inbox-triage-carol") == "deployed"
    no_op(platform)


def test_pruned_instance_re_added_is_created_again(platform: Platform) -> None:
    platform.edit_text("platform.yaml", "prune: false", "prune: true")
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    path = platform.repo / CAROL
    saved = path.read_text(encoding="utf-8")
    path.unlink()
    ok(platform.reconcile())
    assert CAROL_TRIAGE not in platform.live() and not mappings(platform, "inbox-triage-carol")
    path.write_text(saved, encoding="utf-8")
    out = ok(platform.reconcile())
    assert kinds(out)["put_workflow"] == 1 and "unarchive_workflow" not in kinds(out)
    assert_live_and_recorded(platform, "inbox-triage-carol", published=True)
    no_op(platform)


def test_interrupted_restore_converges(platform: Platform) -> None:
    """A run killed between unarchiving in n8n and recording it: the record catches up."""
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    platform.edit_text(CAROL, "environment: prod", "environment: prod\narchived: true")
    ok(platform.reconcile())
    platform.client.unarchive_workflow(str(platform.live()[CAROL_TRIAGE]["id"]))
    platform.edit_text(CAROL, "\narchived: true", "")
    out = ok(platform.reconcile())
    assert out.plan is not None
    restore = [s for s in out.plan.steps if isinstance(s, UnarchiveWorkflow)]
    assert len(restore) == 1 and not restore[0].live_archived
    assert out.writes == 1  # the publish: n8n holds it unarchived already
    assert_live_and_recorded(platform, "inbox-triage-carol", published=True)
    no_op(platform)


def test_hand_unarchived_workflow_of_an_archived_instance_is_archived_again(
        platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    platform.edit_text(CAROL, "environment: prod", "environment: prod\narchived: true")
    ok(platform.reconcile())
    platform.client.unarchive_workflow(str(platform.live()[CAROL_TRIAGE]["id"]))
    out = ok(platform.reconcile())
    assert kinds(out)["archive_workflow"] == 1
    assert platform.live()[CAROL_TRIAGE]["isArchived"]
    no_op(platform)


def _remove_digest(platform: Platform) -> Any:
    """Remove the daily-digest use case and its instance; returns what to put back."""
    saved = platform.root / "saved-digest"
    shutil.copytree(platform.repo / DIGEST, saved)
    globex = (platform.repo / DIGEST_GLOBEX).read_text(encoding="utf-8")
    shutil.rmtree(platform.repo / DIGEST)
    (platform.repo / DIGEST_GLOBEX).unlink()
    ok(platform.reconcile())
    assert all(w["isArchived"] for n, w in platform.live().items() if "[daily-digest" in n)

    def put_back() -> None:
        shutil.copytree(saved, platform.repo / DIGEST)
        (platform.repo / DIGEST_GLOBEX).write_text(globex, encoding="utf-8")

    return put_back


def test_removed_use_case_re_added_at_the_same_version(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    before = ids_of(platform, "[daily-digest")
    put_back = _remove_digest(platform)
    put_back()
    out = ok(platform.reconcile())
    assert kinds(out)["unarchive_workflow"] == 3  # owner dev, owner prod, globex
    assert ids_of(platform, "[daily-digest") == before
    # As before the removal: prod live, dev off, Globex's pinned copy paused.
    assert_live_and_recorded(platform, "daily-digest.owner-prod", published=True)
    assert_live_and_recorded(platform, "daily-digest.owner-dev", published=False)
    assert_live_and_recorded(platform, "daily-digest-globex", published=False)
    assert platform.instance("daily-digest-globex")["state"] == "user_paused"
    assert platform.instance("daily-digest.owner-prod")["state"] == "active"
    removed = platform.store.conn.execute(
        "SELECT removed, active_env FROM processes WHERE use_case='daily-digest'").fetchone()
    assert removed == (0, "prod")
    no_op(platform)


def test_removed_use_case_re_added_at_a_new_version(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    ok(platform.reconcile())
    before = ids_of(platform, "[daily-digest")
    put_back = _remove_digest(platform)
    put_back()
    platform.edit_text(f"{DIGEST}/workflows/digest.json", "Collect highlights", "Gather news")
    platform.bump("daily-digest", "1.1.0")
    out = ok(platform.reconcile())
    assert kinds(out)["unarchive_workflow"] == 3
    assert ids_of(platform, "[daily-digest") == before
    # A new version on the branch: dev live with it, prod (1.0.0) restored but off.
    dev = platform.live()["Daily digest [daily-digest.owner-dev/digest]"]
    assert any(n["name"] == "Gather news" for n in dev["nodes"])
    assert_live_and_recorded(platform, "daily-digest.owner-dev", published=True)
    assert_live_and_recorded(platform, "daily-digest.owner-prod", published=False)
    assert platform.instance("daily-digest.owner-dev")["version"] == "1.1.0"
    assert platform.instance("daily-digest.owner-prod")["version"] == "1.0.0"
    assert last_deployment(platform, "daily-digest.owner-dev") == "deployed"
    no_op(platform)

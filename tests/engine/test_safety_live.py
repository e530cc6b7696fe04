"""Safe apply: a run killed at any write converges without duplicates; a failing
instance rolls back alone while the others go on."""

from __future__ import annotations

import shutil
from collections import Counter
from typing import Any

import pytest

from reconciler.adapters.n8n_client import N8nClient
from reconciler.errors import N8nBadRequest
from reconciler.plan.workflows import parse_workflow_name
from tests.engine.conftest import Platform, wipe

pytestmark = pytest.mark.n8n

WRITES = {"create_workflow", "update_workflow", "publish_workflow", "unpublish_workflow",
          "archive_workflow", "delete_workflow", "set_workflow_tags", "create_tag",
          "ensure_tag", "create_credential", "patch_credential", "delete_credential"}


class Killed(BaseException):
    """Stands for the process dying: nothing in the engine catches it."""


class Wrapped:
    """An N8nClient whose writes can be made to die or fail on cue."""

    def __init__(self, inner: N8nClient, kill_after: int | None = None,
                 fail_publish: str | None = None) -> None:
        self.inner = inner
        self.kill_after = kill_after
        self.fail_publish = fail_publish
        self.done = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in WRITES:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if name == "publish_workflow" and args and args[0] == self.fail_publish \
                    and len(args) == 1 and "version_id" not in kwargs:
                raise N8nBadRequest("POST /workflows/x/publish: injected failure", 400)
            result = attr(*args, **kwargs)
            self.done += 1
            if self.kill_after is not None and self.done >= self.kill_after:
                raise Killed(f"killed after write {self.done} ({name})")
            return result

        return call


def small_repo(platform: Platform) -> None:
    """Lead enrichment only: owner dev + prod and one declared instance."""
    shutil.rmtree(platform.repo / "use-cases" / "daily-digest")
    shutil.rmtree(platform.repo / "use-cases" / "inbox-triage")
    shutil.rmtree(platform.repo / "use-cases" / "hello")
    for path in (platform.repo / "instances").iterdir():
        if not path.name.startswith("lead-enrichment"):
            path.unlink()
    platform.publications.add(("lead-enrichment", "1.2.0"))


# lead enrichment: which workflow calls which (SUBWKFL)
CALLER = {"summarize": "score-lead", "score-lead": "main", "main": None}


def own_callers_only(live: list[dict[str, Any]]) -> None:
    """Each workflow may be called by exactly its caller of the same instance."""
    by_key = {parse_workflow_name(str(w["name"])): w for w in live}
    for key, wf in by_key.items():
        assert key is not None
        caller = CALLER[key[1]]
        expected = str(by_key[(key[0], caller)]["id"]) if caller else ""
        assert wf["settings"]["callerPolicy"] == "workflowsFromAList", key
        assert wf["settings"]["callerIds"] == expected, key


def converged(platform: Platform) -> None:
    live = platform.client.list_workflows()
    names = [str(w["name"]) for w in live]
    assert len(names) == len(set(names)), Counter(names).most_common(3)
    assert len(names) == 9  # 3 workflows x (owner dev, owner prod, globex)
    own_callers_only(live)
    creds = [str(c["name"]) for c in platform.client.list_credentials()]
    assert len(creds) == len(set(creds)) == 2
    again = platform.reconcile()
    assert (again.outcome, again.writes) == ("no_changes", 0), again.plan


def test_killed_at_every_write_converges(platform: Platform) -> None:
    small_repo(platform)
    full = platform.reconcile()
    assert full.outcome == "applied", full.error
    total = full.writes
    assert total > 10
    for k in range(1, total + 1):
        wipe(platform.client)
        with platform.store.transaction() as c:
            for table in ("workflow_mappings", "credentials", "instances", "templates",
                          "processes", "deployments", "notices"):
                c.execute(f"DELETE FROM {table}")
        dying = Wrapped(platform.client, kill_after=k)
        with pytest.raises(Killed):
            platform.reconcile(client=dying)  # type: ignore[arg-type]
        out = platform.reconcile()
        assert out.outcome in ("applied", "no_changes"), (k, out.error)
        converged(platform)


def upgrade_failing_for_globex(platform: Platform) -> tuple[Wrapped, dict[str, Any]]:
    """Lead enrichment 1.3.0 (two workflows changed) published, with a client whose
    publish of globex's main workflow fails; and globex's summarize as it was live."""
    live = platform.live()
    globex_main = str(live["Lead enrichment - API [lead-enrichment-globex/main]"]["id"])
    old_summarize = live["Lead enrichment - summarize [lead-enrichment-globex/summarize]"]
    platform.edit_text("use-cases/lead-enrichment/workflows/summarize.json",
                       '"maxTokensToSample": 300', '"maxTokensToSample": 600')
    platform.edit_text("use-cases/lead-enrichment/workflows/main.json",
                       '"respondWith": "firstIncomingItem"', '"respondWith": "allIncomingItems"')
    platform.bump("lead-enrichment", "1.3.0")
    platform.publications.add(("lead-enrichment", "1.3.0"))
    return Wrapped(platform.client, fail_publish=globex_main), old_summarize


def test_failing_instance_rolls_back_alone(platform: Platform) -> None:
    small_repo(platform)
    assert platform.reconcile().outcome == "applied"
    failing, old_summarize = upgrade_failing_for_globex(platform)
    out = platform.reconcile(client=failing)  # type: ignore[arg-type]
    assert out.outcome == "partial"
    assert out.result is not None and list(out.result.failed_groups) == ["lead-enrichment-globex"]
    live = platform.live()
    summarize = live["Lead enrichment - summarize [lead-enrichment-globex/summarize]"]
    assert summarize["activeVersionId"] == old_summarize["activeVersionId"]  # rolled back
    globex = platform.instance("lead-enrichment-globex")
    assert (globex["version"], globex["state"]) == ("1.2.0", "active")
    assert platform.instance("lead-enrichment.owner-prod")["version"] == "1.3.0"
    failed = platform.store.conn.execute(
        "SELECT status, error FROM deployments WHERE instance_id='lead-enrichment-globex' "
        "ORDER BY id DESC LIMIT 1").fetchone()
    assert failed[0] == "failed" and "injected failure" in failed[1]
    notice = platform.store.conn.execute(
        "SELECT version FROM notices WHERE instance_id='lead-enrichment-globex' AND "
        "kind='update_failed' AND dismissed=0").fetchone()
    assert notice == ("1.3.0",)
    healed = platform.reconcile()
    assert healed.outcome == "applied", healed.error
    assert platform.instance("lead-enrichment-globex")["version"] == "1.3.0"
    assert platform.reconcile().outcome == "no_changes"

"""The gate on real n8n: a broken use case, instance or tag holds back only itself;
a publication uses the tagged commit's content."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pygit2
import pytest

from reconciler.adapters.n8n_client import N8nClient
from reconciler.load.releases import read_releases
from reconciler.load.repository import load_partial
from reconciler.load.source import GitSource
from reconciler.store.db import Store
from tests.engine.conftest import Platform
from tests.load.conftest import commit, folder_files

pytestmark = pytest.mark.n8n

RUN_LOG = {"runs", "run_steps"}  # the log of runs grows by design; the state must not


def state_digest(store: Store) -> str:
    tables = store.tables()
    dump: dict[str, Any] = {}
    for table in tables:
        if table in RUN_LOG or table.startswith("sqlite_"):
            continue
        rows = store.conn.execute(f"SELECT * FROM {table}").fetchall()
        dump[table] = sorted(json.dumps(list(r), default=str) for r in rows)
    return hashlib.sha256(json.dumps(dump, sort_keys=True).encode()).hexdigest()


# Set by n8n by itself, after a publish settles (no write of ours behind it).
VOLATILE = ("updatedAt", "triggerCount")


def _clean(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = [{k: v for k, v in item.items() if k not in VOLATILE} for item in items]
    return sorted(kept, key=lambda item: str(item.get("id")))


def n8n_digest(client: N8nClient) -> str:
    workflows, creds = _clean(client.list_workflows()), _clean(client.list_credentials())
    return hashlib.sha256(json.dumps([workflows, creds], sort_keys=True,
                                     default=str).encode()).hexdigest()


def _held(out: Any) -> set[str]:
    return {ident for _, ident, _ in out.plan.held}


def test_a_broken_use_case_holds_only_itself(platform: Platform) -> None:
    assert platform.reconcile().outcome == "applied"
    before = (state_digest(platform.store), n8n_digest(platform.client))
    live = platform.live()
    # daily-digest: two nodes with one name, under a new version (validate exits 1)
    platform.edit_text("use-cases/daily-digest/workflows/digest.json",  # two nodes, one name
                       '"name": "Run now"', '"name": "Every weekday at 8"')
    platform.bump("daily-digest", "1.1.0")
    out = platform.reconcile()
    assert out.outcome == "held" and out.writes == 0
    assert _held(out) == {"daily-digest"}
    assert "GRAPH-DUPLICATE-NAME" in (out.error or "")
    assert (state_digest(platform.store), n8n_digest(platform.client)) == before
    # the other use cases go on: a change to inbox-triage applies in the same run
    platform.edit_text("use-cases/inbox-triage/workflows/triage.json",
                       '"responseMode": "lastNode",\n        "options": {}',
                       '"responseMode": "lastNode",\n        "options": {"noResponseBody": false}')
    platform.bump("inbox-triage", "2.1.1")
    out = platform.reconcile()
    assert out.outcome == "held" and _held(out) == {"daily-digest"} and out.writes > 0
    after = platform.live()
    digest = [n for n in live if n.startswith("Daily digest")]
    assert digest and all(after[n]["versionId"] == live[n]["versionId"] for n in digest)
    assert platform.instance("inbox-triage.owner-dev")["version"] == "2.1.1"
    # the fix releases it
    platform.edit_text("use-cases/daily-digest/workflows/digest.json",
                       '"name": "Every weekday at 8",\n      "type": "n8n-nodes-base.webhook"',
                       '"name": "Run now",\n      "type": "n8n-nodes-base.webhook"')
    out = platform.reconcile()
    assert out.outcome == "applied" and not out.plan.held
    assert platform.instance("daily-digest.owner-dev")["version"] == "1.1.0"


def test_a_broken_instance_file_holds_only_that_instance(platform: Platform) -> None:
    assert platform.reconcile().outcome == "applied"
    before = (state_digest(platform.store), n8n_digest(platform.client))
    (platform.repo / "instances/inbox-triage-carol.yaml").write_text(
        "use_case: inbox-triage\nowner: {user: carol}\nenvironment: [prod\n", encoding="utf-8")
    out = platform.reconcile()
    assert out.outcome == "held" and _held(out) == {"inbox-triage-carol"}
    assert out.writes == 0  # not archived as "removed": held, what is live stays live
    assert (state_digest(platform.store), n8n_digest(platform.client)) == before
    assert platform.instance("inbox-triage-carol")["state"] != "archived"


def _git(platform: Platform, tmp: Path) -> pygit2.Repository:
    return pygit2.init_repository(str(tmp / "git"), initial_head="main")


def _reconcile_git(platform: Platform, repo: pygit2.Repository) -> Any:
    releases = read_releases(repo)
    declared = load_partial(GitSource(repo, "main"))
    return platform.engine().reconcile(declared, publications=frozenset(releases.publications),
                                       releases=releases.contents,
                                       release_problems=releases.problems)


def test_a_publication_uses_the_tagged_content(platform: Platform, tmp_path: Path) -> None:
    repo = _git(platform, tmp_path)
    files = folder_files(platform.repo)
    tagged = commit(repo, files, "release 1.0.0 of daily-digest")
    repo.references.create("refs/tags/daily-digest@1.0.0", tagged)
    assert _reconcile_git(platform, repo).outcome == "applied"
    prod = platform.instance("daily-digest.owner-prod")
    assert prod["version"] == "1.0.0" and prod["active"] == 1
    before = (state_digest(platform.store), n8n_digest(platform.client))
    # the branch changes content under the tagged version: refused, naming tag and files
    wf = "use-cases/daily-digest/workflows/digest.json"
    text = files[wf]
    assert isinstance(text, bytes) and b'"name": "Collect highlights",' in text
    files[wf] = text.replace(b'"name": "Collect highlights",',
                             b'"name": "Collect highlights",\n      "notes": "untagged change",')
    commit(repo, files, "same version, other content")
    out = _reconcile_git(platform, repo)
    assert out.outcome == "held" and _held(out) == {"daily-digest"} and out.writes == 0
    assert "daily-digest@1.0.0" in (out.error or "") and "digest.json" in (out.error or "")
    assert (state_digest(platform.store), n8n_digest(platform.client)) == before


def test_a_bad_tag_holds_only_its_use_case(platform: Platform, tmp_path: Path) -> None:
    repo = _git(platform, tmp_path)
    files = folder_files(platform.repo)
    head = commit(repo, files, "first")
    repo.references.create("refs/tags/daily-digest@9.9.9", head)  # version.json: 1.0.0
    repo.references.create("refs/tags/inbox-triage@2.1.0", head)
    out = _reconcile_git(platform, repo)
    assert out.outcome == "held" and _held(out) == {"daily-digest"}
    assert "daily-digest@9.9.9" in (out.error or "")
    assert platform.instance("inbox-triage.owner-prod")["version"] == "2.1.0"
    assert platform.instance("lead-enrichment.owner-dev")["active"] == 1
    with pytest.raises(AssertionError):
        platform.instance("daily-digest.owner-dev")  # held from the start: nothing made

"""The rules that read git (`validate --repo`): release tags and earlier versions."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from tests.load.conftest import EXAMPLE, commit, folder_files
from tests.validate.conftest import RunCli

DIGEST_WF = "use-cases/daily-digest/workflows/digest.json"
DIGEST_VERSION = "use-cases/daily-digest/version.json"


def _edit(files: dict[str, bytes | tuple[str, str]], path: str, old: str, new: str) -> None:
    text = files[path]
    assert isinstance(text, bytes) and old.encode() in text
    files[path] = text.replace(old.encode(), new.encode(), 1)


@pytest.fixture
def history(tmp_path: Path) -> tuple[pygit2.Repository, dict[str, bytes | tuple[str, str]]]:
    repo = pygit2.init_repository(str(tmp_path / "origin"), initial_head="main")
    files = folder_files(EXAMPLE)
    first = commit(repo, files, "first")
    repo.references.create("refs/tags/daily-digest@1.0.0", first)
    return repo, files


def _validate(run_cli: RunCli, repo: pygit2.Repository, *rules: str) -> tuple[int, list[dict]]:
    args = ["validate", "--repo", repo.path, "--format", "json"]
    if rules:
        args += ["--rules", ",".join(rules)]
    code, out = run_cli(*args)
    return code, json.loads(out)["problems"]


def test_a_clean_history_passes(run_cli: RunCli, history: tuple) -> None:
    repo, _ = history
    code, problems = _validate(run_cli, repo)
    assert (code, problems) == (0, [])


def test_content_changed_under_a_tagged_version(run_cli: RunCli, history: tuple) -> None:
    repo, files = history
    _edit(files, DIGEST_WF, "\"name\": \"Daily digest\"", "\"name\": \"Daily digest v2\"")
    commit(repo, files, "same version, other content")
    code, problems = _validate(run_cli, repo, "TAG-CONTENT", "TEMPLATE-HISTORY")
    assert code == 1
    rules = {p["rule"] for p in problems}
    assert rules == {"TAG-CONTENT", "TEMPLATE-HISTORY"}
    for p in problems:
        assert p["file"] == DIGEST_VERSION and p["line"] == 1 and p["field"] == "version"
        assert "workflows/digest.json" in p["message"]
    assert any("daily-digest@1.0.0" in p["message"] for p in problems)


def test_a_bumped_version_passes(run_cli: RunCli, history: tuple) -> None:
    repo, files = history
    _edit(files, DIGEST_WF, "\"name\": \"Daily digest\"", "\"name\": \"Daily digest v2\"")
    _edit(files, DIGEST_VERSION, "1.0.0", "1.0.1")
    commit(repo, files, "bumped")
    code, problems = _validate(run_cli, repo)
    assert (code, problems) == (0, [])


def test_a_tag_whose_version_json_disagrees(run_cli: RunCli, history: tuple) -> None:
    repo, _ = history
    head = str(repo.head.target)
    repo.references.create("refs/tags/daily-digest@2.0.0", head)
    repo.references.create("refs/tags/no-such-case@1.0.0", head)
    code, problems = _validate(run_cli, repo, "TAG-VERSION")
    assert code == 1
    messages = sorted(p["message"] for p in problems)
    assert any("daily-digest@2.0.0" in m and "says 1.0.0" in m for m in messages)
    assert any("no-such-case@1.0.0" in m for m in messages)


def test_a_tag_on_a_commit_where_its_use_case_does_not_load(run_cli: RunCli,
                                                           history: tuple) -> None:
    repo, files = history
    files[DIGEST_WF] = b"{"
    _edit(files, DIGEST_VERSION, "1.0.0", "1.1.0")
    broken = commit(repo, files, "broken")
    repo.references.create("refs/tags/daily-digest@1.1.0", broken)
    files[DIGEST_WF] = folder_files(EXAMPLE)[DIGEST_WF]
    _edit(files, DIGEST_VERSION, "1.1.0", "1.2.0")
    commit(repo, files, "fixed on the branch")
    code, problems = _validate(run_cli, repo, "TAG-LOAD")
    assert code == 1
    assert [p["rule"] for p in problems] == ["TAG-LOAD"]
    assert "daily-digest@1.1.0" in problems[0]["message"]


def test_a_pin_to_a_version_never_released(run_cli: RunCli, history: tuple) -> None:
    repo, files = history
    assert _validate(run_cli, repo, "PIN-KNOWN") == (0, [])  # pins the branch's version
    _edit(files, "instances/inbox-triage-alice.yaml", "version: 2.1.0", "version: 2.0.0")
    head = commit(repo, files, "pin an older version")
    code, problems = _validate(run_cli, repo, "PIN-KNOWN")
    assert code == 1
    assert [p["file"] for p in problems] == ["instances/inbox-triage-alice.yaml"]
    assert "2.0.0" in problems[0]["message"]
    _edit(files, "use-cases/inbox-triage/version.json", "2.1.0", "2.0.0")
    old = commit(repo, files, "the 2.0.0 release")
    repo.references.create("refs/tags/inbox-triage@2.0.0", old)
    del head
    _edit(files, "use-cases/inbox-triage/version.json", "2.0.0", "2.1.0")
    commit(repo, files, "back to 2.1.0 on the branch")
    assert _validate(run_cli, repo, "PIN-KNOWN") == (0, [])

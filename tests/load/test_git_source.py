"""Loading from git: any revision, straight from the object database, bare clones, URLs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

from reconciler.adapters import git
from reconciler.errors import GitError, InvalidInput
from reconciler.load.repository import load
from reconciler.load.source import FolderSource, GitSource, open_source

RunCli = Callable[..., tuple[int, str]]
NewRepo = Callable[..., pygit2.Repository]
Commit = Callable[..., str]
Files = dict[str, bytes | tuple[str, str]]
FilesOf = Callable[[Path], Files]
VERSION = "use-cases/daily-digest/version.json"


@pytest.fixture
def history(example: Path, new_repo: NewRepo, git_commit: Commit,
            files_of: FilesOf) -> tuple[pygit2.Repository, dict[str, str]]:
    """origin: v1 (tagged annotated 'v1'), v2 on main (tagged lightweight 'v2'), a branch.

    Returns the repository and the commit ids by name.
    """
    repo = new_repo("origin")
    files = files_of(example)
    first = git_commit(repo, files, "first")
    sig = pygit2.Signature("Tagger", "tagger@example.com", 1_700_000_100, 0)
    repo.create_tag("v1", pygit2.Oid(hex=first), pygit2.enums.ObjectType.COMMIT, sig, "v1")
    second = git_commit(repo, {**files, VERSION: b'{"version": "1.1.0"}\n'}, "bump")
    repo.references.create("refs/tags/v2", pygit2.Oid(hex=second))
    third = git_commit(repo, {**files, VERSION: b'{"version": "3.0.0"}\n'}, "next",
                   branch="feature")
    return repo, {"first": first, "second": second, "third": third}


def digest_version(repo: pygit2.Repository, ref: str) -> str:
    return load(GitSource(repo, ref)).use_cases["daily-digest"].version


def test_declared_state_at_branch_tag_and_commit(
    history: tuple[pygit2.Repository, dict[str, str]],
) -> None:
    repo, ids = history
    assert digest_version(repo, "main") == "1.1.0"
    assert digest_version(repo, "feature") == "3.0.0"
    assert digest_version(repo, "v1") == "1.0.0"  # annotated tag, peeled
    assert digest_version(repo, "v2") == "1.1.0"  # lightweight tag
    assert digest_version(repo, ids["first"]) == "1.0.0"
    assert digest_version(repo, ids["first"][:10]) == "1.0.0"
    state = load(GitSource(repo, "v1"))
    assert state.revision == ids["first"]
    assert set(state.instances) >= {"inbox-triage-alice", "lead-enrichment-globex"}


def test_tags_lists_annotated_and_lightweight(
    history: tuple[pygit2.Repository, dict[str, str]],
) -> None:
    repo, ids = history
    assert git.tags(repo) == {"v1": ids["first"], "v2": ids["second"]}


def test_bare_clone(history: tuple[pygit2.Repository, dict[str, str]], tmp_path: Path) -> None:
    origin, ids = history
    clone = pygit2.clone_repository(origin.path, str(tmp_path / "bare"), bare=True)
    assert clone.is_bare
    assert digest_version(clone, "v1") == "1.0.0"
    assert digest_version(clone, "main") == "1.1.0"
    assert git.tags(clone)["v2"] == ids["second"]


def test_file_url_is_mirrored_into_the_cache(
    history: tuple[pygit2.Repository, dict[str, str]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, git_commit: Commit,
) -> None:
    origin, ids = history
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    url = Path(origin.path).resolve().as_uri()
    source = open_source(url, "v1", None)
    assert source.revision == ids["first"]
    assert load(source).use_cases["daily-digest"].version == "1.0.0"
    assert any((tmp_path / "cache" / "n8n-reconciler" / "repos").iterdir())
    # Every branch is readable, not only the default one.
    assert open_source(url, "feature", None).revision == ids["third"]
    # A second open fetches: a new commit and tag in origin become visible.
    newer = git_commit(origin, {**tree_files(origin, "main"),
                            VERSION: b'{"version": "1.2.0"}\n'}, "again")
    origin.references.create("refs/tags/v3", pygit2.Oid(hex=newer))
    assert open_source(url, "v3", None).revision == newer
    assert open_source(url, "main", None).revision == newer


def tree_files(repo: pygit2.Repository, ref: str) -> Files:
    reader = git.TreeReader(repo, git.resolve(repo, ref))
    found: Files = {e.path: reader.read(e.path) for e in reader.entries()}
    return found


def test_validate_cli_reads_a_revision(
    history: tuple[pygit2.Repository, dict[str, str]], run_cli: RunCli,
) -> None:
    origin, _ = history
    assert run_cli("validate", "--repo", origin.path, "--ref", "v1") == (
        0, "valid: no problems found\n")
    code, output = run_cli("validate", "--repo", origin.path, "--ref", "nope")
    assert code == 1
    assert "revision 'nope' not found" in output


def test_unknown_ref_is_a_git_error(history: tuple[pygit2.Repository, dict[str, str]]) -> None:
    repo, _ = history
    for ref in ("nope", "v9", "0" * 40, "main~10", ""):
        with pytest.raises(GitError):
            GitSource(repo, ref)


def test_not_a_repository_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError):
        git.open_repository(str(tmp_path))


def test_symlink_in_git_is_refused(example: Path, new_repo: NewRepo, git_commit: Commit,
                                   files_of: FilesOf) -> None:
    repo = new_repo("links")
    files = files_of(example)
    files["instances/linked.yaml"] = ("link", "inbox-triage-erin.yaml")
    files["use-cases/daily-digest/workflows/digest.json"] = ("link", "/etc/passwd")
    git_commit(repo, files)
    with pytest.raises(InvalidInput) as caught:
        load(GitSource(repo, "main"))
    messages = {p.file: p.message for p in caught.value.problems}
    assert "symbolic links are not allowed" in messages["instances/linked.yaml"]
    assert "symbolic links are not allowed" in messages[
        "use-cases/daily-digest/workflows/digest.json"]
    assert len(caught.value.problems) == 2  # one message per link, not one per reader


def test_git_and_folder_give_the_same_state(example: Path, new_repo: NewRepo,
                                            git_commit: Commit, files_of: FilesOf) -> None:
    repo = new_repo("same")
    git_commit(repo, files_of(example))
    from_git = load(GitSource(repo, "main"))
    from_folder = load(FolderSource(example))
    assert from_git.use_cases == from_folder.use_cases
    assert from_git.instances == from_folder.instances
    assert from_git.platform == from_folder.platform

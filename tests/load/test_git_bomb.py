"""A commit's files are sized from their object headers, never inflated to be sized.

A blob of zeros compresses about a thousand to one: a push of a few MB can hold GBs.
The loader refuses a file over the limit by its size; reading the tree must not
inflate the blob to learn that size (the daemon would run out of memory, for every
tenant, on one commit).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pygit2

from tests.gate.conftest import good_files
from tests.load.conftest import commit, folder_files

BIG = 256 * 1024 * 1024
_WALK = """
import re, sys, pygit2
from reconciler.load.repository import load_all
from reconciler.load.source import GitSource
repo = pygit2.Repository(sys.argv[1])
loaded = load_all(GitSource(repo, str(repo.revparse_single("main").id)))
# VmHWM, not ru_maxrss: the latter keeps the parent's peak across exec
status = open("/proc/self/status").read()
print(int(re.search(r"VmHWM:\\s+(\\d+) kB", status)[1]) // 1024)
print("\\n".join(str(p) for p in loaded.problems))
"""


def test_a_compressed_giant_blob_is_refused_without_inflating_it(tmp_path: Path) -> None:
    folder = good_files(tmp_path)
    repo = pygit2.init_repository(str(tmp_path / "bomb.git"), bare=True, initial_head="main")
    files = folder_files(folder)
    files["use-cases/echo/skills/echo/zeros.bin"] = b"\0" * BIG
    commit(repo, files, message="bomb")
    del files
    out = subprocess.run([sys.executable, "-c", _WALK, str(tmp_path / "bomb.git")],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    peak, *problems = out.splitlines()
    assert int(peak) < 150, f"loading the commit took {peak} MB"
    assert any(p.startswith("use-cases/echo/skills/echo/zeros.bin") and str(BIG) in p
               for p in problems), problems


def _wide(repo: pygit2.Repository, parent: str, count: int) -> str:
    """`parent` plus a folder `docs/` of `count` empty files (a few hundred KB)."""
    empty = repo.create_blob(b"")
    builder = repo.TreeBuilder()
    for i in range(count):
        builder.insert(f"f{i}", empty, pygit2.enums.FileMode.BLOB)
    base = repo.get(parent)
    assert isinstance(base, pygit2.Commit)
    top = repo.TreeBuilder(base.tree)
    top.insert("docs", builder.write(), pygit2.enums.FileMode.TREE)
    sig = pygit2.Signature("t", "t@example.com")
    return str(repo.create_commit(None, sig, sig, "wide", top.write(), [base.id]))


def test_a_commit_of_too_many_files_is_refused_whole_and_fast(tmp_path: Path) -> None:
    from reconciler.adapters.git import MAX_TREE_ENTRIES
    from reconciler.errors import GitError
    from reconciler.load.releases import read_releases
    from reconciler.load.source import GitSource

    repo = pygit2.init_repository(str(tmp_path / "wide.git"), bare=True, initial_head="main")
    good = commit(repo, folder_files(good_files(tmp_path)), message="good")
    wide = _wide(repo, good, MAX_TREE_ENTRIES + 1)
    try:
        GitSource(repo, wide)
    except GitError as exc:
        assert f"more than {MAX_TREE_ENTRIES} files" in str(exc)
    else:
        raise AssertionError("a commit of too many files was read")
    # A release tag on such a commit holds its use case only; the others publish.
    repo.references.create("refs/tags/echo@1.0.0", pygit2.Oid(hex=wide))
    repo.references.create("refs/tags/daily-digest@1.0.0", pygit2.Oid(hex=good))
    releases = read_releases(repo)
    assert [(p.file, p.rule) for p in releases.problems] == [
        ("use-cases/echo/version.json", "TAG-LOAD")]
    assert releases.publications == {("daily-digest", "1.0.0")}

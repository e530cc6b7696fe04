"""Folders nested thousands deep (a few KB in git) are a located load problem, in a
git revision and in a plain folder alike, never a RecursionError (exit 4)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pygit2

from reconciler.adapters.git import MAX_TREE_DEPTH
from reconciler.cli.main import entry
from tests.gate.conftest import good_files
from tests.load.conftest import commit, folder_files

DEPTH = 3000
SKILL = "use-cases/echo/skills/echo"


def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = entry(list(args))
    return code, out.getvalue()


def _deep_commit(repo: pygit2.Repository, good: str) -> None:
    builder = repo.TreeBuilder()
    builder.insert("f", repo.create_blob(b"x"), pygit2.enums.FileMode.BLOB)
    tree = builder.write()
    for _ in range(DEPTH):
        builder = repo.TreeBuilder()
        builder.insert("d", tree, pygit2.enums.FileMode.TREE)
        tree = builder.write()
    parent = repo.get(good)
    assert isinstance(parent, pygit2.Commit)
    skill = parent.tree[SKILL]
    inner = repo.TreeBuilder(repo.get(skill.id))
    inner.insert("d", tree, pygit2.enums.FileMode.TREE)
    # rebuild the path use-cases/echo/skills/echo with the deep folder inside
    node = inner.write()
    parts = SKILL.split("/")
    for depth in range(len(parts) - 1, -1, -1):
        above = parent.tree if depth == 0 else parent.tree["/".join(parts[:depth])]
        builder = repo.TreeBuilder(repo.get(above.id))
        builder.insert(parts[depth], node, pygit2.enums.FileMode.TREE)
        node = builder.write()
    sig = pygit2.Signature("t", "t@example.com")
    repo.create_commit("refs/heads/main", sig, sig, "deep", node, [parent.id])


def test_a_deep_tree_in_a_commit_is_a_located_problem(tmp_path: Path) -> None:
    repo = pygit2.init_repository(str(tmp_path / "deep.git"), bare=True, initial_head="main")
    good = commit(repo, folder_files(good_files(tmp_path)), message="good")
    _deep_commit(repo, good)
    code, output = _cli("validate", "--repo", str(tmp_path / "deep.git"), "--ref", "main")
    assert code == 1, output
    deepest = "/".join([SKILL, *["d"] * (MAX_TREE_DEPTH - len(SKILL.split("/")))])
    assert f"error: {deepest}: is a folder nested more than {MAX_TREE_DEPTH}" in output, output


def test_a_deep_folder_is_a_located_problem(tmp_path: Path) -> None:
    root = good_files(tmp_path)
    deep = root / SKILL
    for _ in range(1200):  # 2,400 characters: within PATH_MAX; one by one (no recursion)
        deep = deep / "d"
        deep.mkdir()
    (deep / "f").write_text("x", encoding="utf-8")
    try:
        code, output = _cli("validate", str(root))
    finally:  # bottom up, one by one: shutil.rmtree (pytest's cleanup) recurses
        (deep / "f").unlink()
        while deep != root / SKILL:
            deep.rmdir()
            deep = deep.parent
    assert code == 1, output
    assert f"is a folder nested more than {MAX_TREE_DEPTH} levels deep" in output, output
    assert "Traceback" not in output and "internal error" not in output

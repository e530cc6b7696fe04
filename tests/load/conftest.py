"""Fixtures for loader tests: a scratch copy of example-repo, the CLI, and git repos.

Git repositories are made with pygit2 alone (no git command, no working tree), so
the tests read exactly what the loader reads: commits in an object database.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pygit2
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"

RunCli = Callable[..., tuple[int, str]]
# path -> content; bytes for a file, ("link", target) for a symbolic link
Files = Mapping[str, "bytes | tuple[str, str]"]


@pytest.fixture
def example() -> Path:
    return EXAMPLE


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A writable copy of example-repo."""
    target = tmp_path / "repo"
    shutil.copytree(EXAMPLE, target, symlinks=True)
    return target


def folder_files(root: Path) -> dict[str, bytes | tuple[str, str]]:
    """Every file under `root` as a `Files` mapping (links kept as links)."""
    files: dict[str, bytes | tuple[str, str]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            files[rel] = ("link", str(path.readlink()))
        elif path.is_file():
            files[rel] = path.read_bytes()
    return files


def _tree(repo: pygit2.Repository, files: Files) -> pygit2.Oid:
    here: dict[str, bytes | tuple[str, str]] = {}
    below: dict[str, dict[str, bytes | tuple[str, str]]] = {}
    for path, content in files.items():
        head, _, rest = path.partition("/")
        if rest:
            below.setdefault(head, {})[rest] = content
        else:
            here[head] = content
    builder = repo.TreeBuilder()
    for name, content in here.items():
        if isinstance(content, tuple):
            link = repo.create_blob(content[1].encode())
            builder.insert(name, link, pygit2.enums.FileMode.LINK)
        else:
            builder.insert(name, repo.create_blob(content), pygit2.enums.FileMode.BLOB)
    for name, sub in below.items():
        builder.insert(name, _tree(repo, sub), pygit2.enums.FileMode.TREE)
    oid: pygit2.Oid = builder.write()
    return oid


def commit(repo: pygit2.Repository, files: Files, message: str = "commit",
           author: str = "Test", branch: str = "main", when: int = 1_700_000_000) -> str:
    """Commit exactly `files` as the tree of a new commit on `branch`; returns its id."""
    sig = pygit2.Signature(author, f"{author.lower()}@example.com", when, 0)
    ref = f"refs/heads/{branch}"
    parents = [repo.references[ref].target] if ref in repo.references else []
    oid = repo.create_commit(ref, sig, sig, message, _tree(repo, files), parents)
    if repo.head_is_unborn:
        repo.set_head(ref)
    return str(oid)


@pytest.fixture
def new_repo(tmp_path: Path) -> Callable[..., pygit2.Repository]:
    """A fresh repository under tmp_path; commits go straight to its object database."""

    def make(name: str = "origin", bare: bool = False) -> pygit2.Repository:
        return pygit2.init_repository(str(tmp_path / name), bare=bare, initial_head="main")

    return make


Commit = Callable[..., str]


@pytest.fixture
def git_commit() -> Commit:
    """`commit(repo, files, message=..., author=..., branch=..., when=...)`."""
    return commit


@pytest.fixture
def files_of() -> Callable[[Path], dict[str, bytes | tuple[str, str]]]:
    """`files_of(folder)`: a folder's files, to commit."""
    return folder_files

"""pygit2 at the edge: open, fetch and read repositories; errors become GitError.

Revisions are read straight from the object database, so bare clones work and no
checkout is ever made.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2

from reconciler.errors import GitError

MAX_FILE_BYTES = 1024 * 1024
# Folders deeper than this are not read (nothing the repository format uses is
# deeper than 5): reported as entries of their own, never walked.
MAX_TREE_DEPTH = 32
TOO_DEEP = f"folder nested more than {MAX_TREE_DEPTH} levels deep"
# More entries than any repository of automations holds: a commit of a million empty
# files is a few hundred KB, and would cost seconds and GBs on every read. Refused
# whole (a walk cut short would look like use cases removed).
MAX_TREE_ENTRIES = 50_000
_SYMLINK = pygit2.enums.FileMode.LINK
_TREE = pygit2.enums.FileMode.TREE
_COMMIT = pygit2.enums.FileMode.COMMIT


@dataclass(frozen=True)
class Entry:
    path: str
    kind: str  # "file" | "symlink" | "submodule"
    size: int


def is_url(location: str) -> bool:
    return "://" in location or location.startswith("git@")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "n8n-reconciler"


def open_repository(location: str, *, fetch: bool = True) -> pygit2.Repository:
    """A local path opens in place; a URL is mirrored into a bare clone in the cache."""
    try:
        if not is_url(location):
            # No upward search: a folder inside another checkout is not that checkout.
            return pygit2.Repository(location, pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
        mirror = cache_root() / "repos" / hashlib.sha256(location.encode()).hexdigest()[:16]
        if mirror.exists():
            repo = pygit2.Repository(str(mirror))
            if fetch:
                fetch_all(repo)
            return repo
        mirror.parent.mkdir(parents=True, exist_ok=True)
        return pygit2.clone_repository(location, str(mirror), bare=True)
    except pygit2.GitError as exc:
        raise GitError(f"{_safe(location)}: {exc}") from None


def fetch_all(repo: pygit2.Repository, remote_name: str = "origin") -> None:
    """Fetch branches and tags (tags pruned too, so a deleted tag is seen)."""
    try:
        remote = repo.remotes[remote_name]
        remote.fetch(
            ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
            prune=pygit2.enums.FetchPrune.PRUNE,
        )
    except (pygit2.GitError, KeyError) as exc:
        raise GitError(f"fetch from {remote_name}: {exc}") from None


def resolve(repo: pygit2.Repository, ref: str) -> pygit2.Commit:
    """A branch, tag, commit id or any rev-parse expression, peeled to a commit."""
    try:
        obj = repo.revparse_single(ref)
        commit = obj.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        raise GitError(f"revision {ref!r} not found") from None
    return commit


def tags(repo: pygit2.Repository) -> dict[str, str]:
    """Tag name -> commit id (annotated tags peeled)."""
    found: dict[str, str] = {}
    for name in repo.references:
        if not name.startswith("refs/tags/"):
            continue
        try:
            commit = repo.references[name].peel(pygit2.Commit)
        except (pygit2.GitError, ValueError, KeyError):
            continue  # a tag on a tree or blob publishes nothing
        found[name.removeprefix("refs/tags/")] = str(commit.id)
    return found


class TreeReader:
    """Reads files of one commit's tree."""

    def __init__(self, repo: pygit2.Repository, commit: pygit2.Commit) -> None:
        self._repo = repo
        self.commit_id = str(commit.id)
        self._entries: dict[str, tuple[Entry, pygit2.Oid]] = {}
        for entry, oid in self._walk(commit.tree, ""):
            self._entries[entry.path] = (entry, oid)

    def _walk(self, tree: pygit2.Tree, prefix: str) -> Iterator[tuple[Entry, pygit2.Oid]]:
        # A loop, not recursion, and a depth limit: a commit of folders nested
        # thousands deep is a few KB, and would otherwise end in a RecursionError.
        stack: list[tuple[pygit2.Tree, str, int]] = [(tree, prefix, 0)]
        seen = 0
        while stack:
            current, base, depth = stack.pop()
            seen += len(current)
            if seen > MAX_TREE_ENTRIES:
                raise GitError(f"commit {self.commit_id[:12]} holds more than "
                               f"{MAX_TREE_ENTRIES} files and folders; nothing of it is read")
            for item in current:
                path = f"{base}{item.name}"
                if item.filemode == _TREE and depth + 1 >= MAX_TREE_DEPTH:
                    yield Entry(path, TOO_DEEP, 0), item.id
                elif item.filemode == _TREE:
                    subtree = self._repo[item.id]
                    assert isinstance(subtree, pygit2.Tree)
                    stack.append((subtree, path + "/", depth + 1))
                elif item.filemode == _COMMIT:
                    yield Entry(path, "submodule", 0), item.id
                elif item.filemode == _SYMLINK:
                    yield Entry(path, "symlink", 0), item.id
                else:
                    # The size from the object's header: looking the blob up would
                    # inflate it, and a few MB pushed can inflate to GBs.
                    _, size = self._repo.odb.read_header(item.id)
                    yield Entry(path, "file", size), item.id

    def entries(self) -> list[Entry]:
        return sorted((entry for entry, _ in self._entries.values()), key=lambda e: e.path)

    def read(self, path: str) -> bytes:
        entry, oid = self._entries[path]
        if entry.kind != "file":
            raise GitError(f"{path}: not a regular file")
        blob = self._repo[oid]
        assert isinstance(blob, pygit2.Blob)
        return blob.data


def _safe(location: str) -> str:
    """Drop credentials from a URL before it goes into a message."""
    if "://" in location and "@" in location.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = location.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return location

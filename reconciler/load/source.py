"""Where the declared state is read from: a plain folder or one git revision."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Protocol

import pygit2

from reconciler.adapters import git
from reconciler.adapters.git import Entry


class Source(Protocol):
    label: str
    revision: str | None

    def entries(self) -> list[Entry]: ...

    def read(self, path: str) -> bytes: ...


class FolderSource:
    """A working folder, for local use; `.git` and hidden folders are skipped."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.label = str(root)
        self.revision: str | None = None

    def entries(self) -> list[Entry]:
        found: list[Entry] = []
        for folder, dirs, files in os.walk(self.root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            base = Path(folder)
            if len(base.relative_to(self.root).parts) + 1 >= git.MAX_TREE_DEPTH:
                # os.walk recurses: folders thousands deep would end in RecursionError
                found += [Entry((base / d).relative_to(self.root).as_posix(), git.TOO_DEEP, 0)
                          for d in dirs]
                dirs[:] = []
            for name in sorted(files):
                full = base / name
                rel = full.relative_to(self.root).as_posix()
                info = full.lstat()
                if stat.S_ISLNK(info.st_mode):
                    found.append(Entry(rel, "symlink", 0))
                elif stat.S_ISREG(info.st_mode):
                    found.append(Entry(rel, "file", info.st_size))
                else:  # a FIFO or device: reading it could block or never end
                    found.append(Entry(rel, "special file", 0))
            for name in dirs:
                if (base / name).is_symlink():
                    rel = (base / name).relative_to(self.root).as_posix()
                    found.append(Entry(rel, "symlink", 0))
        return found

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()


class GitSource:
    """One commit of a repository, read from the object database (no checkout)."""

    def __init__(self, repo: pygit2.Repository, ref: str, label: str | None = None) -> None:
        commit = git.resolve(repo, ref)
        self._tree = git.TreeReader(repo, commit)
        self.revision: str | None = str(commit.id)
        self.label = label or f"{ref}@{self.revision[:12]}"

    def entries(self) -> list[Entry]:
        return self._tree.entries()

    def read(self, path: str) -> bytes:
        return self._tree.read(path)


def open_source(repo: str | None, ref: str | None, folder: str | None) -> Source:
    """A folder when no repository is named; otherwise the revision `ref` (HEAD)."""
    if repo is None:
        return FolderSource(folder or ".")
    return GitSource(git.open_repository(repo), ref or "HEAD", label=f"{repo}@{ref or 'HEAD'}")

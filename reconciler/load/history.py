"""Earlier versions of a use case in a branch's history, for the immutability rules.

A version is held by the first commit that carried it; content under the same
version in a later commit is a change a release would never see. Commits never
change, so what loads at one is cached (bounded), and the walk stops after
`MAX_COMMITS` ancestors.
"""

from __future__ import annotations

from collections import OrderedDict

import pygit2

from reconciler.adapters import git
from reconciler.errors import GitError
from reconciler.load.repository import USE_CASES, load_all
from reconciler.load.source import GitSource
from reconciler.model.repository import UseCase

MAX_COMMITS = 2000
_CACHE: OrderedDict[tuple[str, str], dict[str, UseCase]] = OrderedDict()
_CACHE_SIZE = 128


def _use_cases_at(repo: pygit2.Repository, commit: str) -> dict[str, UseCase]:
    key = (str(repo.path), commit)
    if key not in _CACHE:
        loaded = load_all(GitSource(repo, commit))
        _CACHE[key] = dict(loaded.state.use_cases) if loaded.state else {}
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return _CACHE[key]


def _folder_id(commit: pygit2.Commit, slug: str) -> str | None:
    try:
        return str(commit.tree[f"{USE_CASES}/{slug}"].id)
    except KeyError:
        return None


def earlier_holders(repo: pygit2.Repository, ref: str,
                    current: UseCase) -> list[tuple[str, UseCase]]:
    """Ancestors of `ref` whose copy of `current`'s use case has its version but other
    content: (commit id, that copy), oldest first."""
    try:
        head = git.resolve(repo, ref)
    except GitError:
        return []
    here = _folder_id(head, current.slug)
    seen: set[str] = {here} if here else set()
    found: list[tuple[str, UseCase]] = []
    walker = repo.walk(head.id, pygit2.enums.SortMode.TOPOLOGICAL)
    for count, commit in enumerate(walker):
        if count >= MAX_COMMITS:
            break
        folder = _folder_id(commit, current.slug)
        if folder is None or folder in seen:
            continue
        seen.add(folder)
        old = _use_cases_at(repo, str(commit.id)).get(current.slug)
        if old is not None and old.version == current.version \
                and old.fingerprint != current.fingerprint:
            found.append((str(commit.id), old))
    return list(reversed(found))


def changed_files(a: UseCase, b: UseCase) -> list[str]:
    return sorted(p for p in set(a.file_digests) | set(b.file_digests)
                  if a.file_digests.get(p) != b.file_digests.get(p))

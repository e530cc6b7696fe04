"""Publications from tags: `<use-case>@<version>` on a commit publishes that version."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field

import pygit2

from reconciler.adapters import git
from reconciler.errors import GitError, Problem
from reconciler.load.repository import load_all
from reconciler.load.source import GitSource
from reconciler.model.repository import UseCase

TAG_RE = re.compile(r"^(?P<slug>[a-z0-9][a-z0-9-]{0,62})@(?P<version>\d+\.\d+\.\d+)$")


@dataclass
class Releases:
    publications: set[tuple[str, str]] = field(default_factory=set)
    contents: dict[tuple[str, str], UseCase] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # tag -> commit id


# Commits never change, so what loads at one is kept: a daemon re-reading its tags on
# every resync loads each tagged commit once. Bounded, oldest dropped first.
_CACHE: OrderedDict[tuple[str, str], _AtCommit] = OrderedDict()
_CACHE_SIZE = 256


def _cached(repo: pygit2.Repository, commit: str) -> _AtCommit | None:
    key = (str(repo.path), commit)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    return None


def _remember(repo: pygit2.Repository, commit: str, at: _AtCommit) -> None:
    _CACHE[(str(repo.path), commit)] = at
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def read_releases(repo: pygit2.Repository) -> Releases:
    """Every well-formed release tag, checked against version.json at its commit.

    A tag stands for its own use case only: another use case that does not load at the
    tagged commit does not keep it from being published.
    """
    out = Releases()
    found = git.tags(repo)
    out.problems += _not_on_commits(repo, found)
    for tag, commit in sorted(found.items()):
        match = TAG_RE.match(tag)
        if match is None:
            continue
        out.tags[tag] = commit
        slug, version = match["slug"], match["version"]
        file = f"use-cases/{slug}/version.json"
        try:
            loaded = _load_at(repo, commit)
        except GitError as exc:  # this tag's commit cannot be read: it holds only its use case
            out.problems.append(Problem(file, f"tag {tag}: {exc}", field="version",
                                        rule="TAG-LOAD"))
            continue
        uc = loaded.use_cases.get(slug)
        if slug in loaded.broken or loaded.platform_problems:
            why = "; ".join(str(p) for p in loaded.problems_of(slug)[:3])
            out.problems.append(Problem(file, f"tag {tag}: {slug} does not load at "
                                        f"{commit[:12]}: {why}", field="version",
                                        rule="TAG-LOAD"))
        elif uc is None:
            out.problems.append(Problem(file, f"tag {tag}: no use case {slug!r} at "
                                        f"{commit[:12]}", field="version", rule="TAG-VERSION"))
        elif uc.version != version:
            out.problems.append(Problem(file, f"tag {tag}: version.json at {commit[:12]} says "
                                        f"{uc.version}, not {version}; nothing is published",
                                        field="version", rule="TAG-VERSION"))
        else:
            out.publications.add((slug, version))
            out.contents[(slug, version)] = uc
    return out


def _not_on_commits(repo: pygit2.Repository, found: dict[str, str]) -> list[Problem]:
    """Release tags on a tree or a blob: they publish nothing, and hold their use case
    (ignoring them would let a moved tag silently take a publication away)."""
    names = sorted(r.removeprefix("refs/tags/") for r in repo.references
                   if r.startswith("refs/tags/"))
    return [Problem(f"use-cases/{m['slug']}/version.json", f"tag {tag} points at a tree "
                    "or a blob, not a commit: nothing is published", field="version",
                    rule="TAG-LOAD", hint="point the tag at a commit, or delete it")
            for tag in names if tag not in found and (m := TAG_RE.match(tag))]


@dataclass(frozen=True)
class _AtCommit:
    use_cases: dict[str, UseCase]
    broken: frozenset[str]
    problems: tuple[Problem, ...]
    platform_problems: bool

    def problems_of(self, slug: str) -> list[Problem]:
        mine = [p for p in self.problems if p.file.startswith(f"use-cases/{slug}/")]
        return mine or list(self.problems)


def _load_at(repo: pygit2.Repository, commit: str) -> _AtCommit:
    hit = _cached(repo, commit)
    if hit is not None:
        return hit
    loaded = load_all(GitSource(repo, commit))
    state = loaded.state
    at = _AtCommit(dict(state.use_cases) if state else {}, loaded.broken, loaded.problems,
                   state is None)
    _remember(repo, commit, at)
    return at

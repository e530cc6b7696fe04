"""Publications from tags: `<use-case>@<version>` on a commit publishes that version."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field

import pygit2

from reconciler.adapters import git
from reconciler.errors import InvalidInput, Problem
from reconciler.load.repository import load
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
_CACHE: OrderedDict[tuple[str, str], dict[str, UseCase]] = OrderedDict()
_CACHE_SIZE = 256


def _cached(repo: pygit2.Repository, commit: str) -> dict[str, UseCase] | None:
    key = (str(repo.path), commit)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    return None


def _remember(repo: pygit2.Repository, commit: str, use_cases: dict[str, UseCase]) -> None:
    _CACHE[(str(repo.path), commit)] = use_cases
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def read_releases(repo: pygit2.Repository) -> Releases:
    """Every well-formed release tag, checked against version.json at its commit."""
    out = Releases()
    states: dict[str, dict[str, UseCase]] = {}  # commit -> use cases (load once per commit)
    for tag, commit in sorted(git.tags(repo).items()):
        match = TAG_RE.match(tag)
        if match is None:
            continue
        out.tags[tag] = commit
        slug, version = match["slug"], match["version"]
        if commit not in states and (hit := _cached(repo, commit)) is not None:
            states[commit] = hit
        if commit not in states:
            try:
                states[commit] = load(GitSource(repo, commit)).use_cases
                _remember(repo, commit, states[commit])
            except InvalidInput as exc:
                states[commit] = {}
                out.problems.append(Problem(f"tag {tag}", f"the tagged commit does not load: "
                                            f"{exc}", rule="TAG"))
                continue
        uc = states[commit].get(slug)
        if uc is None:
            out.problems.append(Problem(f"tag {tag}", f"no use case {slug!r} at {commit[:12]}",
                                        rule="TAG"))
        elif uc.version != version:
            out.problems.append(Problem(f"tag {tag}", f"version.json at {commit[:12]} says "
                                        f"{uc.version}, not {version}; nothing is published",
                                        rule="TAG"))
        else:
            out.publications.add((slug, version))
            out.contents[(slug, version)] = uc
    return out


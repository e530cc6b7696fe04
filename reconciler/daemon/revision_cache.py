"""The parsed revision kept between polls: the same commit is not loaded again.

A commit's content never changes, so the declared state loaded from it is reused
until the branch moves; the releases are reused while every tag points where it did.
Only what loaded is kept (a failed load is tried again on the next poll). One entry
each: the daemon tracks one branch.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.load.releases import Releases
from reconciler.model.repository import DeclaredState

TagsKey = frozenset[tuple[str, str]]


@dataclass
class RevisionCache:
    commit: str | None = None
    declared: DeclaredState | None = None
    tags: TagsKey | None = None
    releases: Releases | None = None
    hits: int = 0  # polls that reused a loaded commit (tests and logs read it)

    def state(self, commit: str) -> DeclaredState | None:
        if self.declared is not None and commit == self.commit:
            self.hits += 1
            return self.declared
        return None

    def keep_state(self, commit: str, declared: DeclaredState) -> None:
        self.commit, self.declared = commit, declared

    def releases_for(self, tags: dict[str, str]) -> Releases | None:
        key = frozenset(tags.items())
        return self.releases if self.releases is not None and key == self.tags else None

    def keep_releases(self, tags: dict[str, str], releases: Releases) -> None:
        self.tags, self.releases = frozenset(tags.items()), releases

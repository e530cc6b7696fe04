"""The declared state as loaded from one revision of the repository."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from reconciler.errors import Problem
from reconciler.model.declared import (
    InstanceSpec,
    PlatformFile,
    SkillFrontMatter,
    UseCaseConfig,
    WorkflowSpec,
)
from reconciler.model.lines import LineMap
from reconciler.model.smoke import SmokeTestFile


def owner_instance_id(use_case: str, env: str) -> str:
    """The owner's automatic environment of a use case. A dot never appears in declared
    instance ids, so these cannot collide with them."""
    return f"{use_case}.owner-{env}"


@dataclass(frozen=True)
class WorkflowFile:
    spec: WorkflowSpec
    path: str  # repository-relative
    text: str  # as written, placeholders intact
    content: Any  # parsed JSON; bare placeholders are marker strings


@dataclass(frozen=True)
class Skill:
    name: str  # folder name
    path: str
    front: SkillFrontMatter
    body: str
    text: str
    lines: LineMap = field(default_factory=LineMap, compare=False)  # of the front matter


@dataclass(frozen=True)
class SmokeTest:
    """`tests/<name>.yaml` of a use case (docs/smoke-tests.md)."""

    name: str  # the file name without .yaml
    path: str
    spec: SmokeTestFile
    lines: LineMap = field(default_factory=LineMap, compare=False)


@dataclass(frozen=True)
class UseCase:
    slug: str
    path: str  # repository-relative folder
    config: UseCaseConfig
    version: str
    workflows: tuple[WorkflowFile, ...]
    skills: tuple[Skill, ...]
    fingerprint: str
    # per-file content digests, to name what changed under an unchanged version
    file_digests: dict[str, str] = field(default_factory=dict)
    lines: LineMap = field(default_factory=LineMap, compare=False)  # of use-case.yaml
    # Smoke tests are not template content (not in the fingerprint): changing a test
    # needs no version bump. `tests_digest` tells when they changed (a re-run is due).
    tests: tuple[SmokeTest, ...] = ()
    tests_digest: str = ""

    def workflow(self, workflow_id: str) -> WorkflowFile:
        for wf in self.workflows:
            if wf.spec.id == workflow_id:
                return wf
        raise KeyError(workflow_id)


@dataclass(frozen=True)
class InstanceDecl:
    id: str  # the file name without .yaml
    path: str
    spec: InstanceSpec
    lines: LineMap = field(default_factory=LineMap, compare=False)


@dataclass(frozen=True)
class DeclaredState:
    source: str  # a label for messages: folder path or repo@ref
    revision: str | None  # commit id when loaded from git
    platform: PlatformFile
    platform_lines: LineMap
    use_cases: dict[str, UseCase]
    instances: dict[str, InstanceDecl]
    # What did not load (a partial load): the problems, the use cases that exist but
    # did not load, and the instance files that did not. The gate holds these back
    # instead of treating them as removed.
    load_problems: tuple[Problem, ...] = ()
    broken_use_cases: frozenset[str] = frozenset()
    broken_instances: frozenset[str] = frozenset()

    @cached_property
    def user_orgs(self) -> dict[str, list[str]]:
        """User id -> the organizations it is a member of, in platform.yaml's order.

        Indexed once per state: every instance asks, and a scan of every org's
        members per instance grows with instances times members."""
        found: dict[str, list[str]] = {}
        for org in self.platform.organizations:
            for user in dict.fromkeys(m.user for m in org.members):
                found.setdefault(user, []).append(org.id)
        return found

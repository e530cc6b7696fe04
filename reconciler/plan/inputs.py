"""What the planner is given: every input is plain data, gathered before planning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import Problem
from reconciler.model.declared import Defaults
from reconciler.model.platform import PlatformState
from reconciler.model.repository import DeclaredState, UseCase
from reconciler.validate.gate import Gate

MANAGED_TAG = "managed-by-reconciler"


@dataclass(frozen=True)
class LiveWorkflow:
    id: str
    name: str
    version_id: str | None
    active_version_id: str | None  # None: not published
    archived: bool
    content_hash: str
    normalized: dict[str, Any] = field(compare=False, repr=False)
    tagged: bool = True  # carries MANAGED_TAG (a run killed mid-create may not have tagged it)

    @property
    def published(self) -> bool:
        return self.active_version_id is not None


@dataclass(frozen=True)
class Observed:
    """The live n8n: workflows named by our convention, and credential ids if listed."""

    workflows: dict[str, LiveWorkflow]
    credential_ids: frozenset[str] | None = None  # None: not known, not checked


@dataclass(frozen=True)
class PlanInput:
    declared: DeclaredState  # the tracked branch's head: the dev state
    state: PlatformState
    observed: Observed
    # (use case, version) publications, e.g. from tags `<use-case>@<version>`
    publications: frozenset[tuple[str, str]] = frozenset()
    # template content of published versions not at head (read at the tag's commit)
    releases: dict[tuple[str, str], UseCase] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # SecretKey text -> keyed digest
    n8n_base_url: str = ""
    # where n8n reaches the daemon; None: no org error workflows are deployed
    error_callback: str | None = None
    # values rendered into workflows (MEMSECRT per user, ORGSECRET per org): n8n holds
    # them in the workflow anyway; they never reach a report (bodies are not reported)
    member_values: dict[str, dict[str, str]] = field(default_factory=dict)
    org_values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: Defaults = field(default_factory=Defaults)
    # problems of release tags (read before planning): they hold their use case back
    release_problems: tuple[Problem, ...] = ()
    # (use case, version) -> whether its newest smoke test run on the owner's dev passed
    smoke_results: dict[tuple[str, str], bool] = field(default_factory=dict)
    # set by the planner: the units held back and why
    gate: Gate | None = None

    def held(self, use_case: str | None = None, instance: str | None = None) -> bool:
        return self.gate is not None and self.gate.holds(use_case, instance)

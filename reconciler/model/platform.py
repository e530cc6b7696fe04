"""The platform state as the planner sees it: a read-only snapshot of SQLite."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

TEMPLATE_STATUSES = ("inactive", "published", "deprecated")
INSTANCE_STATES = ("active", "user_paused", "deploy_failed", "missing_integration", "archived",
                   "over_quota")
DEPLOYMENT_STATUSES = ("pending", "deploying", "deployed", "failed", "updating")


def template_id(use_case: str, version: str) -> str:
    return f"{use_case}@{version}"


@dataclass(frozen=True)
class TemplateRec:
    id: str
    use_case: str
    version: str
    fingerprint: str
    status: str
    revision: str | None
    config: str  # use-case.yaml as JSON (the model's dump)
    workflows: dict[str, str]  # workflow file path (relative) -> text, placeholders intact
    skills: dict[str, str]  # SKILL.md path (relative) -> text
    file_digests: dict[str, str]


@dataclass(frozen=True)
class ProcessRec:
    use_case: str
    active_env: str  # which owner environment is active: dev | prod
    removed: bool
    # as last recorded: who may install it (the plan says who gains or loses access)
    visibility: str = ""  # JSON of process.visibility; "" when not read
    owner_user: str = ""
    owner_org: str = ""


@dataclass(frozen=True)
class InstanceRec:
    id: str
    use_case: str
    owner_user: str | None
    owner_org: str
    environment: str
    automatic: bool  # an owner environment the platform made, not a declared instance
    version: str | None  # the version it runs (None: never deployed)
    pinned: bool
    active: bool
    state: str
    state_detail: str | None
    sharing: dict[str, Any]
    parameters: dict[str, Any]

    def row(self) -> dict[str, Any]:
        """The `instances` columns the planner compares and the applier writes."""
        return {
            "id": self.id, "use_case": self.use_case, "owner_user": self.owner_user,
            "owner_org": self.owner_org, "environment": self.environment,
            "automatic": int(self.automatic), "version": self.version,
            "pinned": int(self.pinned), "active": int(self.active), "state": self.state,
            "state_detail": self.state_detail, "sharing": self.sharing,
            "parameters": self.parameters,
        }


@dataclass(frozen=True)
class MappingRec:
    instance_id: str
    workflow_id: str
    n8n_id: str
    content_hash: str  # hash of the normalized content we last applied
    version_id: str | None  # n8n versionId after our last write
    published_version_id: str | None  # what we last published (for rollback)
    archived: bool


@dataclass(frozen=True)
class CredentialRec:
    key: str
    n8n_id: str
    name: str
    type: str
    digest: str  # keyed hash of the secret data; never the data


@dataclass(frozen=True)
class PlatformState:
    version: int  # bumped by every apply: compare-and-set for saved plans
    processes: dict[str, ProcessRec] = field(default_factory=dict)
    templates: dict[str, TemplateRec] = field(default_factory=dict)
    instances: dict[str, InstanceRec] = field(default_factory=dict)
    mappings: dict[tuple[str, str], MappingRec] = field(default_factory=dict)
    credentials: dict[str, CredentialRec] = field(default_factory=dict)
    notices: frozenset[tuple[str, str, str]] = frozenset()  # (instance, kind, version)
    period: str = ""  # the current credit period (YYYY-MM, UTC)
    debits: dict[str, int] = field(default_factory=dict)  # account -> credits used in it

    @cached_property
    def _mappings_by_instance(self) -> dict[str, dict[str, MappingRec]]:
        # Indexed once per snapshot: a scan per instance made planning quadratic.
        index: dict[str, dict[str, MappingRec]] = {}
        for (inst, wf), m in self.mappings.items():
            index.setdefault(inst, {})[wf] = m
        return index

    def instance_mappings(self, instance_id: str) -> dict[str, MappingRec]:
        return dict(self._mappings_by_instance.get(instance_id, {}))

    def published_versions(self, use_case: str) -> list[str]:
        return [t.version for t in self.templates.values()
                if t.use_case == use_case and t.status == "published"]

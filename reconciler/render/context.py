"""Everything needed to resolve the placeholders of one instance's workflows.

The planner builds one `RenderContext` per instance (and target n8n) from the
declared state, the store (live ids of already-deployed sub-workflows and
credentials) and the secret sources; rendering itself is then a pure function.
The context is immutable: mappings are copied on construction so that a caller
mutating its own dicts afterwards cannot change what a render produces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def integration_key(name: str) -> str:
    """The spelling of an integration inside placeholders: `google-sheets` -> `GOOGLE_SHEETS`.

    Declared integrations are lower-case slugs while placeholders are upper-case;
    both sides go through this so a lookup never depends on how a caller spelled it.
    """
    return name.upper().replace("-", "_")


@dataclass(frozen=True)
class CredentialRef:
    """A live n8n credential: what `..._ID_...` and `..._NAME_...` placeholders become."""

    id: str
    name: str


def _frozen(mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class RenderContext:
    """The values of every placeholder scope, for one instance.

    Scopes map onto fields as follows:

    - PROCDATA: `process_id` (`PROCESS_ID`), `namespace` (`NAMESPACE`).
    - USERDATA: `instance_uid` (`PROCESS_INSTANCE_UID`), `user_id` (`USER_ID`),
      `organization_id` (`ORGANIZATION_ID`).
    - INSTPARM: `parameters`.
    - SUBWKFL: `subworkflow_ids`.
    - FLEXCRED, USERCRED, ORGCRED, INSTCRED, SYSCREDS: `credentials`.
    - ORGSECRET: `org_secrets`; MEMSECRT: `member_secrets`.
    """

    # The process (use case) this instance installs; PROCDATA_PROCESS_ID.
    process_id: str
    # Namespace of the process (separates tenants' webhook paths); PROCDATA_NAMESPACE.
    namespace: str
    # Unique id of this installation; USERDATA_PROCESS_INSTANCE_UID.
    instance_uid: str
    # The installing user; None for an organization-owned instance. USERDATA_USER_ID.
    user_id: str | None = None
    # The owning organization, if any; USERDATA_ORGANIZATION_ID.
    organization_id: str | None = None
    # Deployment parameters, already validated and merged with the use case's
    # defaults; values are JSON values (str, int, float, bool, None, list, dict).
    parameters: Mapping[str, Any] = field(default_factory=dict)
    # Template workflow id (as written in SUBWKFL placeholders) -> live n8n id.
    subworkflow_ids: Mapping[str, str] = field(default_factory=dict)
    # (scope, INTEGRATION) -> live credential, e.g. ("USERCRED", "GMAIL"). Keys are
    # normalised with `integration_key`. FLEXCRED's fallback to the platform's
    # default credential is decided by whoever builds the context, not here.
    credentials: Mapping[tuple[str, str], CredentialRef] = field(default_factory=dict)
    # Organization secrets and settings by name, e.g. N8N_BASE_URL, ERROR_WORKFLOW_ID.
    org_secrets: Mapping[str, str] = field(default_factory=dict)
    # Member-level secrets by name, e.g. EXECUTION_AUTH.
    member_secrets: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # object.__setattr__ because the dataclass is frozen; copies keep it immutable.
        object.__setattr__(self, "parameters", _frozen(self.parameters))
        object.__setattr__(self, "subworkflow_ids", _frozen(self.subworkflow_ids))
        object.__setattr__(
            self,
            "credentials",
            _frozen({(scope.upper(), integration_key(integ)): ref
                     for (scope, integ), ref in self.credentials.items()}),
        )
        object.__setattr__(self, "org_secrets", _frozen(self.org_secrets))
        object.__setattr__(self, "member_secrets", _frozen(self.member_secrets))

    @property
    def process_data(self) -> Mapping[str, str]:
        """PROCDATA values by name."""
        return {"PROCESS_ID": self.process_id, "NAMESPACE": self.namespace}

    @property
    def user_data(self) -> Mapping[str, str]:
        """USERDATA values by name; absent owners are left out (and fail to resolve)."""
        data = {"PROCESS_INSTANCE_UID": self.instance_uid}
        if self.user_id is not None:
            data["USER_ID"] = self.user_id
        if self.organization_id is not None:
            data["ORGANIZATION_ID"] = self.organization_id
        return data

    def credential(self, scope: str, integration: str) -> CredentialRef | None:
        return self.credentials.get((scope, integration_key(integration)))

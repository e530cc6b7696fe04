"""Which n8n credentials each instance needs, and where their secrets come from.

One n8n credential per (owner, integration, n8n type): a user's Gmail serves that
user's instances only, an org's Slack that org's instances only, an INSTCRED one
instance. FLEXCRED takes the org's own secret when there is one, else the
platform's (system) one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.errors import Problem
from reconciler.model.repository import WorkflowFile
from reconciler.plan.steps import CreateCredential, DeleteCredential, RotateCredential, Step
from reconciler.render.context import CredentialRef, RenderContext
from reconciler.render.requirements import credential_needs

SYSTEM_OWNER = "platform"


@dataclass(frozen=True)
class CredentialUse:
    scope: str  # placeholder scope, e.g. USERCRED
    integration: str  # placeholder spelling, e.g. GMAIL
    type: str  # n8n credential type
    secret: str  # SecretKey text: <kind>.<owner>.<name>

    @property
    def key(self) -> str:
        return f"{self.secret}:{self.type}"

    @property
    def name(self) -> str:
        kind, owner, name = self.secret.split(".", 2)
        return f"[reconciler] {name} {self.type} ({kind} {owner})"


def _secret(kind: str, owner: str, integration: str) -> str:
    return f"{kind}.{owner}.{integration.lower().replace('_', '-')}"


def resolve_uses(template_needs: set[tuple[str, str, str]], *, instance_id: str,
                 user: str | None, org: str,
                 secrets: dict[str, str]) -> tuple[list[CredentialUse], list[str]]:
    """(uses, missing secrets) for one instance."""
    uses: list[CredentialUse] = []
    missing: list[str] = []
    for scope, integ, ctype in sorted(template_needs):
        if scope == "FLEXCRED":
            own = _secret("org", org, integ)
            secret = own if own in secrets else _secret("system", SYSTEM_OWNER, integ)
        elif scope == "ORGCRED":
            secret = _secret("org", org, integ)
        elif scope == "USERCRED":
            secret = _secret("user", user or f"{org}-owner", integ)
        elif scope == "INSTCRED":
            secret = _secret("instance", instance_id, integ)
        else:  # SYSCREDS
            secret = _secret("system", SYSTEM_OWNER, integ)
        if secret not in secrets:
            missing.append(secret)
        uses.append(CredentialUse(scope, integ, ctype, secret))
    return uses, missing


def template_needs(workflows: Iterable[WorkflowFile]) -> set[tuple[str, str, str]]:
    needs: set[tuple[str, str, str]] = set()
    for wf in workflows:
        for need in credential_needs(wf):
            needs.add((need.scope, need.integration, need.credential_type))
    return needs


def credential_refs(uses: list[CredentialUse],
                    ids: dict[str, str]) -> dict[tuple[str, str], CredentialRef]:
    return {(u.scope, u.integration): CredentialRef(id=ids[u.key], name=u.name) for u in uses}


def credential_steps(needed: dict[str, CredentialUse], recorded: dict[str, tuple[str, str]],
                     secrets: dict[str, str], live_ids: frozenset[str] | None,
                     keep: set[str]) -> list[Step]:
    """recorded: key -> (n8n id, digest). `keep`: keys still referenced by some workflow."""
    steps: list[Step] = []
    for key, use in sorted(needed.items()):
        digest = secrets.get(use.secret)
        if digest is None:
            continue
        rec = recorded.get(key)
        gone = rec is not None and live_ids is not None and rec[0] not in live_ids
        if rec is None or gone:
            steps.append(CreateCredential(key=key, name=use.name, type=use.type,
                                          secret=use.secret, digest=digest))
        elif rec[1] != digest:
            steps.append(RotateCredential(key=key, n8n_id=rec[0], secret=use.secret,
                                          digest=digest))
    for key, (n8n_id, _) in sorted(recorded.items()):
        if key not in needed and key not in keep:
            steps.append(DeleteCredential(key=key, n8n_id=n8n_id))
    return steps


def foreign_credentials(path: str, body: dict[str, Any], base: RenderContext) -> list[Problem]:
    """Every credential a rendered workflow names must be one resolved for its instance.

    `base.credentials` holds only the credentials of the owner scopes this instance is
    entitled to (its user or org, itself, the platform). Anything else, a literal id
    of another tenant's credential or a reference without an id (n8n would look it up
    by name and type among all credentials of the API key's user), is refused.
    """
    allowed = {ref.id for ref in base.credentials.values()}
    problems: list[Problem] = []
    nodes = body.get("nodes")
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        creds = node.get("credentials") if isinstance(node, dict) else None
        if not isinstance(creds, dict):
            continue
        name = node.get("name") if isinstance(node.get("name"), str) else f"#{index}"
        for ctype, ref in creds.items():
            cred_id = ref.get("id") if isinstance(ref, dict) else None
            if isinstance(cred_id, str) and cred_id in allowed:
                continue
            what = f"id {cred_id!r}" if cred_id is not None else "no id"
            problems.append(Problem(
                path, f"node {name!r}: credential {ctype} has {what}, which is not one of "
                f"instance {base.instance_uid}'s own credentials",
                field=f"nodes[{index}].credentials.{ctype}.id", rule="CRED-HARDCODED",
                hint="reference credentials only through USERCRED/ORGCRED/INSTCRED/"
                     "FLEXCRED/SYSCREDS placeholders"))
    return problems

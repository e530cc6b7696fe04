"""What a workflow template needs before it can be rendered.

The planner uses these to order deployments (sub-workflows first), to know which
credentials must exist in n8n for an instance, and which parameters an instance
must provide. Only well-formed placeholders of a known scope with the right suffix
count; malformed ones are the validator's and the renderer's to report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reconciler.model.placeholders import (
    BARE_MARK,
    CREDENTIAL_SCOPES,
    Placeholder,
    find_placeholders,
    is_bare_marker,
)
from reconciler.model.repository import WorkflowFile
from reconciler.render.context import integration_key


@dataclass(frozen=True, order=True)
class CredentialNeed:
    """One credential a workflow uses: scope, INTEGRATION (placeholder spelling), n8n type."""

    scope: str  # FLEXCRED, USERCRED, ORGCRED, INSTCRED or SYSCREDS
    integration: str  # as in placeholders, e.g. GMAIL; see context.integration_key
    credential_type: str  # n8n credential type, e.g. gmailOAuth2


def credential_needs(wf: WorkflowFile) -> set[CredentialNeed]:
    """Credentials referenced from nodes' `credentials: {<type>: {"id": ..., "name": ...}}`."""
    needs: set[CredentialNeed] = set()
    nodes = wf.content.get("nodes") if isinstance(wf.content, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        creds = node.get("credentials") if isinstance(node, dict) else None
        if not isinstance(creds, dict):
            continue
        for ctype, ref in creds.items():
            if not isinstance(ref, dict):
                continue
            for text in _strings(ref):
                for ph in _valid(text):
                    part = ph.credential_part
                    if ph.scope in CREDENTIAL_SCOPES and part is not None:
                        needs.add(CredentialNeed(ph.scope, integration_key(part[0]), ctype))
    return needs


def subworkflow_refs(wf: WorkflowFile) -> set[str]:
    """Template ids of the sub-workflows this workflow calls (SUBWKFL placeholders)."""
    return {ph.body for ph in placeholders(wf) if ph.scope == "SUBWKFL"}


def parameter_refs(wf: WorkflowFile) -> set[str]:
    """Names of the deployment parameters this workflow uses (INSTPARM placeholders)."""
    return {ph.body for ph in placeholders(wf) if ph.scope == "INSTPARM"}


def placeholders(wf: WorkflowFile) -> set[Placeholder]:
    """Every well-formed placeholder of a known scope with its right suffix."""
    return {ph for text in _strings(wf.content) for ph in _valid(text)}


def _valid(text: str) -> Iterator[Placeholder]:
    return (ph for ph in find_placeholders(text) if ph.known_scope and ph.suffix_ok)


def _strings(node: Any) -> Iterator[str]:
    """Every string of a JSON tree, object keys included, bare markers unwrapped."""
    if isinstance(node, dict):
        for key, item in node.items():
            yield _unmark(key)
            yield from _strings(item)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield _unmark(node)


def _unmark(text: str) -> str:
    return text[len(BARE_MARK):] if is_bare_marker(text) else text

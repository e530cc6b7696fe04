"""MEMSECRT and ORGSECRET: values (not credentials) rendered into workflows."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.model.repository import WorkflowFile
from reconciler.render.requirements import placeholders

# ORGSECRET names the platform fills in itself.
BUILT_IN = frozenset({"N8N_BASE_URL", "ERROR_WORKFLOW_ID"})


def value_names(workflows: Iterable[WorkflowFile]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"MEMSECRT": set(), "ORGSECRET": set()}
    for wf in workflows:
        for ph in placeholders(wf):
            if ph.scope in found:
                found[ph.scope].add(ph.body)
    return found

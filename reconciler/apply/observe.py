"""Read the live n8n once per run: our workflows (one list call) and credential ids.

Workflows are listed without the tag filter: a run killed between creating a
workflow and tagging it leaves an untagged one, which must still be found (by its
name) so the next run adopts it instead of making a duplicate.
"""

from __future__ import annotations

from typing import Any

from reconciler.adapters.n8n_client import N8nClient
from reconciler.plan.inputs import MANAGED_TAG, LiveWorkflow, Observed
from reconciler.plan.workflows import parse_workflow_name
from reconciler.render.normalize import normalize_for_compare, normalized_hash


def live_workflow(raw: dict[str, Any], ignore_positions: bool) -> LiveWorkflow:
    normal = normalize_for_compare(raw, ignore_positions=ignore_positions)  # once: hash it too
    return LiveWorkflow(
        id=str(raw["id"]),
        name=str(raw.get("name", "")),
        version_id=raw.get("versionId"),
        active_version_id=raw.get("activeVersionId"),
        archived=bool(raw.get("isArchived", False)),
        content_hash=normalized_hash(normal),
        normalized=normal,
        tagged=any(t.get("name") == MANAGED_TAG for t in raw.get("tags") or []
                   if isinstance(t, dict)),
    )


def observe(client: N8nClient, *, ignore_positions: bool = True,
            with_credentials: bool = True) -> Observed:
    """Two list reads in all (more only past 250 workflows a page)."""
    workflows = {
        str(raw["id"]): live_workflow(raw, ignore_positions)
        for raw in client.list_workflows()
        if parse_workflow_name(str(raw.get("name", ""))) is not None
    }
    credential_ids = None
    if with_credentials:
        credential_ids = frozenset(str(c["id"]) for c in client.list_credentials())
    return Observed(workflows=workflows, credential_ids=credential_ids)

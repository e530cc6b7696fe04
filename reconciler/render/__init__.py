"""Placeholder rendering: pure functions from a workflow template and a context.

Nothing here does I/O or imports the planner, the store, adapters or the CLI.
"""

from reconciler.render.context import CredentialRef, RenderContext, integration_key
from reconciler.render.normalize import content_hash, normalize_for_compare
from reconciler.render.render import render_workflow
from reconciler.render.requirements import (
    CredentialNeed,
    credential_needs,
    parameter_refs,
    subworkflow_refs,
)

__all__ = [
    "CredentialNeed",
    "CredentialRef",
    "RenderContext",
    "content_hash",
    "credential_needs",
    "integration_key",
    "normalize_for_compare",
    "parameter_refs",
    "render_workflow",
    "subworkflow_refs",
]

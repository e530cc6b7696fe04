"""Fixtures for the renderer tests: workflow files built from text, a full context."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.model.declared import WorkflowSpec
from reconciler.model.placeholders import parse_workflow_text
from reconciler.model.repository import WorkflowFile
from reconciler.render import CredentialRef, RenderContext

MakeWorkflow = Callable[..., WorkflowFile]

SPEC = WorkflowSpec.model_validate({
    "id": "main",
    "file": "workflows/main.json",
    "name": "Main",
    "triggers": [{"type": "http", "path": "run"}],
})


def workflow_file(text: str, path: str = "use-cases/demo/workflows/main.json") -> WorkflowFile:
    # Through the real parser, so bare placeholders become markers as in production.
    return WorkflowFile(spec=SPEC, path=path, text=text, content=parse_workflow_text(text))


@pytest.fixture
def make_wf() -> MakeWorkflow:
    return workflow_file


@pytest.fixture
def ctx() -> RenderContext:
    return RenderContext(
        process_id="proc-1",
        namespace="acme",
        instance_uid="inst-uid-1",
        user_id="alice",
        organization_id="acme-org",
        parameters={
            "COMPANY_NAME": 'Acme "Rockets" \\ Co',
            "MAX_ITEMS": 25,
            "RATIO": 0.5,
            "ENABLED": True,
            "NOTHING": None,
            "LABELS": ["a", "b"],
            "CONFIG": {"k": [1, {"x": "y"}]},
        },
        subworkflow_ids={"text-processor": "LiveSub123"},
        credentials={
            ("FLEXCRED", "ANTHROPIC"): CredentialRef("flex-id", "Flex Anthropic"),
            ("USERCRED", "GMAIL"): CredentialRef("gmail-id", "Alice Gmail"),
            ("ORGCRED", "SLACK"): CredentialRef("slack-id", "Acme Slack"),
            ("INSTCRED", "SUPABASE"): CredentialRef("supa-id", "Instance Supabase"),
            ("SYSCREDS", "ANTHROPIC"): CredentialRef("sys-id", "System Anthropic"),
        },
        org_secrets={"N8N_BASE_URL": "https://n8n.example.com", "ERROR_WORKFLOW_ID": "Err42"},
        member_secrets={"EXECUTION_AUTH": "member-token"},
    )

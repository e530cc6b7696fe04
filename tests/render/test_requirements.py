"""credential_needs, subworkflow_refs and parameter_refs."""

from __future__ import annotations

import json
from collections.abc import Callable

from reconciler.model.repository import WorkflowFile
from reconciler.render import (
    CredentialNeed,
    credential_needs,
    parameter_refs,
    subworkflow_refs,
)

MakeWorkflow = Callable[..., WorkflowFile]

TEXT = """{
  "name": "{{INSTPARM_TITLE_MRAPTSNI}}",
  "nodes": [
    {"name": "Mail", "parameters": {"to": "{{INSTPARM_RECIPIENT_MRAPTSNI}}"},
     "credentials": {"gmailOAuth2": {"id": "{{USERCRED_GMAIL_ID_DERCRESU}}",
                                     "name": "{{USERCRED_GMAIL_NAME_DERCRESU}}"}}},
    {"name": "AI", "parameters": {"limit": {{INSTPARM_LIMIT_MRAPTSNI}}},
     "credentials": {"anthropicApi": {"id": {{FLEXCRED_ANTHROPIC_ID_DERCXELF}},
                                      "name": "{{FLEXCRED_ANTHROPIC_NAME_DERCXELF}}"},
                     "httpHeaderAuth": {"id": "hard-coded", "name": "x"},
                     "sheets": {"id": "{{USERCRED_GOOGLE-SHEETS_ID_DERCRESU}}"},
                     "bad": {"id": "{{ORGCRED_SLACK_ID_WRONG}}"}}},
    {"name": "Sub", "parameters": {
       "workflowId": {"__rl": true, "mode": "id", "value": "{{SUBWKFL_text-processor_LFKWBUS}}"},
       "other": {{SUBWKFL_enrich_LFKWBUS}},
       "{{INSTPARM_KEYED_MRAPTSNI}}": "in a key",
       "wrong": "{{SUBWKFL_nope_WRONG}} {{INSTPARM_NOT_COUNTED_WRONG}}",
       "expr": "={{ $json.id }}"}}
  ],
  "connections": {}
}"""


def test_credential_needs(make_wf: MakeWorkflow) -> None:
    assert credential_needs(make_wf(TEXT)) == {
        CredentialNeed("USERCRED", "GMAIL", "gmailOAuth2"),
        CredentialNeed("FLEXCRED", "ANTHROPIC", "anthropicApi"),
        CredentialNeed("USERCRED", "GOOGLE_SHEETS", "sheets"),
    }


def test_subworkflow_refs(make_wf: MakeWorkflow) -> None:
    assert subworkflow_refs(make_wf(TEXT)) == {"text-processor", "enrich"}


def test_parameter_refs(make_wf: MakeWorkflow) -> None:
    assert parameter_refs(make_wf(TEXT)) == {"TITLE", "RECIPIENT", "LIMIT", "KEYED"}


def test_workflow_without_nodes(make_wf: MakeWorkflow) -> None:
    wf = make_wf(json.dumps({"name": "x", "connections": {}}))
    assert credential_needs(wf) == set()
    assert subworkflow_refs(wf) == set()
    assert parameter_refs(wf) == set()

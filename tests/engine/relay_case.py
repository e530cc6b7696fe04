"""A tiny use case with a sub-workflow, written into a test platform's repository copy:
`front` (webhook) calls `helper` (Execute Workflow Trigger -> Code) through SUBWKFL.
Instances: the owner's dev environment (acme) and `relay-globex` (globex, dev)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

USE_CASE = """\
process:
  title: Relay
  description: Answers through a sub-workflow.
  owner: {user: alice, org: acme}
  type: organizational
  visibility: {level: public}
workflows:
  - id: front
    file: workflows/front.json
    name: Relay front
    triggers:
      - type: http
        method: POST
        path: relay
        input_schema:
          message: {type: string, required: true, description: What to relay}
  - id: helper
    file: workflows/helper.json
    name: Relay helper
    triggers:
      - type: subworkflow
        called_by: [front]
        input_schema:
          message: {type: string}
"""

GLOBEX = "use_case: relay\nowner: {org: globex}\nenvironment: dev\n"
PATH = "{{PROCDATA_PROCESS_ID_ATADCORP}}/{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}/relay"
HELPER_REF = "{{SUBWKFL_helper_LFKWBUS}}"


def call_node(target: str) -> dict[str, Any]:
    return {"id": "5e1a7000-0000-4000-8000-000000000002", "name": "Ask helper",
            "type": "n8n-nodes-base.executeWorkflow", "typeVersion": 1.2,
            "position": [220, 0],
            "parameters": {
                "workflowId": {"__rl": True, "mode": "id", "value": target},
                "workflowInputs": {"mappingMode": "defineBelow",
                                   "value": {"message": "={{ $json.body.message }}"},
                                   "matchingColumns": [], "schema": [],
                                   "attemptToConvertTypes": False,
                                   "convertFieldsToString": True},
                "options": {"waitForSubWorkflow": True}}}


def front(target: str = HELPER_REF, path: str = PATH) -> dict[str, Any]:
    hook = {"id": "5e1a7000-0000-4000-8000-000000000001", "name": "Relay request",
            "type": "n8n-nodes-base.webhook", "typeVersion": 2.1, "position": [0, 0],
            "webhookId": "5e1a7000-0000-4000-8000-0000000000a1",
            "parameters": {"httpMethod": "POST", "path": path, "responseMode": "lastNode",
                           "options": {}}}
    call = call_node(target)
    return {"name": "Relay front", "nodes": [hook, call],
            "connections": {hook["name"]: {"main": [[{"node": call["name"], "type": "main",
                                                      "index": 0}]]}},
            "settings": {"executionOrder": "v1", "callerPolicy": "workflowsFromSameOwner",
                         "errorWorkflow": "{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}"}}


def helper(extra_node: dict[str, Any] | None = None) -> dict[str, Any]:
    trigger = {"id": "5e1a7000-0000-4000-8000-000000000011", "name": "When called",
               "type": "n8n-nodes-base.executeWorkflowTrigger", "typeVersion": 1.1,
               "position": [0, 0],
               "parameters": {"inputSource": "workflowInputs",
                              "workflowInputs": {"values": [{"name": "message",
                                                             "type": "string"}]}}}
    code = {"id": "5e1a7000-0000-4000-8000-000000000012", "name": "Answer",
            "type": "n8n-nodes-base.code", "typeVersion": 2, "position": [220, 0],
            "parameters": {"jsCode": "return [{ json: { relayed: $input.first().json.message,"
                                     " by: '{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}' } }];"}}
    nodes = [trigger, code] + ([extra_node] if extra_node else [])
    return {"name": "Relay helper", "nodes": nodes,
            "connections": {trigger["name"]: {"main": [[{"node": code["name"], "type": "main",
                                                         "index": 0}]]}},
            # A template cannot widen who may call it: the platform's policy wins.
            "settings": {"executionOrder": "v1", "callerPolicy": "workflowsFromSameOwner"}}


def write(repo: Path, *, helper_body: dict[str, Any] | None = None) -> None:
    root = repo / "use-cases" / "relay"
    (root / "workflows").mkdir(parents=True, exist_ok=True)
    (root / "use-case.yaml").write_text(USE_CASE, encoding="utf-8")
    (root / "version.json").write_text('{"version": "1.0.0"}\n', encoding="utf-8")
    for name, body in (("front", front()), ("helper", helper_body or helper())):
        (root / "workflows" / f"{name}.json").write_text(json.dumps(body, indent=2) + "\n",
                                                         encoding="utf-8")
    (repo / "instances" / "relay-globex.yaml").write_text(GLOBEX, encoding="utf-8")


def only_relay(repo: Path) -> None:
    """Drop the example's use cases and instances: only relay stays (fast tests)."""
    import shutil

    for uc in ("daily-digest", "inbox-triage", "lead-enrichment"):
        shutil.rmtree(repo / "use-cases" / uc)
    for path in (repo / "instances").iterdir():
        path.unlink()
    write(repo)

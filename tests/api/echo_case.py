"""A tiny use case written into the test platform's repository copy: `echo` answers
with its input, `fail` throws in a Code node, `tick` runs on a schedule and throws."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

USE_CASE = """\
process:
  title: Echo
  description: Answers with what it was sent.
  owner: {user: alice, org: acme}
  type: organizational
  visibility: {level: public}
workflows:
  - id: echo
    file: workflows/echo.json
    name: Echo
    triggers:
      - type: http
        method: POST
        path: echo
        input_schema:
          message: {type: string, required: true, description: What to echo}
  - id: fail
    file: workflows/fail.json
    name: Fail
    triggers:
      - {type: http, method: POST, path: fail}
  - id: tick
    file: workflows/tick.json
    name: Tick
    triggers:
      - type: schedule
        cron: "0 0 1 1 *"
        manual_trigger_path: tick-now
        human_readable: Every year on January 1st
"""

SKILL = """\
---
name: echo
description: Echo a message back. Use to check that the installation answers.
workflowTemplateId: echo
---
# Echo

Send `{"message": "hi"}`; get `{"echo": "hi"}` back.
"""

GLOBEX = "use_case: echo\nowner: {org: globex}\nenvironment: dev\n"
PATH = "{{PROCDATA_PROCESS_ID_ATADCORP}}/{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}/"
SETTINGS = {"executionOrder": "v1", "errorWorkflow": "{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}"}


def _webhook(name: str, slug: str, webhook_id: str) -> dict[str, Any]:
    return {"id": f"{webhook_id}-node", "name": name, "type": "n8n-nodes-base.webhook",
            "typeVersion": 2.1, "position": [0, 0], "webhookId": webhook_id,
            "parameters": {"httpMethod": "POST", "path": PATH + slug,
                           "responseMode": "lastNode", "options": {}}}


def _code(name: str, js: str, node_id: str) -> dict[str, Any]:
    return {"id": node_id, "name": name, "type": "n8n-nodes-base.code", "typeVersion": 2,
            "position": [220, 0], "parameters": {"jsCode": js}}


def _flow(name: str, first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "nodes": [first, second],
            "connections": {first["name"]: {"main": [[{"node": second["name"],
                                                       "type": "main", "index": 0}]]}},
            "settings": SETTINGS}


def tick_flow() -> dict[str, Any]:
    schedule = {"id": "0b9d5a7e-0000-4000-8000-00000000c001", "name": "Every year",
                "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2,
                "position": [0, 0], "parameters": {"rule": {"interval": [
                    {"field": "cronExpression", "expression": "0 0 1 1 *"}]}}}
    manual = _webhook("Tick now", "tick-now", "0b9d5a7e-0000-4000-8000-00000000c002")
    manual["position"] = [0, 200]
    boom = _code("Tick work", "throw new Error('tick failed');",
                 "0b9d5a7e-0000-4000-8000-00000000c003")
    link = {"main": [[{"node": boom["name"], "type": "main", "index": 0}]]}
    return {"name": "Tick", "nodes": [schedule, manual, boom],
            "connections": {schedule["name"]: link, manual["name"]: link},
            "settings": {**SETTINGS, "timezone": "UTC"}}  # the trigger's declared timezone


def write(repo: Path) -> None:
    root = repo / "use-cases" / "echo"
    (root / "workflows").mkdir(parents=True)
    (root / "skills" / "echo").mkdir(parents=True)
    (root / "use-case.yaml").write_text(USE_CASE, encoding="utf-8")
    (root / "version.json").write_text('{"version": "1.0.0"}\n', encoding="utf-8")
    (root / "skills" / "echo" / "SKILL.md").write_text(SKILL, encoding="utf-8")
    echo = _flow("Echo", _webhook("Echo request", "echo", "0b9d5a7e-0000-4000-8000-00000000a001"),
                 _code("Build reply", "const body = $input.first().json.body;\n"
                       "return [{ json: { echo: body.message, n: 42 } }];",
                       "0b9d5a7e-0000-4000-8000-00000000a002"))
    fail = _flow("Fail", _webhook("Fail request", "fail", "0b9d5a7e-0000-4000-8000-00000000b001"),
                 _code("Explode", "throw new Error('boom');",
                       "0b9d5a7e-0000-4000-8000-00000000b002"))
    for name, body in (("echo", echo), ("fail", fail), ("tick", tick_flow())):
        (root / "workflows" / f"{name}.json").write_text(json.dumps(body, indent=2) + "\n",
                                                         encoding="utf-8")
    (repo / "instances" / "echo-globex.yaml").write_text(GLOBEX, encoding="utf-8")

"""Codika use-case folders for the tests: from the real `codika init`, or hand-made."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

from reconciler.adapters.codika_cli import CodikaInstall


def codika_init(codika: CodikaInstall, parent: Path, name: str = "demo",
                ingestion: bool = True) -> Path:
    """A folder made by the real `codika init` (no platform project, no npm install)."""
    extra = ["--with-data-ingestion"] if ingestion else []
    proc = codika.run(["init", name, "--name", "Demo Case", "--description", "A demo",
                       "--no-project", "--no-install", *extra], cwd=parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return parent / name


def first_bad_backtick_line(config: str) -> int:
    """The line of the first backtick inside a template literal (codika 3.6.0's bug)."""
    for number, line in enumerate(config.splitlines(), 1):
        if re.search(r"in `workflows/`", line):
            return number
    raise AssertionError("codika init's config.ts changed")


def repair(folder: Path) -> None:
    """What a user does: quote the commands of the Getting Started markdown with
    single quotes instead of backticks (escaped backticks would parse too, but
    `codika verify`'s pattern reading of config.ts then loses the workflows)."""
    config = folder / "config.ts"
    text = config.read_text(encoding="utf-8")
    head, sep, tail = text.partition("## Getting Started")
    body, end, rest = tail.partition("`;\n}")
    config.write_text(head + sep + body.replace("`", "'") + end + rest, encoding="utf-8")


def _node(name: str, kind: str, params: dict[str, Any], x: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"id-{re.sub(r'[^a-z0-9]+', '-', name.lower())}", "name": name,
            "type": kind, "typeVersion": 1, "position": [x, 0], "parameters": params,
            **extra}


def _chain(*names: str) -> dict[str, Any]:
    return {a: {"main": [[{"node": b, "type": "main", "index": 0}]]}
            for a, b in itertools.pairwise(names)}


INSTANCE = "{{PROCDATA_PROCESS_ID_ATADCORP}}/{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}"
SETTINGS = {"executionOrder": "v1", "errorWorkflow": "{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}"}
INIT = _node("Codika Init", "n8n-nodes-codika.codika",
             {"resource": "initializeExecution", "operation": "initWorkflow"}, 200)
SUBMIT = _node("Codika Submit Result", "n8n-nodes-codika.codika",
               {"resource": "workflowOutputs", "operation": "submitResult",
                "resultData": "={{ { answer: $json.answer } }}"}, 600)
REPORT = _node("Codika Report Error", "n8n-nodes-codika.codika",
               {"resource": "errorHandling", "operation": "reportError",
                "errorMessage": "={{ $json.error }}", "errorType": "validation_error"}, 600)


def _webhook(slug: str) -> dict[str, Any]:
    return _node("Webhook", "n8n-nodes-base.webhook",
                 {"httpMethod": "POST", "path": f"{INSTANCE}/{slug}",
                  "authentication": "headerAuth", "responseMode": "lastNode"}, 0,
                 webhookId=f"hook-{slug}", credentials={"httpHeaderAuth": {
                     "id": "{{ORGSECRET_WEBHOOK_AUTH_CRED_ID_TERCESORG}}",
                     "name": "{{ORGSECRET_WEBHOOK_AUTH_CRED_NAME_TERCESORG}}"}})


# The platform's keys (FLEXCRED, SYSCREDS) go only to their own service (EGRESS-PLATFORM-
# CREDENTIAL); the others may go anywhere outside.
_API = {"ANTHROPIC": "https://api.anthropic.com/v1/messages",
        "OPENAI": "https://api.openai.com/v1/chat/completions"}


def _llm(scope: str, integration: str, suffix: str, x: int) -> dict[str, Any]:
    url = _API.get(integration, "https://api.example.com")
    return _node(f"Call {scope}", "n8n-nodes-base.httpRequest", {"url": url, "method": "POST"}, x,
                 retryOnFail=True, maxTries=3, waitBetweenTries=1000,
                 credentials={"httpHeaderAuth": {
                     "id": f"{{{{{scope}_{integration}_ID_{suffix}}}}}",
                     "name": f"{{{{{scope}_{integration}_NAME_{suffix}}}}}"}})


def workflows() -> dict[str, dict[str, Any]]:
    """Every trigger type, Codika Init / Submit / Report nodes, every credential scope."""
    creds = [("FLEXCRED", "ANTHROPIC", "DERCXELF"), ("USERCRED", "GMAIL", "DERCRESU"),
             ("ORGCRED", "SLACK", "DERCGRO"), ("INSTCRED", "SUPABASE", "DERCTSNI"),
             ("SYSCREDS", "OPENAI", "SDERCSYS")]
    calls = [_llm(*c, 300 + 50 * i) for i, c in enumerate(creds)]
    code = _node("Answer", "n8n-nodes-base.code", {
        "jsCode": "const company = {{INSTPARM_COMPANY_MRAPTSNI}};\n"
                  "const rest = [{{INSTPARM_NOTES_MRAPTSNI}}, {{INSTPARM_LIMIT_MRAPTSNI}}, "
                  "{{INSTPARM_ENABLED_MRAPTSNI}}, {{INSTPARM_START_MRAPTSNI}}, "
                  "{{INSTPARM_TONE_MRAPTSNI}}, {{INSTPARM_LANGS_MRAPTSNI}}, "
                  "{{INSTPARM_MODE_MRAPTSNI}}, {{INSTPARM_WORDS_MRAPTSNI}}, "
                  "{{INSTPARM_CONFIG_MRAPTSNI}}, {{INSTPARM_ROWS_MRAPTSNI}}];\n"
                  "return [{json: {answer: company, rest}}];"}, 500)
    ask_nodes = [_webhook("ask"), INIT, *calls, code, SUBMIT, REPORT]
    ask_chain = _chain("Webhook", "Codika Init", *(c["name"] for c in calls), "Answer",
                       "Codika Submit Result")
    ask_chain["Answer"]["main"].append([{"node": "Codika Report Error", "type": "main",
                                         "index": 0}])
    schedule = _node("Schedule", "n8n-nodes-base.scheduleTrigger",
                     {"rule": {"interval": [{"field": "cronExpression",
                                             "expression": "0 8 * * 1-5"}]}}, 0)
    manual = _webhook("report-now")
    manual["name"] = "Manual"
    report_code = _node("Report", "n8n-nodes-base.code", {"jsCode": "return [{json: {}}];"},
                        400)
    service = _node("Slack Trigger", "n8n-nodes-base.slackTrigger",
                    {"trigger": ["message"]}, 0, webhookId="slack-hook",
                    credentials={"slackApi": {"id": "{{ORGCRED_SLACK_ID_DERCGRO}}",
                                              "name": "{{ORGCRED_SLACK_NAME_DERCGRO}}"}})
    sub_trigger = _node("Start", "n8n-nodes-base.executeWorkflowTrigger",
                        {"inputSource": "workflowInputs", "workflowInputs": {
                            "values": [{"name": "text"}]}}, 0)
    ingest = _webhook("embed")
    ingest["parameters"]["path"] = "={{$json.webhook_path || 'kitchen/embed'}}"
    return {
        "ask": {"name": "Ask", "nodes": ask_nodes, "connections": ask_chain,
                "settings": SETTINGS},
        "report": {"name": "Report", "nodes": [schedule, manual, INIT, report_code, SUBMIT],
                   "connections": {**_chain("Schedule", "Codika Init", "Report",
                                            "Codika Submit Result"),
                                   **_chain("Manual", "Codika Init")},
                   "settings": SETTINGS},
        "on-message": {"name": "On message", "nodes": [service, INIT, SUBMIT],
                       "connections": _chain("Slack Trigger", "Codika Init",
                                             "Codika Submit Result"), "settings": SETTINGS},
        "helper": {"name": "Helper", "nodes": [sub_trigger, _node(
            "Echo", "n8n-nodes-base.code", {"jsCode": "return $input.all();"}, 200)],
            "connections": _chain("Start", "Echo"), "settings": {"executionOrder": "v1"}},
        "ingest": {"name": "Ingest", "nodes": [ingest, _node(
            "Embed", "n8n-nodes-base.code", {"jsCode": "return $input.all();"}, 200)],
            "connections": _chain("Webhook", "Embed"), "settings": SETTINGS},
    }


FIELDS_TS = """[
    { key: 'COMPANY', type: 'string', label: 'Company', required: true, maxLength: 80 },
    { key: 'NOTES', type: 'text', label: 'Notes', rows: 3 },
    { key: 'LIMIT', type: 'number', label: 'Limit', defaultValue: 5 },
    { key: 'ENABLED', type: 'boolean', label: 'Enabled', defaultValue: true },
    { key: 'START', type: 'date', label: 'Start' },
    { key: 'TONE', type: 'select', label: 'Tone', defaultValue: 'warm',
      options: [{ value: 'warm', label: 'Warm' }, { value: 'dry', label: 'Dry' }] },
    { type: 'section', title: 'Advanced', inputSchema: [
      { key: 'LANGS', type: 'multiselect', label: 'Languages',
        options: [{ value: 'en', label: 'English' }, { value: 'fr', label: 'French' }] },
      { key: 'MODE', type: 'radio', label: 'Mode',
        options: [{ value: 'a', label: 'A' }, { value: 'b', label: 'B' }] },
      { key: 'WORDS', type: 'array', label: 'Words', itemField: { type: 'string' } },
      { key: 'CONFIG', type: 'object', label: 'Config',
        schema: [{ key: 'depth', type: 'number', label: 'Depth' }] },
      { key: 'ROWS', type: 'objectArray', label: 'Rows',
        itemSchema: [{ key: 'name', type: 'string', label: 'Name' }] },
    ] },
  ]"""


def kitchen_sink(parent: Path, name: str = "kitchen", version: str = "1.2.0") -> Path:
    """A hand-made Codika folder: every trigger type, field type, section, scope."""
    folder = parent / name
    (folder / "workflows").mkdir(parents=True)
    (folder / "data-ingestion").mkdir()
    for wf_id, content in workflows().items():
        sub = "data-ingestion" if wf_id == "ingest" else "workflows"
        (folder / sub / f"{wf_id}.json").write_text(json.dumps(content, indent=2) + "\n")
    (folder / "version.json").write_text(json.dumps({"version": version}) + "\n")
    (folder / "project.json").write_text(json.dumps({"projectId": "p-123"}) + "\n")
    skill = folder / "skills" / "ask"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: ask-kitchen\ndescription: Ask the kitchen.\n"
                                    "workflowTemplateId: ask\n---\n# Ask\n")
    (folder / "config.ts").write_text(CONFIG_TS.replace("@FIELDS@", FIELDS_TS))
    return folder


CONFIG_TS = """import { dirname, join } from 'path';
import { fileURLToPath } from 'url';
import { loadAndEncodeWorkflow, type ProcessDeploymentConfigurationInput } from 'codika';

const __dirname = dirname(fileURLToPath(import.meta.url));
const url = (slug: string): string =>
  `{{ORGSECRET_N8N_BASE_URL_TERCESORG}}/webhook/{{PROCDATA_PROCESS_ID_ATADCORP}}/{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}/${slug}`;
const wf = (file: string): string => loadAndEncodeWorkflow(join(__dirname, 'workflows', file));

export const WORKFLOW_FILES = ['ask', 'report', 'on-message', 'helper']
  .map((f) => join(__dirname, `workflows/${f}.json`));

export function getConfiguration(): ProcessDeploymentConfigurationInput {
  return {
    title: 'Kitchen sink', subtitle: 'Every form', description: 'All of Codika at once.',
    tags: ['demo', 'all'], integrationUids: ['anthropic', 'gmail', 'openai', 'slack', 'supabase'],
    icon: 'Utensils',
    processType: 'personal', processDeploymentMarkdown: '# Kitchen',
    deploymentInputSchema: @FIELDS@,
    defaultDeploymentParameters: { COMPANY: 'Acme' },
    workflows: [
      { workflowTemplateId: 'ask', workflowId: 'ask', workflowName: 'Ask',
        knowledgeBaseAccess: { processDocTags: [], processInstanceDocTags: [] },
        integrationUids: ['anthropic', 'gmail', 'slack', 'supabase', 'openai'],
        triggers: [{ triggerId: crypto.randomUUID(), type: 'http', method: 'POST',
                     url: url('ask'), inputSchema: [
                       { key: 'question', type: 'string', label: 'Question', required: true },
                       { type: 'section', title: 'More', inputSchema: [
                         { key: 'file', type: 'file', label: 'File' }] }] }],
        outputSchema: [{ key: 'answer', type: 'text', label: 'Answer' }],
        n8nWorkflowJsonBase64: wf('ask.json'), cost: 3 },
      { workflowTemplateId: 'report', workflowId: 'report', workflowName: 'Report',
        knowledgeBaseAccess: { processDocTags: [], processInstanceDocTags: [] },
        triggers: [{ triggerId: crypto.randomUUID(), type: 'schedule',
                     cronExpression: '0 8 * * 1-5', timezone: 'Europe/Brussels',
                     humanReadable: 'Weekdays at 8', manualTriggerUrl: url('report-now') }],
        n8nWorkflowJsonBase64: wf('report.json'), cost: 1 },
      { workflowTemplateId: 'on-message', workflowId: 'on-message',
        workflowName: 'On message', integrationUids: ['slack'],
        knowledgeBaseAccess: { processDocTags: [], processInstanceDocTags: [] },
        triggers: [{ triggerId: crypto.randomUUID(), type: 'service_event',
                     service: 'slack', eventType: 'message' }],
        n8nWorkflowJsonBase64: wf('on-message.json') },
      { workflowTemplateId: 'helper', workflowId: 'helper', workflowName: 'Helper',
        knowledgeBaseAccess: { processDocTags: [], processInstanceDocTags: [] },
        triggers: [{ triggerId: crypto.randomUUID(), type: 'subworkflow',
                     inputSchema: [{ key: 'text', type: 'string' }], calledBy: [] }],
        n8nWorkflowJsonBase64: wf('helper.json'), cost: 0 },
    ],
  };
}

export function getDataIngestionConfig() {
  return {
    workflowTemplateId: 'ingest', workflowName: 'Ingest', cost: 2,
    n8nWorkflowJsonBase64: loadAndEncodeWorkflow(join(__dirname, 'data-ingestion/ingest.json')),
    webhooks: { embed: '{{PROCDATA_PROCESS_ID_ATADCORP}}/embed',
                delete: '{{PROCDATA_PROCESS_ID_ATADCORP}}/embed-delete' },
    purpose: 'Embed documents',
  };
}
"""

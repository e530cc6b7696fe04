"""The corpus of broken repositories: each case is one mutation of the good repository.

A case names where the problem must be reported (file, and line via `needle` or a
field), as the loader corpus in tests/load/test_broken_repos.py does; its helpers
and `Case` are reused. Cases cover the four rule layers (graph, platform, content,
folder), loading, git history and release tags, and attacks of one tenant on
another.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.load.test_broken_repos import Case, both, edit, remove, rename, write
from tests.validate.test_rules import CASES as RULE_FIXTURES

UC = "use-cases"
DIGEST = f"{UC}/daily-digest"
TRIAGE = f"{UC}/inbox-triage"
LEAD = f"{UC}/lead-enrichment"
ECHO = f"{UC}/echo"
DIGEST_WF = f"{DIGEST}/workflows/digest.json"
TRIAGE_WF = f"{TRIAGE}/workflows/triage.json"
MAIN_WF = f"{LEAD}/workflows/main.json"
SCORE_WF = f"{LEAD}/workflows/score-lead.json"
SUMMARIZE_WF = f"{LEAD}/workflows/summarize.json"
ECHO_WF = f"{ECHO}/workflows/echo.json"
PROCESS_ID = "{{PROCDATA_PROCESS_ID_ATADCORP}}"
INSTANCE_UID = "{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}"
ECHO_PATH = f'"path": "{PROCESS_ID}/{INSTANCE_UID}/echo"'
ERIN = "instances/inbox-triage-erin.yaml"
HELLO_TEST = f"{UC}/hello/tests/greets-by-name.yaml"


@dataclass(frozen=True)
class GateCase:
    """A broken repository: `case` on a branch of the good commit.

    `tag` puts a release tag `<use-case>@<version>`: on the case's commit, or with
    `tag_only` on a commit of its own while the branch stays good, or with
    `tag_blob` on a blob. `daemon` cases also run a daemon on the branch.
    """

    case: Case
    layer: str
    tag: str | None = None
    tag_only: bool = False
    daemon: bool = False
    tag_blob: bool = False

    @property
    def name(self) -> str:
        return self.case.name


def c(name: str, breaks: Callable[[Path], None], file: str, layer: str, *,
      field: str | None = None, needle: str | None = None, says: str | None = None,
      tag: str | None = None, tag_only: bool = False, daemon: bool = False,
      tag_blob: bool = False) -> GateCase:
    return GateCase(Case(name, breaks, file, field=field, needle=needle, says=says),
                    layer, tag=tag, tag_only=tag_only, daemon=daemon, tag_blob=tag_blob)


def _copy_folder(old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        shutil.copytree(root / old, root / new)

    return apply


def _add_node(file: str, node: dict[str, Any]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        content = json.loads((root / file).read_text(encoding="utf-8"))
        content["nodes"].append({"id": "0b9d5a7e-0000-4000-8000-00000000f001",
                                 "typeVersion": 1, "position": [440, 0], **node})
        (root / file).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")

    return apply


def _http(url: str) -> Callable[[Path], None]:
    return _add_node(ECHO_WF, {"name": "Peek", "type": "n8n-nodes-base.httpRequest",
                               "typeVersion": 4.2, "retryOnFail": True,
                               "parameters": {"url": url, "options": {}}})


def _rule(rule_id: str, file: str) -> GateCase:
    """The failing fixture of a `must` rule (tests/validate/test_rules.py), live."""
    return c(f"rule-{rule_id.lower()}", RULE_FIXTURES[rule_id], file, "rules",
             says=f"({rule_id}")


def _nothing(root: Path) -> None:
    """The branch stays the good commit (the problem is in a tag)."""


GRAPH = [
    c("graph-duplicate-node-name", edit(MAIN_WF, '"name": "Prepare lead"',
                                        '"name": "Score lead"'),
      MAIN_WF, "graph", needle='"name": "Score lead"'),
    c("graph-dangling-connection", edit(DIGEST_WF, '"node": "Post to Slack"',
                                        '"node": "Post to Slak"'),
      DIGEST_WF, "graph", needle="Post to Slak"),
    c("graph-webhook-response-mode", edit(ECHO_WF, '"responseMode": "lastNode"',
                                          '"responseMode": "responseNode"'),
      ECHO_WF, "graph", needle="responseNode", daemon=True),
    c("graph-no-trigger", edit(SUMMARIZE_WF, '"type": "n8n-nodes-base.executeWorkflowTrigger"',
                               '"type": "n8n-nodes-base.noOp"'),
      SUMMARIZE_WF, "graph", field="/nodes", needle='"nodes": ['),
]

PLATFORM = [
    c("platform-literal-webhook-path", edit(TRIAGE_WF, f"{PROCESS_ID}/{INSTANCE_UID}/triage",
                                            "triage"),
      TRIAGE_WF, "platform", needle='"path": "triage"'),
    c("platform-no-error-workflow", edit(ECHO_WF, ',\n    "errorWorkflow": '
                                         '"{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}"', ""),
      ECHO_WF, "platform", needle='"settings"'),
    c("platform-caller-policy-any", edit(SCORE_WF, '"callerPolicy": "workflowsFromSameOwner"',
                                         '"callerPolicy": "any"'),
      SCORE_WF, "platform", needle='"callerPolicy": "any"'),
    c("tenant-subworkflow-fixed-id-of-other-instance",
      edit(MAIN_WF, '"value": "{{SUBWKFL_score-lead_LFKWBUS}}"',
           '"value": "@wf:lead-enrichment-globex/score-lead@"'),
      MAIN_WF, "platform", field="/nodes/2/parameters/workflowId", needle='"workflowId": {'),
    c("platform-org-process-user-credential",
      edit(DIGEST_WF, '"id": "{{ORGCRED_SLACK_ID_DERCGRO}}",\n          "name": '
                      '"{{ORGCRED_SLACK_NAME_DERCGRO}}"',
           '"id": "{{USERCRED_SLACK_ID_DERCRESU}}",\n          "name": '
           '"{{USERCRED_SLACK_NAME_DERCRESU}}"'),
      DIGEST_WF, "platform", needle="USERCRED_SLACK_ID"),
]

CONTENT = [
    c("content-placeholder-wrong-suffix", edit(DIGEST_WF, "{{INSTPARM_SLACK_CHANNEL_MRAPTSNI}}",
                                               "{{INSTPARM_SLACK_CHANNEL_MRAPTSIN}}"),
      DIGEST_WF, "content", needle="MRAPTSIN"),
    c("content-instparm-quoted-number", edit(TRIAGE_WF, '"limit": {{INSTPARM_MAX_EMAILS_MRAPTSNI}}',
                                             '"limit": "{{INSTPARM_MAX_EMAILS_MRAPTSNI}}"'),
      TRIAGE_WF, "content", needle='"limit"'),
    c("tenant-hardcoded-credential-of-other-org",
      edit(DIGEST_WF, '"id": "{{ORGCRED_SLACK_ID_DERCGRO}}"', '"id": "@cred:org.globex.slack@"'),
      DIGEST_WF, "content", needle="@cred:org.globex.slack@"),
    c("content-execution-order-v0", edit(ECHO_WF, '"executionOrder": "v1"',
                                         '"executionOrder": "v0"'),
      ECHO_WF, "content", needle='"executionOrder": "v0"', daemon=True),
    c("content-server-field", edit(ECHO_WF, '{\n  "name": "Echo",',
                                   '{\n  "active": true,\n  "name": "Echo",'),
      ECHO_WF, "content", needle='"active": true'),
    c("content-unknown-settings-key", edit(ECHO_WF, '"executionOrder": "v1"',
                                           '"executionOrder": "v1",\n    "sneaky": true'),
      ECHO_WF, "content", needle='"sneaky"'),
    c("content-webhook-without-id", edit(ECHO_WF, '"webhookId": "0b9d5a7e-0000-4000-8000-'
                                         '00000000a001",', ""),
      ECHO_WF, "content", field="/nodes/0"),
    c("content-model-not-allowed", edit(SUMMARIZE_WF, "claude-sonnet-4-5-20250929",
                                        "gpt-evil-9000"),
      SUMMARIZE_WF, "content", needle="gpt-evil-9000"),
    c("content-nul-escape", edit(ECHO_WF, '"name": "Build reply"', '"name": "Build\\u0000reply"'),
      ECHO_WF, "content", needle="\\u0000"),
]

FOLDER = [
    c("folder-trigger-type-mismatch", edit(f"{ECHO}/use-case.yaml", "      - {type: http, method: "
                                           "POST, path: fail}",
                                           "      - {type: subworkflow}"),
      f"{ECHO}/use-case.yaml", "folder", needle="type: subworkflow"),
    c("folder-webhook-path-mismatch", edit(f"{TRIAGE}/use-case.yaml", "path: triage",
                                           "path: triage-all"),
      f"{TRIAGE}/use-case.yaml", "folder", field="workflows[0].triggers[0]",
      needle="- type: http"),
    c("folder-pin-missing-version", edit("instances/inbox-triage-alice.yaml", "version: 2.1.0",
                                         "version: 9.9.9"),
      "instances/inbox-triage-alice.yaml", "folder", field="version", needle="9.9.9"),
    c("folder-owner-unknown-user", edit(ERIN, "{user: erin}", "{user: mallory}"),
      ERIN, "folder", field="owner.user", needle="mallory", daemon=True),
    c("folder-parameter-wrong-type", edit("instances/lead-enrichment-globex.yaml",
                                          "MIN_SCORE: 65", "MIN_SCORE: high"),
      "instances/lead-enrichment-globex.yaml", "folder", field="parameters.MIN_SCORE",
      needle="MIN_SCORE"),
    c("folder-instparm-undeclared", edit(DIGEST_WF, "{{INSTPARM_DIGEST_TITLE_MRAPTSNI}}",
                                         "{{INSTPARM_DIGEST_TITEL_MRAPTSNI}}"),
      DIGEST_WF, "folder", needle="DIGEST_TITEL"),
    c("folder-skill-unknown-workflow", edit(f"{DIGEST}/skills/run-digest/SKILL.md",
                                            "workflowTemplateId: digest",
                                            "workflowTemplateId: digests"),
      f"{DIGEST}/skills/run-digest/SKILL.md", "folder", field="workflowTemplateId",
      needle="workflowTemplateId"),
    c("folder-subworkflow-calls-its-caller", edit(SCORE_WF, "{{SUBWKFL_summarize_LFKWBUS}}",
                                                  "{{SUBWKFL_main_LFKWBUS}}"),
      SCORE_WF, "folder", needle="SUBWKFL_main"),
    c("folder-cron-invalid", edit(f"{DIGEST}/use-case.yaml", 'cron: "0 8 * * 1-5"',
                                  'cron: "0 25 * * 1-5"'),
      f"{DIGEST}/use-case.yaml", "folder", needle="cron:"),
]

LOAD = [
    c("load-yaml-syntax", edit("platform.yaml", "defaults:", "defaults: : :"),
      "platform.yaml", "load", needle="defaults: : :", daemon=True),
    c("load-deep-json", write(ECHO_WF, "[" * 10_000 + "]" * 10_000),
      ECHO_WF, "load", needle="[[[", says="nested more than"),
    c("load-missing-version", remove(f"{ECHO}/version.json"), f"{ECHO}/version.json", "load",
      says="file is missing"),
    # the use case moved out of use-cases/ (removed) while an instance still names it
    c("load-use-case-renamed-instances-dangle", rename(ECHO, "attic"),
      "instances/echo-globex.yaml", "load", field="use_case", needle="use_case"),
]

HISTORY = [
    c("history-content-changed-same-version", edit(DIGEST_WF, "`${title} for ${day}`",
                                                   "`${title} on ${day}`"),
      f"{DIGEST}/version.json", "history", says="other content"),
    c("history-tag-version-disagrees", _nothing, f"{DIGEST}/version.json", "history",
      says="not 1.0.1", tag="daily-digest@1.0.1"),
    c("history-tag-on-broken-commit", edit(TRIAGE_WF, '"typeVersion": 2,', '"typeVersion": 2'),
      f"{TRIAGE}/version.json", "history", says="does not load", tag="inbox-triage@2.1.1",
      tag_only=True, daemon=True),
    c("history-tag-other-content-same-version",
      both(edit(TRIAGE_WF, "const urgent =", "const urgentWords ="),
           edit(TRIAGE_WF, "urgent.filter", "urgentWords.filter")),
      f"{TRIAGE}/version.json", "history", says="other content",
      tag="inbox-triage@2.1.0", tag_only=True),
]

# Attacks of one tenant on another: each must be refused, never applied.
TENANTS = [
    c("tenant-literal-path-of-other-instance",
      edit(ECHO_WF, ECHO_PATH, '"path": "inbox-triage/inbox-triage-erin/triage"'),
      ECHO_WF, "tenant", needle="inbox-triage-erin/triage", daemon=True),
    c("tenant-path-placeholders-reordered",
      edit(ECHO_WF, ECHO_PATH, f'"path": "{INSTANCE_UID}/{PROCESS_ID}/echo"'),
      ECHO_WF, "tenant", needle=f'"{INSTANCE_UID}/{PROCESS_ID}/echo"'),
    c("tenant-path-placeholder-prefixed",
      edit(ECHO_WF, ECHO_PATH, f'"path": "inbox-triage/{PROCESS_ID}/{INSTANCE_UID}/echo"'),
      ECHO_WF, "tenant", needle='"path": "inbox-triage/'),
    c("tenant-use-case-slug-is-an-instance-id",
      _copy_folder(ECHO, f"{UC}/inbox-triage-erin"),
      f"{UC}/inbox-triage-erin/use-case.yaml", "tenant", says="instance"),
    c("tenant-subworkflow-of-other-use-case",
      edit(ECHO_WF, '"name": "Build reply"', '"name": "Build reply", "notes": '
                    '"{{SUBWKFL_score-lead_LFKWBUS}}"'),
      ECHO_WF, "tenant", needle="SUBWKFL_score-lead"),
    c("tenant-instance-names-other-org-credential",
      edit("instances/lead-enrichment-globex.yaml", "environment: prod",
           "environment: prod\ncredentials: {anthropic: @cred:system.platform.anthropic@}"),
      "instances/lead-enrichment-globex.yaml", "tenant", field="credentials",
      needle="credentials:"),
    c("tenant-second-instance-of-owner-environment",
      edit(ERIN, "{user: erin}", "{user: alice}"),
      ERIN, "tenant", needle="owner:"),
    c("tenant-private-use-case-of-other-org",
      edit(f"{LEAD}/use-case.yaml", "visibility: {level: public}",
           "visibility: {level: organizational}"),
      "instances/lead-enrichment-globex.yaml", "tenant", field="owner", needle="owner:"),
    c("tenant-private-use-case-of-other-user",
      edit(f"{TRIAGE}/use-case.yaml", "visibility: {level: public}",
           "visibility: {level: private}"),
      ERIN, "tenant", field="owner", needle="owner:"),
    c("tenant-two-instances-one-owner-environment",
      write("instances/inbox-triage-erin-again.yaml",
            "use_case: inbox-triage\nowner: {user: erin}\nenvironment: prod\n"),
      "instances/inbox-triage-erin-again.yaml", "tenant", needle="owner:"),
    c("tenant-share-with-other-org-team", edit("instances/inbox-triage-carol.yaml",
                                               "teams: [sales]", "teams: [ops]"),
      "instances/inbox-triage-carol.yaml", "tenant", field="sharing.teams[0]", needle="[ops]"),
    c("tenant-org-instance-as-user", edit("instances/lead-enrichment-globex.yaml",
                                          "{org: globex}", "{user: dave}"),
      "instances/lead-enrichment-globex.yaml", "tenant", field="owner.user", needle="owner:"),
    c("tenant-member-of-other-org", edit("platform.yaml", "members: [dave, erin]",
                                         "members: [dave, alice]"),
      "platform.yaml", "tenant", field="organizations[1].teams[0].members[1]",
      needle="[dave, alice]"),
]

# Ways out of the installation: n8n itself, its host, another installation's webhook.
ERIN_HOOK = "inbox-triage/inbox-triage-erin/triage"
EGRESS = [
    c("egress-localhost-webhook-of-other-tenant", _http(f"http://127.0.0.1:5678/webhook/{ERIN_HOOK}"),
      ECHO_WF, "tenant", needle="127.0.0.1:5678", daemon=True),
    c("egress-public-webhook-of-other-tenant",
      _http("https://n8n.example.com/webhook/lead-enrichment/lead-enrichment-globex/enrich"),
      ECHO_WF, "tenant", needle="n8n.example.com"),
    c("egress-host-computed-at-run-time", _http("={{ $json.body.target }}/x"),
      ECHO_WF, "tenant", needle="$json.body.target"),
    c("egress-code-node-calls-n8n-api",
      edit(ECHO_WF, "const body = $input.first().json.body;",
           "await this.helpers.httpRequest({url: 'http://[::1]:5678/rest/workflows'});"),
      ECHO_WF, "tenant", needle="[::1]:5678"),
    c("egress-read-host-file", _add_node(ECHO_WF, {
        "name": "Read", "type": "n8n-nodes-base.readWriteFile",
        "parameters": {"fileSelector": "/home/node/.n8n/database.sqlite"}}),
      ECHO_WF, "tenant", field="/nodes/2"),
    c("egress-n8n-api-node", _add_node(ECHO_WF, {
        "name": "Admin", "type": "n8n-nodes-base.n8n",
        "parameters": {"resource": "workflow", "operation": "getAll"}}),
      ECHO_WF, "tenant", field="/nodes/2"),
    c("tenant-agent-tool-runs-inline-workflow", _add_node(ECHO_WF, {
        "name": "Tool", "type": "@n8n/n8n-nodes-langchain.toolWorkflow", "typeVersion": 2.2,
        "parameters": {"source": "parameter", "workflowJson": "{\"nodes\": []}"}}),
      ECHO_WF, "tenant", field="/nodes/2/parameters/workflowId"),
    c("tenant-path-dot-segments-into-other-space",
      edit(ECHO_WF, ECHO_PATH, f'"path": "{PROCESS_ID}/{INSTANCE_UID}/../../inbox-triage/'
                               'inbox-triage-erin/echo"'),
      ECHO_WF, "tenant", needle="/../../"),
    c("egress-platform-credential-to-tenant-server",
      edit(SUMMARIZE_WF, '"maxTokensToSample": 300', '"maxTokensToSample": 300,\n'
           '            "baseURL": "https://collector.example.com/v1"'),
      SUMMARIZE_WF, "tenant", needle="collector.example.com"),
    c("history-tag-on-a-blob", _nothing, f"{ECHO}/version.json", "history",
      says="not a commit", tag="echo@1.0.0", tag_blob=True),
]

# The `must` rules no other case fails (tests/gate/test_every_must_rule.py checks).
RULES = [_rule(rule_id, file) for rule_id, file in [
    ("CRED-ID-NAME", DIGEST_WF), ("CRED-ONE-SCOPE", DIGEST_WF),
    ("PLATFORM-SCHEDULE-MANUAL", DIGEST_WF), ("PLATFORM-SUBWORKFLOW-INPUTS", SUMMARIZE_WF),
    ("REF-VISIBILITY", f"{LEAD}/use-case.yaml"), ("SCHEDULE-TIMEZONE", DIGEST_WF),
    ("SCHEMA-TYPES", SCORE_WF), ("SUBWKFL-INPUT-MAPPING", MAIN_WF), ("WEBHOOK-AUTH", TRIAGE_WF),
    ("CODIKA-NODES", MAIN_WF), ("CODIKA-STRUCTURE", MAIN_WF),
    ("LLM-OUTPUT-ACCESS", SUMMARIZE_WF), ("PLACEHOLDER-BARE", TRIAGE_WF),
    ("PLAN-KNOWN", "platform.yaml"), ("PLAN-SEATS", "platform.yaml"),
    ("SMOKE-WORKFLOW", HELLO_TEST), ("SMOKE-PARAMS", HELLO_TEST),
    ("SMOKE-MATCHERS", HELLO_TEST),
]]

CASES = GRAPH + PLATFORM + CONTENT + FOLDER + LOAD + HISTORY + TENANTS + EGRESS + RULES

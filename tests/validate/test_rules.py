"""Every rule: passes on example-repo, fails on a broken copy, and each fix round-trips."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler.load.source import FolderSource
from reconciler.validate.engine import lint_source, select_rules
from reconciler.validate.fixer import fix_folder
from reconciler.validate.rules import LOAD, REGISTRY, Layer, Options
from tests.validate.conftest import (
    DIGEST,
    EXAMPLE,
    LEAD,
    TRIAGE,
    Mutation,
    link,
    node,
    text,
    workflow,
)

DIGEST_WF = f"{DIGEST}/workflows/digest.json"
TRIAGE_WF = f"{TRIAGE}/workflows/triage.json"
MAIN_WF = f"{LEAD}/workflows/main.json"
SCORE_WF = f"{LEAD}/workflows/score-lead.json"
SUMMARIZE_WF = f"{LEAD}/workflows/summarize.json"
LEAD_YAML = f"{LEAD}/use-case.yaml"


def _structured_chain(content: dict[str, Any]) -> None:
    """Summarize parses its answer; the node after it reads a field at the top."""
    next(n for n in content["nodes"] if n["name"] == "Summarize")["parameters"][
        "hasOutputParser"] = True
    _add(content, node("Use", "n8n-nodes-base.set", parameters={
        "text": "={{ $json.summary }} / {{ $('Summarize').first().json.tone }}"}),
        Summarize="Use")


def _add(content: dict[str, Any], *new: dict[str, Any], **links: str) -> None:
    content["nodes"].extend(new)
    for source, target in links.items():
        content["connections"][source.replace("_", " ")] = {"main": link(target)}


def _side_branch(c: dict[str, Any]) -> None:
    c["nodes"].append(node("Side"))
    c["connections"]["Find unread"]["main"][0].append({"node": "Side", "type": "main",
                                                       "index": 0})


def _merge(c: dict[str, Any]) -> None:
    c["nodes"].append(node("Join", "n8n-nodes-base.merge"))
    c["connections"]["Find unread"] = {"main": link("Join")}
    c["connections"]["Join"] = {"main": link("Sort by urgency")}


def _dangling(c: dict[str, Any]) -> None:
    c["connections"]["Find unread"]["main"][0].append({"node": "Ghost", "type": "main",
                                                       "index": 0})


def _no_retry(c: dict[str, Any]) -> None:
    for key in ("retryOnFail", "maxTries", "waitBetweenTries"):
        del c["nodes"][1][key]


def _database(c: dict[str, Any]) -> None:
    c["nodes"].append(node("Lookup", "n8n-nodes-base.postgres", retryOnFail=True))
    c["connections"]["Sort by urgency"] = {"main": link("Lookup")}


# rule id -> a mutation of example-repo that breaks exactly that rule (maybe others too)
CASES: dict[str, Mutation] = {
    # isolation
    "ISOLATION-CALLER-SETTINGS": workflow(TRIAGE_WF, lambda c: c["settings"].update(
        callerIds="4xQ1aB,9Zt2cD")),
    # graph
    "GRAPH-DUPLICATE-NAME": workflow(TRIAGE_WF, lambda c: c["nodes"][2].update(
        name="Find unread")),
    "GRAPH-DANGLING-CONNECTION": workflow(TRIAGE_WF, _dangling),
    "GRAPH-DISCONNECTED": workflow(TRIAGE_WF, lambda c: c["nodes"].append(node("Lonely"))),
    "GRAPH-UNREACHABLE": workflow(TRIAGE_WF, lambda c: _add(
        c, node("Orphan"), Orphan="Sort by urgency")),
    "GRAPH-TERMINAL": workflow(TRIAGE_WF, _side_branch),
    "GRAPH-WEBHOOK-RESPONSE": workflow(MAIN_WF, lambda c: c["nodes"][0]["parameters"].update(
        responseMode="lastNode")),
    "GRAPH-MERGE-TERMINAL": workflow(TRIAGE_WF, _merge),
    "GRAPH-TRIGGER-COUNT": workflow(SCORE_WF, lambda c: _add(
        c, node("Also called", "n8n-nodes-base.executeWorkflowTrigger"),
        Also_called="Summarize company")),
    # platform
    "PLATFORM-SUBWORKFLOW-INPUTS": workflow(SUMMARIZE_WF, lambda c: c["nodes"][0].update(
        parameters={"inputSource": "passthrough"})),
    "PLATFORM-SCHEDULE-MANUAL": workflow(DIGEST_WF, lambda c: c["connections"].pop("Run now")),
    "PLATFORM-WEBHOOK-PATH": workflow(TRIAGE_WF, lambda c: c["nodes"][0]["parameters"].update(
        path="triage")),
    "PLATFORM-ERROR-WORKFLOW": workflow(TRIAGE_WF, lambda c: c["settings"].pop("errorWorkflow")),
    "PLATFORM-CALLER-POLICY": workflow(TRIAGE_WF, lambda c: c["settings"].update(
        callerPolicy="any")),
    "PLATFORM-EXEC-WAIT": workflow(MAIN_WF, lambda c: c["nodes"][2]["parameters"][
        "options"].update(waitForSubWorkflow=False)),
    "PLATFORM-SUBWKFL-CALL": workflow(MAIN_WF, lambda c: c["nodes"][2]["parameters"][
        "workflowId"].update(value="1234")),
    "PLATFORM-OWNER-SCOPE": text(DIGEST_WF, "ORGCRED_SLACK_ID_DERCGRO",
                                 "USERCRED_SLACK_ID_DERCRESU"),
    # content
    "PLACEHOLDER-SYNTAX": text(TRIAGE_WF, "label:{{INSTPARM_LABEL_MRAPTSNI}}",
                               "label:{{INSTPARM_LABEL_MRAPTSNX}}"),
    "PLACEHOLDER-SCOPE": text(TRIAGE_WF, "label:{{INSTPARM_LABEL_MRAPTSNI}}",
                              "label:{{INSTPARM_LABEL_MRAPTSNI}} {{INSTPRM_LABEL_MRPTSNI}}"),
    "INSTPARM-QUOTE": text(TRIAGE_WF, '"limit": {{INSTPARM_MAX_EMAILS_MRAPTSNI}},',
                           '"limit": "{{INSTPARM_MAX_EMAILS_MRAPTSNI}}",'),
    "CRED-HARDCODED": text(DIGEST_WF, '"id": "{{ORGCRED_SLACK_ID_DERCGRO}}"', '"id": "12345"'),
    "CRED-ID-NAME": text(DIGEST_WF, "{{ORGCRED_SLACK_NAME_DERCGRO}}",
                         "{{ORGCRED_SLACK_ID_DERCGRO}}"),
    "CRED-ONE-SCOPE": text(DIGEST_WF, "{{ORGCRED_SLACK_NAME_DERCGRO}}",
                           "{{INSTCRED_SLACK_NAME_DERCTSNI}}"),
    "SETTINGS-EXECUTION-ORDER": workflow(TRIAGE_WF, lambda c: c["settings"].update(
        executionOrder="v0")),
    "SETTINGS-KEYS": workflow(TRIAGE_WF, lambda c: c["settings"].update(saveExecution=True)),
    "SERVER-FIELDS": workflow(TRIAGE_WF, lambda c: c.update(id="abc", active=False,
                                                             pinData={})),
    "WEBHOOK-ID": workflow(TRIAGE_WF, lambda c: c["nodes"][0].pop("webhookId")),
    "WEBHOOK-AUTH": workflow(TRIAGE_WF, lambda c: c["nodes"][0]["parameters"].update(
        authentication="headerAuth")),
    "RETRY-BACKOFF": workflow(TRIAGE_WF, _no_retry),
    "LLM-MODEL-ID": text(SUMMARIZE_WF, '"value": "claude-sonnet-4-5-20250929"',
                         '"value": "claude-sonet-4-5"'),
    "WORKFLOW-FORMAT": text(TRIAGE_WF, '  "nodes": [\n', '"nodes": [ \n'),
    "DB-ALWAYS-OUTPUT": workflow(TRIAGE_WF, _database),
    "EXPRESSION-PREFIX": text(DIGEST_WF, '"text": "={{ $json.text }}"',
                              '"text": "{{ $json.text }}"'),
    # folder
    "SUBWKFL-REFERENCES": text(MAIN_WF, "{{SUBWKFL_score-lead_LFKWBUS}}",
                               "{{SUBWKFL_score-leads_LFKWBUS}}"),
    "SUBWKFL-CALLABLE": text(SCORE_WF, "{{SUBWKFL_summarize_LFKWBUS}}",
                             "{{SUBWKFL_main_LFKWBUS}}"),
    "SUBWKFL-CYCLE": text(SCORE_WF, "{{SUBWKFL_summarize_LFKWBUS}}", "{{SUBWKFL_main_LFKWBUS}}"),
    "CALLEDBY-CONSISTENCY": text(LEAD_YAML, "called_by: [score-lead]", "called_by: [main]"),
    "INTEGRATION-CREDENTIALS": text(f"{TRIAGE}/use-case.yaml", "    integrations: [gmail]",
                                    "    integrations: []"),
    "INTEGRATION-INHERITANCE": text(LEAD_YAML, "    integrations: [anthropic]\n"
                                    "    output_schema:\n", "    output_schema:\n"),
    "INTEGRATION-USE-CASE": text(f"{DIGEST}/use-case.yaml", "\nintegrations: [slack]",
                                 "\nintegrations: []"),
    "TRIGGER-TYPE-CONSISTENCY": workflow(SUMMARIZE_WF, lambda c: c["nodes"][0].update(
        type="n8n-nodes-base.manualTrigger")),
    "WEBHOOK-PATH-CONSISTENCY": text(f"{TRIAGE}/use-case.yaml", "path: triage",
                                     "path: triage-now"),
    "SCHEDULE-CRON": text(f"{DIGEST}/use-case.yaml", 'cron: "0 8 * * 1-5"',
                          'cron: "0 25 * * 1-5"'),
    "SCHEDULE-FIELDS": text(DIGEST_WF, '"expression": "0 8 * * 1-5"',
                            '"expression": "0 9 * * 1-5"'),
    "SCHEDULE-TIMEZONE": workflow(DIGEST_WF, lambda c: c["settings"].pop("timezone")),
    "SCHEMA-TYPES": workflow(SCORE_WF, lambda c: c["nodes"][0]["parameters"][
        "workflowInputs"]["values"][1].update(type="number")),
    "INSTPARM-DECLARED": text(TRIAGE_WF, "label:{{INSTPARM_LABEL_MRAPTSNI}}",
                              "label:{{INSTPARM_LABELS_MRAPTSNI}}"),
    "PARAMS": text("instances/inbox-triage-carol.yaml", "MAX_EMAILS: 50", "MAX_EMAILS: lots"),
    "PARAMS-UNUSED": text(LEAD_YAML, "parameters:\n  COMPANY_NAME:",
                          "parameters:\n  UNUSED_ONE: {type: string}\n  COMPANY_NAME:"),
    "SKILL-CONSISTENCY": text(f"{DIGEST}/skills/run-digest/SKILL.md",
                              "workflowTemplateId: digest", "workflowTemplateId: digests"),
    "SKILL-STRUCTURE": text(f"{DIGEST}/skills/run-digest/SKILL.md", "name: run-digest",
                            "name: run-the-digest"),
    "VERSION-PIN": text("instances/inbox-triage-alice.yaml", "version: 2.1.0", "version: 2.2.0"),
    "REF-OWNER": text("instances/inbox-triage-erin.yaml", "{user: erin}", "{user: zed}"),
    "REF-VISIBILITY": text(LEAD_YAML, "visibility: {level: public}",
                           "visibility: {level: public, users: [zed]}"),
    "REF-USE-CASE": text("instances/inbox-triage-erin.yaml", "use_case: inbox-triage",
                         "use_case: inbox-triag"),
    "REF-SHARING": text("instances/inbox-triage-carol.yaml", "teams: [sales]", "teams: [ops]"),
    "ACCESS": text(f"{TRIAGE}/use-case.yaml", "visibility: {level: public}",
                   "visibility: {level: private}"),
    "INSTANCE-UNIQUE": text("instances/inbox-triage-carol-dev.yaml", "environment: dev",
                            "environment: prod"),
    # a literal path equal to what another tenant's instance renders
    "NAMES-DISTINCT": lambda root: (root / "instances/inbox-triage-erin.yaml").rename(
        root / "instances/daily-digest.yaml"),
    "WEBHOOK-PATH-UNIQUE": workflow(TRIAGE_WF, lambda c: c["nodes"][0]["parameters"].update(
        path="lead-enrichment/lead-enrichment-globex/enrich")),
    # plans: acme's three members on Free's two seats; a plan nobody declared
    "PLAN-SEATS": text("platform.yaml", "plan: pro  #", "plan: free  #"),
    "PLAN-KNOWN": text("platform.yaml", "plan: solo}", "plan: gold}"),
    # codika
    "CODIKA-NODES": workflow(MAIN_WF, lambda c: c["nodes"][1].update(
        type="n8n-nodes-codika.codika")),
    "CODIKA-STRUCTURE": workflow(MAIN_WF, lambda c: c["nodes"][-1].update(
        type="n8n-nodes-codika.codika", parameters={"resource": "workflowOutputs"})),
    "LLM-OUTPUT-ACCESS": workflow(SUMMARIZE_WF, _structured_chain),
    "PLACEHOLDER-BARE": text(TRIAGE_WF, '"q": "=is:unread label:{{INSTPARM_LABEL_MRAPTSNI}}"',
                             '"q": {{LABEL_OF_LEBAL}}'),
    "SCHEDULE-HUMAN-READABLE": text(f"{DIGEST}/use-case.yaml",
                                    "        human_readable: Every weekday at 8:00\n", ""),
}
CASES["SUBWKFL-INPUT-MAPPING"] = workflow(MAIN_WF, lambda c: next(
    n for n in c["nodes"] if n["name"] == "Score lead")["parameters"]["workflowInputs"][
    "value"].pop("min_score"))
CASES["EGRESS-HOST-NODES"] = workflow(MAIN_WF, lambda c: c["nodes"].append(
    node("Shell", "n8n-nodes-base.executeCommand", parameters={"command": "env"})))
CASES["EGRESS-URL"] = workflow(MAIN_WF, lambda c: c["nodes"].append(node(
    "Peek", "n8n-nodes-base.httpRequest", retryOnFail=True,
    parameters={"url": "http://127.0.0.1:5678/rest/workflows"})))
CASES["EGRESS-PLATFORM-CREDENTIAL"] = workflow(SUMMARIZE_WF, lambda c: c["nodes"][2][
    "parameters"]["options"].update(baseURL="https://collector.example.com"))
HELLO_TEST = "use-cases/hello/tests/greets-by-name.yaml"
CASES["SMOKE-WORKFLOW"] = text(HELLO_TEST, "workflow: greet", "workflow: nope")
CASES["SMOKE-PARAMS"] = text(HELLO_TEST, "{SIGNATURE: Acme Corp}", "{SIGNATURE: 5}")
CASES["SMOKE-MATCHERS"] = text(HELLO_TEST, '"^Hello, [A-Z]"', '"(a+)+$"')
CASES["SMOKE-PAYLOAD"] = text(HELLO_TEST, "payload: {name: Ada}", "payload: {}")
CASES["SMOKE-GATE"] = text("platform.yaml", "\ndefaults:\n",
                           "\nsmoke_overrides:\n  - {release: ghost@1.0.0, reason: test}\n"
                           "defaults:\n")
# Rules that read git history and tags: tests/validate/test_git_rules.py.
GIT_RULES = ["PIN-KNOWN", "TAG-CONTENT", "TAG-LOAD", "TAG-VERSION", "TEMPLATE-HISTORY"]

FIXABLE = sorted(r.id for r in REGISTRY.values() if r.fix is not None)


def _lint(root: Path, rule_ids: list[str] | None = None) -> list[Any]:
    result = lint_source(FolderSource(root), select_rules(rule_ids or ()), Options())
    return result.problems


def test_there_are_at_least_30_rules_in_four_layers() -> None:
    layers = Counter(r.layer for r in REGISTRY.values())
    assert len(REGISTRY) >= 30
    assert set(layers) == set(Layer)


def test_every_rule_has_a_failing_case() -> None:
    assert sorted([*CASES, *GIT_RULES]) == sorted(REGISTRY)


def test_every_rule_passes_on_example_repo() -> None:
    # the passing fixture of every rule: the realistic example repository
    assert _lint(EXAMPLE) == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fails_on_its_broken_fixture(rule_id: str, repo: Path) -> None:
    CASES[rule_id](repo)
    problems = _lint(repo, [rule_id])
    assert [p for p in problems if p.rule == LOAD] == [], "the fixture must load"
    found = [p for p in problems if p.rule == rule_id]
    assert found, f"{rule_id} reported nothing"
    rule = REGISTRY[rule_id]
    for p in found:
        assert p.severity == rule.severity
        assert p.file and p.message
        assert p.line is not None and p.line >= 1, p
        if rule_id != "WORKFLOW-FORMAT" and p.file.endswith(".json"):
            assert p.field is None or p.field.startswith("/"), p


@pytest.mark.parametrize("rule_id", FIXABLE)
def test_fix_round_trip(rule_id: str, repo: Path) -> None:
    CASES[rule_id](repo)
    before = {(p.rule, p.file) for p in _lint(repo)}
    outcome = fix_folder(repo, select_rules(), Options())
    assert outcome.after, f"{rule_id}: --fix changed nothing"
    outcome.write(repo)
    after = _lint(repo)
    assert [p for p in after if p.rule in (rule_id, LOAD)] == []
    assert {(p.rule, p.file) for p in after} <= before, "the fix made new problems"
    again = fix_folder(repo, select_rules(), Options())
    assert again.after == {}, f"a second --fix changed {sorted(again.after)}"


def test_fixes_restore_example_repo_where_the_fix_is_an_inverse(repo: Path) -> None:
    CASES["INSTPARM-QUOTE"](repo)
    CASES["PLACEHOLDER-SYNTAX"](repo)
    CASES["PLATFORM-WEBHOOK-PATH"](repo)
    CASES["SCHEDULE-TIMEZONE"](repo)
    CASES["CALLEDBY-CONSISTENCY"](repo)
    fix_folder(repo, select_rules(), Options()).write(repo)
    for file in (TRIAGE_WF, DIGEST_WF, LEAD_YAML):
        assert (repo / file).read_bytes() == (EXAMPLE / file).read_bytes(), file

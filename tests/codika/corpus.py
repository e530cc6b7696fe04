"""The conformance corpus: a `codika init` folder and targeted mutations of it.

Each case aims at one rule of the reference platform (`codika`) and names the
rule(s) of ours that are its counterpart. A case is *flagged* on a side when that
side reports the targeted rule; the two sides agree when both flag or both pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Mutation = Callable[[Path], None]
MAIN, REPORT, SUB = "main-workflow", "scheduled-report", "text-processor"


@dataclass(frozen=True)
class Case:
    name: str
    codika_rule: str
    ours: frozenset[str]
    mutate: Mutation


def _wf(name: str, change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(folder: Path) -> None:
        path = folder / "workflows" / f"{name}.json"
        content = json.loads(path.read_text(encoding="utf-8"))
        change(content)
        path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return mutate


def _text(rel: str, old: str, new: str) -> Mutation:
    def mutate(folder: Path) -> None:
        path = folder / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return mutate


def _node(content: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in content["nodes"] if n["name"] == name)


def _js(name: str, node: str, line: str) -> Mutation:
    return _wf(name, lambda c: _node(c, node)["parameters"].update(
        jsCode=line + "\n" + _node(c, node)["parameters"]["jsCode"]))


def _insert(name: str, after: str, new: dict[str, Any]) -> Mutation:
    """Add `new` between `after` and what followed it."""
    def change(c: dict[str, Any]) -> None:
        c["nodes"].append(new)
        old = c["connections"].get(after, {"main": [[]]})
        c["connections"][new["name"]] = {"main": [old["main"][0]]}
        c["connections"][after] = {"main": [[{"node": new["name"], "type": "main",
                                              "index": 0}], *old["main"][1:]]}
    return _wf(name, change)


def _http(name: str, retry: bool = True, cred: tuple[str, str] | None = None
          ) -> dict[str, Any]:
    node: dict[str, Any] = {"id": f"http-{name}", "name": name,
                            "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
                            "position": [100, 300], "parameters": {
                                "url": "https://api.example.com/x", "options": {}}}
    if retry:
        node.update(retryOnFail=True, maxTries=3, waitBetweenTries=1000)
    if cred:
        node["credentials"] = {"httpHeaderAuth": {"id": cred[0], "name": cred[1]}}
    return node


def _cred(cred_id: str, name: str) -> Mutation:
    return _insert(MAIN, "Parse Input", _http("Fetch", cred=(cred_id, name)))


def _claude(model: str) -> Mutation:
    def change(c: dict[str, Any]) -> None:
        c["nodes"].append({"id": "llm-1", "name": "Claude", "position": [0, 400],
                           "type": "@n8n/n8n-nodes-langchain.lmChatAnthropic",
                           "typeVersion": 1.3, "parameters": {"model": {
                               "__rl": True, "mode": "list", "value": model}},
                           "credentials": {"anthropicApi": {
                               "id": "{{FLEXCRED_ANTHROPIC_ID_DERCXELF}}",
                               "name": "{{FLEXCRED_ANTHROPIC_NAME_DERCXELF}}"}}})
    return _wf(MAIN, change)


def _pop_key(name: str, key: str, value: Any) -> Mutation:
    return _wf(name, lambda c: c.update({key: value}))


INSTPARM = "{{INSTPARM_COMPANY_MRAPTSNI}}"
SCOPES = [("FLEXCRED", "ANTHROPIC", "DERCXELF"), ("USERCRED", "GMAIL", "DERCRESU"),
          ("ORGCRED", "SLACK", "DERCGRO"), ("INSTCRED", "SUPABASE", "DERCTSNI"),
          ("SYSCREDS", "OPENAI", "SDERCSYS")]
SERVER_FIELDS = {"id": "abc123", "versionId": "v-1", "meta": {"instanceId": "x"},
                 "active": True, "tags": [{"name": "t"}], "pinData": {}}


def cases() -> list[Case]:
    out: list[Case] = []

    def add(name: str, codika_rule: str, ours: set[str], mutate: Mutation) -> None:
        out.append(Case(name, codika_rule, frozenset(ours), mutate))

    q = {"INSTPARM-QUOTE"}
    add("instparm-quoted-js-main", "INSTPARM-QUOTE", q,
        _js(MAIN, "Parse Input", f"const company = '{INSTPARM}';"))
    add("instparm-quoted-js-report", "INSTPARM-QUOTE", q,
        _js(REPORT, "Generate Report", f"const company = '{INSTPARM}';"))
    add("instparm-whole-string", "INSTPARM-QUOTE", q, _wf(MAIN, lambda c: _node(
        c, "Call Text Processor")["parameters"]["workflowInputs"]["value"].update(
            company=INSTPARM)))
    add("instparm-quoted-expression", "INSTPARM-QUOTE", q, _wf(SUB, lambda c: _node(
        c, "Process Text")["parameters"].update(note="={{ '" + INSTPARM + "' }}")))
    add("instparm-bare-is-fine", "INSTPARM-QUOTE", q,
        _js(MAIN, "Parse Input", f"const company = {INSTPARM};"))

    s = {"PLACEHOLDER-SYNTAX"}
    add("suffix-memsecrt", "PLACEHOLDER-SYNTAX", s, _js(
        MAIN, "Format Result", "const auth = '{{MEMSECRT_EXECUTION_AUTH_TRCESMEX}}';"))
    add("suffix-procdata", "PLACEHOLDER-SYNTAX", s, _text(
        f"workflows/{MAIN}.json", "PROCESS_ID_ATADCORP}}/", "PROCESS_ID_ATADCROP}}/"))
    add("suffix-subwkfl", "PLACEHOLDER-SYNTAX", s, _text(
        f"workflows/{MAIN}.json", "text-processor_LFKWBUS", "text-processor_LFKWBSU"))
    add("suffix-userdata", "PLACEHOLDER-SYNTAX", s, _text(
        f"workflows/{REPORT}.json", "INSTANCE_UID_ATADRESU}}/", "INSTANCE_UID_ATADERSU}}/"))

    c = {"CRED-HARDCODED", "CRED-ID-NAME", "CRED-ONE-SCOPE"}
    add("cred-hardcoded", "CRED-PLACEHOLDER", c, _cred("12345", "My cred"))
    add("cred-mixed-scopes", "CRED-PLACEHOLDER", c, _cred(
        "{{ORGCRED_SLACK_ID_DERCGRO}}", "{{USERCRED_SLACK_NAME_DERCRESU}}"))
    for scope, integration, suffix in SCOPES:
        good = (f"{{{{{scope}_{integration}_ID_{suffix}}}}}",
                f"{{{{{scope}_{integration}_NAME_{suffix}}}}}")
        add(f"cred-good-{scope.lower()}", "CRED-PLACEHOLDER", c, _cred(*good))
        add(f"cred-name-in-id-{scope.lower()}", "CRED-PLACEHOLDER", c, _cred(good[1], good[1]))
    add("suffix-orgsecret", "PLACEHOLDER-SYNTAX", s, _js(
        MAIN, "Format Result", "const url = '{{ORGSECRET_N8N_BASE_URL_TERCESGRO}}';"))

    w = {"PLATFORM-ERROR-WORKFLOW", "SETTINGS-EXECUTION-ORDER"}
    add("settings-no-error-workflow", "WORKFLOW-SETTINGS", w,
        _wf(MAIN, lambda c: c["settings"].pop("errorWorkflow")))
    add("settings-fixed-error-workflow", "WORKFLOW-SETTINGS", w,
        _wf(REPORT, lambda c: c["settings"].update(errorWorkflow="123")))
    add("settings-execution-order", "WORKFLOW-SETTINGS", w,
        _wf(MAIN, lambda c: c["settings"].update(executionOrder="v0")))
    add("settings-execution-order-report", "WORKFLOW-SETTINGS", w,
        _wf(REPORT, lambda c: c["settings"].pop("executionOrder")))
    add("settings-subworkflow-exempt", "WORKFLOW-SETTINGS", w,
        _wf(SUB, lambda c: c["settings"].pop("errorWorkflow", None)))

    for wf in (MAIN, REPORT, SUB):
        for key, value in SERVER_FIELDS.items():
            add(f"sanitize-{key}-{wf}", "WORKFLOW-SANITIZATION", {"SERVER-FIELDS"},
                _pop_key(wf, key, value))

    add("webhook-id-main", "WEBHOOK-ID", {"WEBHOOK-ID"},
        _wf(MAIN, lambda c: _node(c, "Webhook Trigger").pop("webhookId")))
    add("webhook-id-report", "WEBHOOK-ID", {"WEBHOOK-ID"},
        _wf(REPORT, lambda c: c["nodes"][1].pop("webhookId")))
    add("webhook-auth-none", "WEBHOOK-AUTH", {"WEBHOOK-AUTH"},
        _wf(MAIN, lambda c: _node(c, "Webhook Trigger")["parameters"].pop("authentication")))
    add("llm-model-unknown", "LLM-MODEL-ID", {"LLM-MODEL-ID"}, _claude("claude-2.1"))
    add("llm-model-listed", "LLM-MODEL-ID", {"LLM-MODEL-ID"},
        _claude("claude-sonnet-4-20250514"))
    add("retry-missing-main", "RETRY-BACKOFF", {"RETRY-BACKOFF"}, _insert(
        MAIN, "Parse Input", _http("Fetch", retry=False)))
    add("retry-missing-report", "RETRY-BACKOFF", {"RETRY-BACKOFF"}, _insert(
        REPORT, "Codika Init", _http("Fetch", retry=False)))
    add("retry-present", "RETRY-BACKOFF", {"RETRY-BACKOFF"}, _insert(
        MAIN, "Parse Input", _http("Fetch")))
    add("merge-before-terminal", "MERGE-BEFORE-TERMINAL", {"GRAPH-MERGE-TERMINAL"}, _insert(
        MAIN, "Format Result", {"id": "merge-1", "name": "Merge", "position": [0, 0],
                                "type": "n8n-nodes-base.merge", "typeVersion": 3,
                                "parameters": {}}))
    add("exec-no-wait", "EXEC-WORKFLOW-WAIT", {"PLATFORM-EXEC-WAIT"}, _wf(
        MAIN, lambda c: _node(c, "Call Text Processor")["parameters"]["options"].pop(
            "waitForSubWorkflow")))
    add("subwkfl-unknown", "SUBWKFL-REFERENCES", {"SUBWKFL-REFERENCES"},
        _text(f"workflows/{MAIN}.json", "SUBWKFL_text-processor_", "SUBWKFL_nowhere_"))
    add("calledby-missing", "CALLEDBY-CONSISTENCY", {"CALLEDBY-CONSISTENCY"},
        _text("config.ts", "calledBy: ['main-workflow']", "calledBy: []"))
    # Literal trigger ids and URLs: `codika verify` reads config.ts by patterns and
    # sees a trigger only in that form.
    add("webhook-path-http", "WEBHOOK-PATH-CONSISTENCY", {"WEBHOOK-PATH-CONSISTENCY"},
        _literal_trigger("http", "url", "webhookUrl", "other-path"))
    add("webhook-path-manual", "WEBHOOK-PATH-CONSISTENCY", {"WEBHOOK-PATH-CONSISTENCY"},
        _literal_trigger("schedule", "manualTriggerUrl", "manualTriggerUrl", "report-other"))
    add("webhook-path-literal-ok", "WEBHOOK-PATH-CONSISTENCY", {"WEBHOOK-PATH-CONSISTENCY"},
        _literal_trigger("http", "url", "webhookUrl", "demo-case"))
    add("workflow-unlisted", "CONFIG-WORKFLOWS", {"LOAD"}, _unlisted)
    add("workflow-missing", "CONFIG-WORKFLOWS", {"LOAD"},
        lambda f: (f / "workflows" / f"{SUB}.json").unlink())
    add("skill-name-format", "SKILL-NAME-FORMAT", {"LOAD", "SKILL-STRUCTURE"}, _text(
        "skills/main-workflow/SKILL.md", "name: demo-case-process-text",
        "name: Demo_Case"))
    add("skill-no-description", "SKILL-DESCRIPTION", {"LOAD", "SKILL-STRUCTURE"},
        _skill_no_description)
    add("subworkflow-no-inputs", "SUBWKFL-MIN-PARAMS", {"PLATFORM-SUBWORKFLOW-INPUTS"},
        _wf(SUB, lambda c: c["nodes"][0].update(parameters={"inputSource": "passthrough"})))
    add("schedule-without-webhook", "SCHEDULE-WEBHOOK-CONVERGENCE",
        {"PLATFORM-SCHEDULE-MANUAL", "TRIGGER-TYPE-CONSISTENCY", "WEBHOOK-PATH-CONSISTENCY"},
        _no_manual_webhook)
    add("init-missing", "CODIKA-INIT", {"CODIKA-INIT"}, _no_init)
    add("schedule-bad-cron", "SCHEDULE-TRIGGER-FIELDS", {"SCHEDULE-CRON", "LOAD"},
        _text("config.ts", "cronExpression: '0 9 * * 1'", "cronExpression: '0 9 * *'"))
    add("schedule-no-human", "SCHEDULE-TRIGGER-FIELDS", {"SCHEDULE-HUMAN-READABLE"},
        _text("config.ts", "humanReadable: 'Every Monday at 9:00 AM',", ""))
    o = {"LLM-OUTPUT-ACCESS"}
    add("llm-output-direct", "LLM-OUTPUT-ACCESS", o, _structured("={{ $json.summary }}"))
    add("llm-output-one-of-two", "LLM-OUTPUT-ACCESS", o,
        _structured("={{ $json.output.summary }} {{ $json.tone }}"))
    add("llm-output-named", "LLM-OUTPUT-ACCESS", o, _compose(
        _structured("={{ $json.output.summary }}"),
        _js(MAIN, "Format Result", "const tone = $('Analyze').first().json.tone;")))
    add("llm-output-correct", "LLM-OUTPUT-ACCESS", o,
        _structured("={{ $json.output.summary }}"))
    add("llm-output-defensive", "LLM-OUTPUT-ACCESS", o,
        _structured("={{ $json.output?.summary || $json.summary }}"))
    add("llm-output-no-parser", "LLM-OUTPUT-ACCESS", o,
        _structured("={{ $json.text }}", parser=False))
    return out


def _structured(reader: str, parser: bool = True) -> Mutation:
    """An LLM chain (with a structured output parser) after Parse Input, and a Set
    node after it reading `reader`."""
    chain = {"id": "chain-1", "name": "Analyze", "position": [0, 500],
             "type": "@n8n/n8n-nodes-langchain.chainLlm", "typeVersion": 1.7,
             "parameters": {"promptType": "define", "text": "=Analyze {{ $json.text }}",
                            "hasOutputParser": parser}}
    use = {"id": "set-1", "name": "Use", "position": [0, 600], "type": "n8n-nodes-base.set",
           "typeVersion": 3.4, "parameters": {"mode": "raw", "jsonOutput": reader,
                                              "options": {}}}
    return _compose(_insert(MAIN, "Parse Input", chain), _insert(MAIN, "Analyze", use))


def _compose(*mutations: Mutation) -> Mutation:
    def mutate(folder: Path) -> None:
        for mutation in mutations:
            mutation(folder)
    return mutate


PREFIX = ("{{ORGSECRET_N8N_BASE_URL_TERCESORG}}/webhook/{{PROCDATA_PROCESS_ID_ATADCORP}}/"
          "{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}/")


def _literal_trigger(kind: str, key: str, variable: str, slug: str) -> Mutation:
    ids = {"http": "httpTriggerId", "schedule": "scheduleTriggerId"}

    def mutate(folder: Path) -> None:
        path = folder / "config.ts"
        text = path.read_text(encoding="utf-8")
        text = text.replace(f"triggerId: {ids[kind]},", f"triggerId: '{kind}-1',", 1)
        old = f"{key}: {variable},"
        assert old in text, old
        path.write_text(text.replace(old, f"{key}: `{PREFIX}{slug}`,", 1), encoding="utf-8")
    return mutate


def _unlisted(folder: Path) -> None:
    source = folder / "workflows" / f"{SUB}.json"
    (folder / "workflows" / "extra.json").write_text(source.read_text(encoding="utf-8"))


def _skill_no_description(folder: Path) -> None:
    path = folder / "skills" / "main-workflow" / "SKILL.md"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if not x.startswith("description:")))


def _no_manual_webhook(folder: Path) -> None:
    def change(c: dict[str, Any]) -> None:
        hook = next(n for n in c["nodes"] if n["type"] == "n8n-nodes-base.webhook")
        c["nodes"].remove(hook)
        c["connections"].pop(hook["name"], None)
    _wf(REPORT, change)(folder)


def _no_init(folder: Path) -> None:
    def change(c: dict[str, Any]) -> None:
        init = _node(c, "Codika Init")
        c["nodes"].remove(init)
        after = c["connections"].pop("Codika Init")
        c["connections"]["Webhook Trigger"] = after
    _wf(MAIN, change)(folder)

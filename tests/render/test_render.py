"""render_workflow: every scope, typed INSTPARM, keys, and error reporting."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.errors import PermanentError, RenderError
from reconciler.model.repository import WorkflowFile
from reconciler.render import CredentialRef, RenderContext, render_workflow

# The `make_wf` fixture of conftest.py (not imported: conftest is not a module to import).
MakeWorkflow = Callable[..., WorkflowFile]


def _doc(nodes: list[dict[str, Any]], **top: Any) -> str:
    return json.dumps({"name": "wf", "nodes": nodes, "connections": {}, **top}, indent=2)


def _node(name: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "n8n-nodes-base.set", "typeVersion": 1,
            "position": [0, 0], "parameters": parameters, **extra}


def test_every_scope_resolves_inside_strings(make_wf: MakeWorkflow, ctx: RenderContext) -> None:
    params = {
        "flex": "{{FLEXCRED_ANTHROPIC_ID_DERCXELF}}|{{FLEXCRED_ANTHROPIC_NAME_DERCXELF}}",
        "user": "{{USERCRED_GMAIL_ID_DERCRESU}}|{{USERCRED_GMAIL_NAME_DERCRESU}}",
        "org": "{{ORGCRED_SLACK_ID_DERCGRO}}|{{ORGCRED_SLACK_NAME_DERCGRO}}",
        "inst": "{{INSTCRED_SUPABASE_ID_DERCTSNI}}|{{INSTCRED_SUPABASE_NAME_DERCTSNI}}",
        "sys": "{{SYSCREDS_ANTHROPIC_ID_SDERCSYS}}|{{SYSCREDS_ANTHROPIC_NAME_SDERCSYS}}",
        "param": "Hello {{INSTPARM_COMPANY_NAME_MRAPTSNI}}!",
        "sub": "{{SUBWKFL_text-processor_LFKWBUS}}",
        "mem": "Bearer {{MEMSECRT_EXECUTION_AUTH_TRCESMEM}}",
        "proc": "{{PROCDATA_PROCESS_ID_ATADCORP}}/{{PROCDATA_NAMESPACE_ATADCORP}}",
        "user_data": "{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}/{{USERDATA_USER_ID_ATADRESU}}"
                     "/{{USERDATA_ORGANIZATION_ID_ATADRESU}}",
        "org_secret": "{{ORGSECRET_N8N_BASE_URL_TERCESORG}}|"
                      "{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}",
    }
    out = render_workflow(make_wf(_doc([_node("All", params)])), ctx)
    assert out["nodes"][0]["parameters"] == {
        "flex": "flex-id|Flex Anthropic",
        "user": "gmail-id|Alice Gmail",
        "org": "slack-id|Acme Slack",
        "inst": "supa-id|Instance Supabase",
        "sys": "sys-id|System Anthropic",
        "param": 'Hello "Acme \\"Rockets\\" \\\\ Co"!',
        "sub": "LiveSub123",
        "mem": "Bearer member-token",
        "proc": "proc-1/acme",
        "user_data": "inst-uid-1/alice/acme-org",
        "org_secret": "https://n8n.example.com|Err42",
    }


def test_credentials_block_and_settings(make_wf: MakeWorkflow, ctx: RenderContext) -> None:
    text = _doc(
        [_node("Send", {}, credentials={"gmailOAuth2": {
            "id": "{{USERCRED_GMAIL_ID_DERCRESU}}", "name": "{{USERCRED_GMAIL_NAME_DERCRESU}}"}})],
        settings={"errorWorkflow": "{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}",
                  "executionOrder": "v1"},
    )
    out = render_workflow(make_wf(text), ctx)
    assert out["nodes"][0]["credentials"] == {"gmailOAuth2": {"id": "gmail-id",
                                                              "name": "Alice Gmail"}}
    assert out["settings"] == {"errorWorkflow": "Err42", "executionOrder": "v1"}


def test_codika_webhook_url_form(make_wf: MakeWorkflow, ctx: RenderContext) -> None:
    url = ("{{ORGSECRET_N8N_BASE_URL_TERCESORG}}/webhook/{{PROCDATA_PROCESS_ID_ATADCORP}}/"
           "{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}/run")
    out = render_workflow(make_wf(_doc([_node("N", {"url": url})])), ctx)
    assert out["nodes"][0]["parameters"]["url"] == \
        "https://n8n.example.com/webhook/proc-1/inst-uid-1/run"


BARE = """{
  "name": "wf",
  "nodes": [{"name": "Typed", "parameters": {
    "s": {{INSTPARM_COMPANY_NAME_MRAPTSNI}},
    "n": {{INSTPARM_MAX_ITEMS_MRAPTSNI}},
    "f": {{INSTPARM_RATIO_MRAPTSNI}},
    "b": {{INSTPARM_ENABLED_MRAPTSNI}},
    "z": {{INSTPARM_NOTHING_MRAPTSNI}},
    "l": {{INSTPARM_LABELS_MRAPTSNI}},
    "o": {{INSTPARM_CONFIG_MRAPTSNI}},
    "in_list": [{{INSTPARM_MAX_ITEMS_MRAPTSNI}}, {{SUBWKFL_text-processor_LFKWBUS}}],
    "sub": {{SUBWKFL_text-processor_LFKWBUS}},
    "cred": {{USERCRED_GMAIL_ID_DERCRESU}}
  }}],
  "connections": {}
}"""


def test_bare_instparm_keeps_its_json_type(make_wf: MakeWorkflow, ctx: RenderContext) -> None:
    params = render_workflow(make_wf(BARE), ctx)["nodes"][0]["parameters"]
    assert params == {
        "s": 'Acme "Rockets" \\ Co', "n": 25, "f": 0.5, "b": True, "z": None,
        "l": ["a", "b"], "o": {"k": [1, {"x": "y"}]},
        "in_list": [25, "LiveSub123"], "sub": "LiveSub123", "cred": "gmail-id",
    }
    assert params["b"] is True and type(params["n"]) is int


def test_bare_values_are_copies(make_wf: MakeWorkflow, ctx: RenderContext) -> None:
    out = render_workflow(make_wf(BARE), ctx)
    out["nodes"][0]["parameters"]["o"]["k"].append("mutated")
    assert ctx.parameters["CONFIG"] == {"k": [1, {"x": "y"}]}


def test_instparm_inside_string_is_json_text(make_wf: MakeWorkflow, ctx: RenderContext) -> None:
    params = {
        "s": "={{ '{{INSTPARM_COMPANY_NAME_MRAPTSNI}}' }}",
        "n": "max {{INSTPARM_MAX_ITEMS_MRAPTSNI}} at {{INSTPARM_RATIO_MRAPTSNI}}",
        "b": "on={{INSTPARM_ENABLED_MRAPTSNI}} z={{INSTPARM_NOTHING_MRAPTSNI}}",
        "l": "labels {{INSTPARM_LABELS_MRAPTSNI}}",
        "o": "cfg {{INSTPARM_CONFIG_MRAPTSNI}}",
    }
    out = render_workflow(make_wf(_doc([_node("N", params)])), ctx)
    rendered = out["nodes"][0]["parameters"]
    assert rendered == {
        "s": "={{ '\"Acme \\\"Rockets\\\" \\\\ Co\"' }}",
        "n": "max 25 at 0.5",
        "b": "on=true z=null",
        "l": 'labels ["a","b"]',
        "o": 'cfg {"k":[1,{"x":"y"}]}',
    }
    # A string parameter keeps its JSON quotes (as on the reference platform); the
    # serialiser escapes that text for the string it stands in.
    assert rendered["s"] == "={{ '" + json.dumps('Acme "Rockets" \\ Co') + "' }}"
    assert json.dumps(rendered["s"]) in json.dumps(out)


def test_keys_are_rendered_as_strings(make_wf: MakeWorkflow, ctx: RenderContext) -> None:
    text = """{"name": "wf", "nodes": [{"name": "K", "parameters": {
        "x-{{INSTPARM_MAX_ITEMS_MRAPTSNI}}": 1,
        {{INSTPARM_COMPANY_NAME_MRAPTSNI}}: 2,
        {{INSTPARM_LABELS_MRAPTSNI}}: 3
    }}], "connections": {}}"""
    params = render_workflow(make_wf(text), ctx)["nodes"][0]["parameters"]
    assert params == {"x-25": 1, 'Acme "Rockets" \\ Co': 2, '["a","b"]': 3}


def test_unknown_scopes_in_strings_stay_as_written(make_wf: MakeWorkflow,
                                                   ctx: RenderContext) -> None:
    text = _doc([_node("N", {"mail": "Dear {{FIRST_LAST_NAME}}"})])
    assert render_workflow(make_wf(text), ctx)["nodes"][0]["parameters"] == {
        "mail": "Dear {{FIRST_LAST_NAME}}"}


def test_values_that_look_like_placeholders_stay_data(make_wf: MakeWorkflow) -> None:
    sneaky = '{{INSTPARM_OTHER_MRAPTSNI}}", "injected": "yes'
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        parameters={"A": sneaky, "OTHER": "leak"})
    text = _doc([_node("N", {"in": "<{{INSTPARM_A_MRAPTSNI}}>"})]).replace(
        '"parameters": {', '"parameters": {"bare": {{INSTPARM_A_MRAPTSNI}}, ', 1)
    out = render_workflow(make_wf(text), ctx)
    assert out["nodes"][0]["parameters"] == {"bare": sneaky, "in": f"<{json.dumps(sneaky)}>"}
    assert json.loads(json.dumps(out)) == out


def test_no_placeholders_renders_to_an_equal_copy(make_wf: MakeWorkflow,
                                                  ctx: RenderContext) -> None:
    text = _doc([_node("N", {"expr": "={{ $json.x }} {{ 1 + 2 }}", "n": [1, 2.5, None]})],
                settings={"executionOrder": "v1"})
    wf = make_wf(text)
    out = render_workflow(wf, ctx)
    assert out == json.loads(text)
    assert out is not wf.content


def test_context_normalises_integration_keys_and_is_immutable(make_wf: MakeWorkflow) -> None:
    creds = {("usercred", "google-sheets"): CredentialRef("gs-id", "Sheets")}
    params: dict[str, Any] = {"X": "before"}
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        parameters=params, credentials=creds)
    params["X"] = "after"
    creds[("USERCRED", "OTHER")] = CredentialRef("o", "o")
    text = _doc([_node("N", {"c": "{{USERCRED_GOOGLE_SHEETS_ID_DERCRESU}}",
                             "x": "{{INSTPARM_X_MRAPTSNI}}"})])
    params_out = render_workflow(make_wf(text), ctx)["nodes"][0]["parameters"]
    assert params_out == {"c": "gs-id", "x": '"before"'}
    assert ctx.credential("USERCRED", "google-sheets") == CredentialRef("gs-id", "Sheets")
    assert ctx.credential("USERCRED", "OTHER") is None


# --- errors -------------------------------------------------------------------------

BROKEN = """{
  "name": "{{INSTPARM_MISSING_TITLE_MRAPTSNI}}",
  "nodes": [
    {"name": "Fetch", "parameters": {
      "url": "{{ORGSECRET_N8N_BASE_URL_TERCESORG}}/x/{{INSTPARM_NOPE_MRAPTSNI}}",
      "scope": {{WHATEVER_THING_REVETAHW}},
      "suffix": "{{INSTPARM_MAX_ITEMS_WRONG}}"}},
    {"name": "Call", "parameters": {"workflowId": {{SUBWKFL_ghost_LFKWBUS}},
      "loose": "{{ INSTPARM_MAX_ITEMS_MRAPTSNI }}", "short": "{{INSTPARM_X}}"},
     "credentials": {"slackApi": {"id": "{{ORGCRED_TEAMS_ID_DERCGRO}}",
                                  "name": "{{ORGCRED_SLACK_DERCGRO}}"}}},
    {"name": "Bare", "parameters": {"v": {{not a placeholder}},
      "who": "{{USERDATA_USER_ID_ATADRESU}}", "sec": "{{MEMSECRT_UNKNOWN_TRCESMEM}}"}},
    {"parameters": {"x": "{{PROCDATA_NOPE_ATADCORP}}"}}
  ],
  "connections": {},
  "settings": {"errorWorkflow": "{{ORGSECRET_MISSING_TERCESORG}}"}
}"""


def test_all_unresolved_placeholders_are_reported_at_once(make_wf: MakeWorkflow) -> None:
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        parameters={"MAX_ITEMS": 3},
                        credentials={("ORGCRED", "SLACK"): CredentialRef("s", "S")},
                        org_secrets={"N8N_BASE_URL": "https://x"})
    path = "use-cases/demo/workflows/broken.json"
    with pytest.raises(RenderError) as info:
        render_workflow(make_wf(BROKEN, path=path), ctx)
    err = info.value
    assert isinstance(err, PermanentError)
    expected = [
        ("top-level 'name'", "{{INSTPARM_MISSING_TITLE_MRAPTSNI}}", "no parameter"),
        ("node 'Fetch'", "{{INSTPARM_NOPE_MRAPTSNI}}", "no parameter 'NOPE'"),
        ("node 'Fetch'", "{{WHATEVER_THING_REVETAHW}}", "unknown placeholder scope"),
        ("node 'Fetch'", "{{INSTPARM_MAX_ITEMS_WRONG}}", "expected 'MRAPTSNI'"),
        ("node 'Call'", "{{SUBWKFL_ghost_LFKWBUS}}", "no live n8n id"),
        ("node 'Call'", "{{ INSTPARM_MAX_ITEMS_MRAPTSNI }}", "malformed"),
        ("node 'Call'", "{{INSTPARM_X}}", "malformed"),
        ("node 'Call'", "{{ORGCRED_TEAMS_ID_DERCGRO}}", "no ORGCRED credential"),
        ("node 'Call'", "{{ORGCRED_SLACK_DERCGRO}}", "_ID or _NAME"),
        ("node 'Bare'", "{{not a placeholder}}", "not a placeholder"),
        ("node 'Bare'", "{{USERDATA_USER_ID_ATADRESU}}", "USER_ID"),
        ("node 'Bare'", "{{MEMSECRT_UNKNOWN_TRCESMEM}}", "no MEMSECRT value"),
        ("node #3", "{{PROCDATA_NOPE_ATADCORP}}", "no PROCDATA value"),
        ("top-level 'settings'", "{{ORGSECRET_MISSING_TERCESORG}}", "no ORGSECRET"),
    ]
    assert len(err.problems) == len(expected)
    for problem, (where, placeholder, reason) in zip(err.problems, expected, strict=True):
        assert problem.file == path
        assert problem.rule == "render"
        assert problem.message.startswith(f"{where}: {placeholder}: ")
        assert reason in problem.message
        assert where in str(err) and placeholder in str(err)
    assert str(err).count(path) == len(expected)
    fields = [p.field for p in err.problems]
    assert fields[1] == "nodes[0].parameters.url"
    assert fields[4] == "nodes[1].parameters.workflowId"
    assert fields[-1] == "settings.errorWorkflow"


def test_error_messages_never_hold_resolved_values(make_wf: MakeWorkflow) -> None:
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        member_secrets={"EXECUTION_AUTH": "top-secret-token"})
    text = _doc([_node("N", {"a": "{{MEMSECRT_EXECUTION_AUTH_TRCESMEM}} {{INSTPARM_Z_MRAPTSNI}}"})])
    with pytest.raises(RenderError) as info:
        render_workflow(make_wf(text), ctx)
    assert "top-secret-token" not in str(info.value)
    assert "top-secret-token" not in repr(info.value.problems)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1: "x"}, {"a": {1, 2}},
                                 b"bytes"])
def test_non_json_parameter_values_are_errors(make_wf: MakeWorkflow, bad: Any) -> None:
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        parameters={"BAD": bad})
    text = _doc([_node("N", {"x": "{{INSTPARM_BAD_MRAPTSNI}}"})])
    with pytest.raises(RenderError, match="parameter 'BAD'"):
        render_workflow(make_wf(text), ctx)


def test_keys_colliding_after_rendering_are_errors(make_wf: MakeWorkflow,
                                                   ctx: RenderContext) -> None:
    text = _doc([_node("N", {"k25": 1, "k{{INSTPARM_MAX_ITEMS_MRAPTSNI}}": 2})])
    with pytest.raises(RenderError, match="render to the same text"):
        render_workflow(make_wf(text), ctx)


def test_a_workflow_that_is_not_an_object_is_an_error(make_wf: MakeWorkflow,
                                                      ctx: RenderContext) -> None:
    with pytest.raises(RenderError, match="JSON object"):
        render_workflow(make_wf("[1, 2]"), ctx)


def test_organisation_instance_has_no_user_id(make_wf: MakeWorkflow) -> None:
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        organization_id="acme")
    ok = _doc([_node("N", {"o": "{{USERDATA_ORGANIZATION_ID_ATADRESU}}"})])
    assert render_workflow(make_wf(ok), ctx)["nodes"][0]["parameters"] == {"o": "acme"}
    bad = _doc([_node("N", {"u": "{{USERDATA_USER_ID_ATADRESU}}"})])
    with pytest.raises(RenderError, match="USER_ID"):
        render_workflow(make_wf(bad), ctx)

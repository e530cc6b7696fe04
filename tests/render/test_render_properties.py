"""Property tests: adversarial values render as data, never as structure.

Templates are written as JSON text with bare placeholders and parsed by the real
parser, so the bare-placeholder scanner is exercised too.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reconciler.model.declared import WorkflowSpec
from reconciler.model.jsjson import js_stringify
from reconciler.model.placeholders import (
    BARE_MARK,
    LOOSE_RE,
    PLACEHOLDER_RE,
    parse_workflow_text,
)
from reconciler.model.repository import WorkflowFile
from reconciler.render import CredentialRef, RenderContext, render_workflow

SPEC = WorkflowSpec.model_validate({"id": "prop", "file": "workflows/prop.json", "name": "P",
                                    "triggers": [{"type": "http", "path": "p"}]})


def workflow_from_text(text: str) -> WorkflowFile:
    return WorkflowFile(spec=SPEC, path="workflows/prop.json", text=text,
                        content=parse_workflow_text(text))

PH = "{{INSTPARM_V_MRAPTSNI}}"
BARE = "@@bare-5c0ffee1@@"  # replaced by a bare placeholder in the JSON text
BARE_KEY = "@@bare-key-5c0ffee1@@"

# Pieces that break naive text substitution: quotes, escapes, braces, placeholders,
# the parser's own marker, control and line-separator characters, JSON fragments.
FRAGMENTS = [
    '"', "\\", '\\"', "\\\\", "}}", "{{", "{", "}", "{{{", "}}}", PH,
    "{{INSTPARM_OTHER_MRAPTSNI}}", "{{ INSTPARM_V_MRAPTSNI }}", "{{SUBWKFL_x_LFKWBUS}}",
    BARE_MARK, BARE_MARK + PH, "\x00", "\n", "\r\n", "\t", "\x1f", "\u2028", "\ufeff",
    '", "injected": "', '"}]}, {"name": "evil"', "\\u0022", "null", "[1,2]", "é", "😀",
    "</script>", "={{ $json.x }}",
]
adversarial = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)),
                       max_size=6).map("".join)
# Template text around a placeholder: as adversarial, but without its own placeholders.
template_text = st.lists(
    st.one_of(st.sampled_from([f for f in FRAGMENTS if "_" not in f]), st.text(max_size=6)),
    max_size=6).map("".join)


def json_values_of(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = (st.none() | st.booleans() | st.integers()
               | st.floats(allow_nan=False, allow_infinity=False) | text)
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(text, children, max_size=4),
        max_leaves=16,
    )


json_values = json_values_of(adversarial)


def typed(value: Any) -> str:
    """Equality that tells 1, 1.0 and True apart."""
    return json.dumps(value, sort_keys=True)


def text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def only_our_placeholder(full: str, start: int) -> bool:
    """`full` holds exactly one placeholder-like span: ours, at `start`."""
    spans = [m.span() for m in PLACEHOLDER_RE.finditer(full)]
    loose = [m for m in LOOSE_RE.finditer(full) if PLACEHOLDER_RE.fullmatch(m.group(0)) is None]
    return spans == [(start, start + len(PH))] and not loose and not full.startswith(BARE_MARK)


def no_placeholder(text: str) -> bool:
    return (PLACEHOLDER_RE.search(text) is None and LOOSE_RE.search(text) is None
            and not text.startswith(BARE_MARK))


PROPERTY = settings(max_examples=1000, deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@PROPERTY
@given(value=json_values, pre=template_text, post=template_text, kpre=template_text,
       literal=template_text, node_name=template_text)
def test_instparm_values_are_data_in_every_position(value: Any, pre: str, post: str,
                                                    kpre: str, literal: str,
                                                    node_name: str) -> None:
    inside, key = pre + PH + post, kpre + PH
    # Template text that itself holds placeholders is another test's business.
    assume(only_our_placeholder(inside, len(pre)) and only_our_placeholder(key, len(kpre))
           and no_placeholder(literal) and no_placeholder(node_name))
    template = {
        "name": "prop",
        "nodes": [
            {"name": node_name, "type": "n8n-nodes-base.set", "parameters": {
                "bare": BARE, "inside": inside, "list": [BARE, 1, inside],
                "keyed": {key: "k"}, "bare_keyed": {BARE_KEY: "bk"}}},
            {"name": "Literal", "parameters": {"literal": literal}},
        ],
        "connections": {node_name: {"main": [[{"node": "Literal", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"},
    }
    text = (json.dumps(template, indent=2)
            .replace(json.dumps(BARE), PH).replace(json.dumps(BARE_KEY), PH))
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        parameters={"V": value, "OTHER": "never used"})

    out = render_workflow(workflow_from_text(text), ctx)

    assert json.loads(json.dumps(out)) == out
    assert typed(json.loads(json.dumps(out))) == typed(out)
    # Inside a string an INSTPARM is its JSON text (strings quoted); a bare key is
    # the value's text.
    in_string = js_stringify(value)
    expected = json.loads(json.dumps(template))
    params = expected["nodes"][0]["parameters"]
    params["bare"] = value
    params["inside"] = pre + in_string + post
    params["list"] = [value, 1, pre + in_string + post]
    params["keyed"] = {kpre + in_string: "k"}
    params["bare_keyed"] = {text_of(value): "bk"}
    # Same structure (keys, node count, connections) and the value exactly as given.
    assert typed(out) == typed(expected)
    assert len(out["nodes"]) == 2
    assert list(out) == list(template)


STRING_SCOPES = (
    "{{SUBWKFL_sub-id_LFKWBUS}}", "{{USERCRED_GMAIL_ID_DERCRESU}}",
    "{{USERCRED_GMAIL_NAME_DERCRESU}}", "{{ORGSECRET_S_TERCESORG}}",
    "{{MEMSECRT_M_TRCESMEM}}", "{{PROCDATA_PROCESS_ID_ATADCORP}}",
    "{{PROCDATA_NAMESPACE_ATADCORP}}", "{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}",
    "{{USERDATA_USER_ID_ATADRESU}}", "{{USERDATA_ORGANIZATION_ID_ATADRESU}}",
)


@PROPERTY
@given(values=st.lists(adversarial, min_size=len(STRING_SCOPES), max_size=len(STRING_SCOPES)))
def test_string_scopes_are_data_in_every_position(values: list[str]) -> None:
    (sub, cred_id, cred_name, org, mem, proc, ns, uid, user, orgid) = values
    ctx = RenderContext(process_id=proc, namespace=ns, instance_uid=uid, user_id=user,
                        organization_id=orgid, subworkflow_ids={"sub-id": sub},
                        credentials={("USERCRED", "GMAIL"): CredentialRef(cred_id, cred_name)},
                        org_secrets={"S": org}, member_secrets={"M": mem})
    params = {f"bare{i}": f"{BARE}{i}" for i in range(len(STRING_SCOPES))}
    params["joined"] = "<" + "|".join(STRING_SCOPES) + ">"
    text = json.dumps({"name": "s", "nodes": [{"name": "N", "parameters": params}],
                       "connections": {}})
    for i, placeholder in enumerate(STRING_SCOPES):
        text = text.replace(json.dumps(f"{BARE}{i}"), placeholder)

    out = render_workflow(workflow_from_text(text), ctx)

    assert json.loads(json.dumps(out)) == out
    rendered = out["nodes"][0]["parameters"]
    assert [rendered[f"bare{i}"] for i in range(len(values))] == values
    assert rendered["joined"] == "<" + "|".join(values) + ">"
    assert list(rendered) == [*(f"bare{i}" for i in range(len(values))), "joined"]


def _clean(value: Any) -> bool:
    if isinstance(value, str):
        return no_placeholder(value)
    if isinstance(value, list):
        return all(_clean(v) for v in value)
    if isinstance(value, dict):
        return all(no_placeholder(k) and _clean(v) for k, v in value.items())
    return True


@PROPERTY
@given(parameters=st.dictionaries(template_text, json_values_of(template_text), max_size=5))
def test_templates_without_placeholders_render_unchanged(parameters: dict[str, Any]) -> None:
    template = {"name": "plain", "nodes": [{"name": "N", "parameters": parameters}],
                "connections": {}}
    assume(_clean(template))
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i")
    out = render_workflow(workflow_from_text(json.dumps(template)), ctx)
    assert typed(out) == typed(template)

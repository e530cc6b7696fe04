"""Placeholder values render exactly as the reference platform renders them.

The oracle (render_oracle.mjs) renders on the JSON text, as the platform does,
with the `codika` package's own bare-placeholder scanner and `JSON.stringify`; our
renderer works on the parsed tree. Random values of every parameter type, in every
position (bare, inside a Code node's string, inside an expression, as a list
element), must give equal workflows.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.adapters.codika_cli import CodikaInstall
from reconciler.render import RenderContext, render_workflow
from tests.render.conftest import workflow_file

ORACLE = Path(__file__).with_name("render_oracle.mjs")


class Oracle:
    def __init__(self, codika: CodikaInstall) -> None:
        self.proc = subprocess.Popen(
            [str(codika.node), str(ORACLE), str(codika.package)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def render(self, text: str, params: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"text": text, "params": params}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        assert answer["ok"], answer["error"]
        return answer["result"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def oracle(codika: CodikaInstall) -> Iterator[Oracle]:
    found = Oracle(codika)
    yield found
    found.close()


# Strings that break naive substitution: quotes of both kinds, backslashes, braces,
# newlines and other control characters, non-ASCII, text shaped like expressions.
TRICKY = ['"', "'", "\\", "\\n", "\n", "\t", "\x01", "{{", "}}", "$json.a", "é", "😀",
          "\u2028", "</script>", "${x}", "`", "\ud800", "\x7f", "{{INSTPARM_V_MRAPTSNI}}"]
strings = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=5)),
                   max_size=5).map("".join)
numbers = (st.integers(min_value=-(2**53), max_value=2**53)
           | st.floats(allow_nan=False, allow_infinity=False))
scalars = st.none() | st.booleans() | numbers | strings
# Every parameter field type's values: string/text/date/select/radio/file are strings,
# number, boolean, multiselect and array are lists, object/section mappings,
# objectArray a list of mappings.
values = st.one_of(
    strings, numbers, st.booleans(),
    st.lists(strings, max_size=4),
    st.lists(scalars, max_size=4),
    st.dictionaries(strings, scalars, max_size=4),
    st.lists(st.dictionaries(strings, scalars, max_size=3), max_size=3),
    st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                 | st.dictionaries(strings, c, max_size=3), max_leaves=8),
)

TEMPLATE = """{
  "name": "oracle",
  "nodes": [
    {"name": "Code", "type": "n8n-nodes-base.code", "parameters": {
      "jsCode": "const x = {{INSTPARM_V_MRAPTSNI}};\\nreturn [{json: {x}}];"}},
    {"name": "Set", "type": "n8n-nodes-base.set", "parameters": {
      "value": {{INSTPARM_V_MRAPTSNI}},
      "list": [{{INSTPARM_V_MRAPTSNI}}, 1],
      "expr": "={{ $json.a == {{INSTPARM_V_MRAPTSNI}} }}",
      "text": "Hello {{INSTPARM_W_MRAPTSNI}} and {{INSTPARM_V_MRAPTSNI}}!",
      "mail": "Dear {{FIRST_LAST_NAME}}, {{INSTPARM_V_MRAPTSNI}}",
      "byKey": {"{{INSTPARM_W_MRAPTSNI}}": "in a key", "plain": 1}}}
  ],
  "connections": {}
}
"""


def typed(value: Any) -> str:
    """Equality that tells 1, 1.0 and True apart... except where JSON cannot."""
    return json.dumps(value, sort_keys=True)


def normal(value: Any) -> Any:
    """Numbers as JavaScript holds them: 1.0 and 1 are the same number there."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v=values, w=values)
def test_every_value_type_renders_as_the_platform_does(oracle: Oracle, v: Any,
                                                        w: Any) -> None:
    params = {"V": v, "W": w}
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i", parameters=params)
    ours = render_workflow(workflow_file(TEMPLATE), ctx)
    theirs = oracle.render(TEMPLATE, params)
    assert typed(normal(json.loads(json.dumps(ours)))) == typed(normal(theirs))


def test_a_code_node_string_parameter_is_a_js_string(oracle: Oracle) -> None:
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        parameters={"V": "Acme", "W": 3})
    ours = render_workflow(workflow_file(TEMPLATE), ctx)
    assert ours["nodes"][0]["parameters"]["jsCode"].startswith('const x = "Acme";')
    assert ours["nodes"][1]["parameters"]["expr"] == '={{ $json.a == "Acme" }}'
    assert ours == oracle.render(TEMPLATE, {"V": "Acme", "W": 3})


BARE_KEY = '{"nodes": [], "connections": {}, "pinned": { {{INSTPARM_V_MRAPTSNI}}: 1 }}'


def test_a_bare_key_renders_as_the_platform_does_for_strings(oracle: Oracle) -> None:
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        parameters={"V": "Acme"})
    ours = render_workflow(workflow_file(BARE_KEY), ctx)
    assert ours == oracle.render(BARE_KEY, {"V": "Acme"})
    assert ours["pinned"] == {"Acme": 1}
    # A number there is no JSON text on the platform (a failed deploy); here the key
    # is its text, a deliberate leniency (docs/migrating-from-codika.md).
    with pytest.raises(AssertionError, match="JSON"):
        oracle.render(BARE_KEY, {"V": 3})
    assert render_workflow(workflow_file(BARE_KEY), RenderContext(
        process_id="p", namespace="n", instance_uid="i", parameters={"V": 3}))[
        "pinned"] == {"3": 1}


def test_unknown_scopes_stay_as_written(oracle: Oracle) -> None:
    text = '{"nodes": [], "connections": {}, "a": "Hi {{FIRST_LAST_NAME}} {{ X }}"}'
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i", parameters={})
    assert render_workflow(workflow_file(text), ctx) == oracle.render(text, {})


def test_object_keys_are_written_in_javascript_order(oracle: Oracle) -> None:
    # Found by the property test: JSON.stringify writes integer-like keys first.
    value = {"": None, "b": 1, "10": 2, "0": None, "01": 3}
    ctx = RenderContext(process_id="p", namespace="n", instance_uid="i",
                        parameters={"V": value, "W": 1})
    ours = render_workflow(workflow_file(TEMPLATE), ctx)
    assert ours["nodes"][1]["parameters"]["text"] == (
        'Hello 1 and {"0":null,"10":2,"":null,"b":1,"01":3}!')
    assert ours == oracle.render(TEMPLATE, {"V": value, "W": 1})

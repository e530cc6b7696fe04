"""LLM-OUTPUT-ACCESS on small workflows: what is flagged, what is left, what --fix writes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.validate.rules import llm_output
from reconciler.validate.rules.registry import FixContext

CHAIN = {"name": "Chain", "type": llm_output.CHAIN, "parameters": {"hasOutputParser": True}}


def _workflow(reader: str, *, parser: bool = True, direct: bool = True) -> dict[str, Any]:
    chain = {**CHAIN, "parameters": {"hasOutputParser": parser}}
    nodes = [chain, {"name": "Read", "type": "n8n-nodes-base.set",
                     "parameters": {"value": reader}},
             {"name": "Parser", "type": "@n8n/n8n-nodes-langchain.outputParserStructured",
              "parameters": {"jsonSchemaExample": "{\"$json.x\": 1}"}}]
    target = "Read" if direct else "Parser"
    return {"nodes": nodes, "connections": {"Chain": {"main": [[{
        "node": target, "type": "main", "index": 0}]]}}}


def _found(content: dict[str, Any]) -> list[tuple[str, str]]:
    chains = llm_output._chains(content["nodes"])
    after = llm_output._after(content, chains)
    value = content["nodes"][1]["parameters"]["value"]
    return [(wrong, right) for _, wrong, right, _ in
            llm_output.misreads(value, after.get("Read"), chains)]


@pytest.mark.parametrize(("reader", "expected"), [
    ("={{ $json.summary }}", [("$json.summary", "$json.output.summary")]),
    ("={{ $input.first().json.tone }}",
     [("$input.first().json.tone", "$input.first().json.output.tone")]),
    ("={{ $('Chain').item.json.tone }}",
     [("$('Chain').item.json.tone", "$('Chain').item.json.output.tone")]),
    ('={{ $("Chain").all()[0].json.a }}',
     [('$("Chain").all()[0].json.a', '$("Chain").all()[0].json.output.a')]),
    ("={{ $json.output.summary }}", []),
    ("={{ $json.output }}", []),
    ("={{ $json.output?.summary || $json.summary }}", []),
    ("={{ $json.keys() }}", []),
])
def test_direct_and_named_reads(reader: str, expected: list[tuple[str, str]]) -> None:
    assert _found(_workflow(reader)) == expected


def test_without_a_parser_or_not_after_the_chain_nothing_is_flagged() -> None:
    assert _found(_workflow("={{ $json.text }}", parser=False)) == []
    assert _found(_workflow("={{ $json.summary }}", direct=False)) == []
    # A named read is wrong wherever it stands.
    assert _found(_workflow("={{ $('Chain').first().json.a }}", direct=False)) == [
        ("$('Chain').first().json.a", "$('Chain').first().json.output.a")]


def test_the_fix_inserts_output_and_leaves_sub_nodes_alone() -> None:
    content = _workflow("={{ $json.summary }} {{ $json.summaryLong }} "
                        "{{ $('Chain').first().json.tone }}")
    text = json.dumps(content, indent=2) + "\n"
    fixed = json.loads(llm_output._add_output(text, FixContext("wf.json", None, ())))  # type: ignore[arg-type]
    assert fixed["nodes"][1]["parameters"]["value"] == (
        "={{ $json.output.summary }} {{ $json.output.summaryLong }} "
        "{{ $('Chain').first().json.output.tone }}")
    assert fixed["nodes"][2] == content["nodes"][2]
    assert _found(fixed) == []

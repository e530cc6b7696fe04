"""LLM-OUTPUT-ACCESS: reading an LLM chain's structured output where it really is.

n8n's Basic LLM Chain (`chainLlm`) with a structured output parser
(`hasOutputParser: true`) emits `{"output": {...the parsed fields...}}`, so
`$json.summary` after it is always undefined: the run goes on with empty values and
nothing fails. The counterpart of Codika's rule of the same id, written on the
parsed workflow (their check scans the node's JSON text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reconciler.validate.rules import n8n
from reconciler.validate.rules.jsontext import json_fix, node_dicts
from reconciler.validate.rules.registry import Finding, FixContext, Layer, Lint, rule

CHAIN = "@n8n/n8n-nodes-langchain.chainLlm"
# Sub-nodes hang off the chain by ai_* connections and read no item of it.
_SUB_NODES = ("@n8n/n8n-nodes-langchain.outputParser", "@n8n/n8n-nodes-langchain.lmChat")
_FIELD = r"\.json\.(?!output\b)([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()"
_ITEM = r"\.(?:first\(\)|last\(\)|item|all\(\)\[\d+\])"
# Nodes right after the chain read its item: `$json.x`, `$input.first().json.x`.
_DIRECT = re.compile(r"(\$json|\$input" + _ITEM + r"\.json)\.(?!output\b)"
                     r"([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")


def _named(chain: str) -> re.Pattern[str]:
    """`$('Chain').first().json.x` (either quote), from any node."""
    return re.compile(r"(\$\(\s*(['\"])" + re.escape(chain) + r"\2\s*\)" + _ITEM + r")"
                      + _FIELD)


def _chains(nodes: list[dict[str, Any]]) -> set[str]:
    return {str(n.get("name")) for n in nodes if n.get("type") == CHAIN
            and isinstance(n.get("parameters"), dict)
            and n["parameters"].get("hasOutputParser") is True}


def _after(content: dict[str, Any], chains: set[str]) -> dict[str, str]:
    """Node name -> the chain whose main output feeds it directly."""
    found: dict[str, str] = {}
    connections = content.get("connections")
    for chain in sorted(chains):
        entry = connections.get(chain) if isinstance(connections, dict) else None
        outputs = entry.get("main") if isinstance(entry, dict) else None
        for branch in outputs if isinstance(outputs, list) else []:
            for link in branch if isinstance(branch, list) else []:
                if isinstance(link, dict) and isinstance(link.get("node"), str):
                    found.setdefault(link["node"], chain)
    return found


def _defended(text: str, field: str) -> bool:
    """`$json.output?.x || $json.x`: the author reads both shapes on purpose."""
    return re.search(r"output\??\." + re.escape(field) + r"\b", text) is not None


def misreads(text: str, chain_before: str | None,
             chains: set[str]) -> Iterator[tuple[str, str, str, re.Match[str]]]:
    """(chain, what was written, what to write, match) for each misread in `text`."""
    if chain_before is not None:
        for m in _DIRECT.finditer(text):
            if not _defended(text, m.group(2)):
                yield chain_before, m.group(0), f"{m.group(1)}.output.{m.group(2)}", m
    for chain in sorted(chains):
        for m in _named(chain).finditer(text):
            if not _defended(text, m.group(3)):
                yield chain, m.group(0), f"{m.group(1)}.json.output.{m.group(3)}", m


def _fixed(text: str, chain_before: str | None, chains: set[str]) -> str:
    spans = {(m.start(), m.end(), right) for _, _, right, m in misreads(text, chain_before,
                                                                         chains)}
    for start, end, right in sorted(spans, reverse=True):
        text = text[:start] + right + text[end:]
    return text


def _rewrite(value: Any, chain_before: str | None, chains: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _rewrite(v, chain_before, chains) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, chain_before, chains) for v in value]
    if isinstance(value, str):
        return _fixed(value, chain_before, chains)
    return value


@json_fix
def _add_output(content: dict[str, Any], _: FixContext) -> None:
    """Read the chain's fields under `.output`."""
    nodes = node_dicts(content)
    chains = _chains(nodes)
    after = _after(content, chains)
    for node in nodes:
        if isinstance(node.get("parameters"), dict) and not str(
                node.get("type")).startswith(_SUB_NODES):
            node["parameters"] = _rewrite(node["parameters"], after.get(str(node.get("name"))),
                                          chains)


@rule("LLM-OUTPUT-ACCESS", Layer.content, "must",
      "A structured LLM chain's fields are read under .output", fix=_add_output)
def llm_output_access(lint: Lint) -> Iterator[Finding]:
    """A Basic LLM Chain with a structured output parser emits its fields under
    `output` (`{"output": {"summary": ...}}`), so `$json.summary` in the node after
    it, or `$('Chain').first().json.summary` anywhere, is undefined and the run goes
    on with empty values. Read `$json.output.summary`. A read that also tries the
    other shape (`$json.output?.summary || $json.summary`) is left alone. The fix
    inserts `.output`."""
    for _, wf in lint.workflows():
        raw = node_dicts(wf.content) if isinstance(wf.content, dict) else []
        chains = _chains(raw)
        if not chains:
            continue
        after = _after(wf.content, chains)
        for node in n8n.nodes(wf):
            if node.type.startswith(_SUB_NODES):
                continue
            for path, text in n8n.strings(node.params, (*node.path, "parameters")):
                for chain, wrong, right, _ in misreads(text, after.get(node.name), chains):
                    yield Finding(wf.path, f"node {node.name!r} reads {wrong} but {chain!r} "
                                  "(an LLM chain with a structured output parser) puts its "
                                  "fields under .output", path, f"write {right}")

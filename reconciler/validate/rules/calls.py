"""What a caller sends a sub-workflow: the inputs its trigger declares, mapped."""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.model.placeholders import find_placeholders
from reconciler.model.repository import UseCase, WorkflowFile
from reconciler.validate.rules import n8n
from reconciler.validate.rules.platform import declared_inputs
from reconciler.validate.rules.registry import Finding, Layer, Lint, rule


def _callee(node: n8n.Node) -> str | None:
    value = node.params.get("workflowId")
    if isinstance(value, dict):
        value = value.get("value")
    found = find_placeholders(value) if isinstance(value, str) else []
    return found[0].body if len(found) == 1 and found[0].scope == "SUBWKFL" else None


def _inputs_of(uc: UseCase, workflow_id: str) -> list[str] | None:
    target = next((wf for wf in uc.workflows if wf.spec.id == workflow_id), None)
    if target is None:
        return None
    for node in n8n.Graph.of(target).triggers():
        if node.type == n8n.EXEC_TRIGGER:
            names = declared_inputs(node)
            return None if names is None or "(json example)" in names else names
    return None


def _mapped(node: n8n.Node) -> set[str] | None:
    block = node.params.get("workflowInputs")
    if not isinstance(block, dict) or block.get("mappingMode", "defineBelow") != "defineBelow":
        return None
    value = block.get("value")
    return set(value) if isinstance(value, dict) else set()


def _calls(uc: UseCase, wf: WorkflowFile) -> Iterator[tuple[n8n.Node, str, list[str]]]:
    for node in n8n.nodes(wf):
        callee = _callee(node) if node.type == n8n.EXEC else None
        inputs = _inputs_of(uc, callee) if callee else None
        if callee and inputs:
            yield node, callee, inputs


@rule("SUBWKFL-INPUT-MAPPING", Layer.platform, "must",
      "Callers map every input their sub-workflow declares, and no other")
def input_mapping(lint: Lint) -> Iterator[Finding]:
    """When a sub-workflow's Execute Workflow Trigger declares inputs, each Execute
    Workflow node calling it sets `parameters.workflowInputs` with `mappingMode:
    defineBelow` and a `value` entry per declared input (an n8n expression or a
    literal); a missing input reaches the sub-workflow empty, an extra one is dropped.
    `passthrough` mapping is refused: it sends whatever the caller holds."""
    for uc in lint.state.use_cases.values():
        for wf in uc.workflows:
            for node, callee, inputs in _calls(uc, wf):
                mapped = _mapped(node)
                where = (*node.path, "parameters", "workflowInputs")
                if mapped is None:
                    yield Finding(wf.path, f"node {node.name!r} does not map the inputs of "
                                  f"{callee!r} ({', '.join(inputs)})", where,
                                  "set workflowInputs.mappingMode 'defineBelow' and a value "
                                  "per input")
                    continue
                missing = [i for i in inputs if i not in mapped]
                extra = sorted(mapped - set(inputs))
                if missing or extra:
                    parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                        [f"not declared by {callee!r}: {', '.join(extra)}"] if extra else [])
                    yield Finding(wf.path, f"node {node.name!r} inputs for {callee!r}: "
                                  + "; ".join(parts), (*where, "value"))

"""Graph rules: how the nodes of one workflow are wired."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from reconciler.validate.rules import n8n
from reconciler.validate.rules.jsontext import json_fix, node_dicts, text_of
from reconciler.validate.rules.registry import Finding, FixContext, Layer, Lint, rule

G = Layer.graph


@rule("GRAPH-DUPLICATE-NAME", G, "must", "Node names are unique and not empty")
def duplicate_names(lint: Lint) -> Iterator[Finding]:
    """n8n wires nodes by name: with two nodes of the same name, connections and
    expressions such as `$('Name')` point at whichever comes first. Rename one."""
    for _, wf in lint.workflows():
        names = [n.data.get("name") for n in n8n.nodes(wf)]
        counts = Counter(n for n in names if isinstance(n, str))
        for node, name in zip(n8n.nodes(wf), names, strict=True):
            if not isinstance(name, str) or not name.strip():
                yield Finding(wf.path, "node has no name", (*node.path, "name"))
            elif counts[name] > 1:
                yield Finding(wf.path, f"node name {name!r} is used {counts[name]} times",
                              (*node.path, "name"), "give every node its own name")


@json_fix
def _drop_dangling(content: dict[str, Any], ctx: FixContext) -> None:
    """Remove connections from or to nodes that do not exist."""
    names = {text_of(n, "name") for n in node_dicts(content)} - {None}
    conns = content.get("connections")
    if not isinstance(conns, dict):
        return
    for source in [s for s in conns if s not in names]:
        del conns[source]
    for kinds in conns.values():
        for outputs in kinds.values() if isinstance(kinds, dict) else ():
            for i, targets in enumerate(outputs if isinstance(outputs, list) else ()):
                if isinstance(targets, list):
                    outputs[i] = [t for t in targets
                                  if not isinstance(t, dict) or text_of(t, "node") in names]


@rule("GRAPH-DANGLING-CONNECTION", G, "must",
      "Connections only name nodes that exist", fix=_drop_dangling)
def dangling(lint: Lint) -> Iterator[Finding]:
    """A connection from or to a node name that is not in `nodes` (often left behind
    by a rename) makes n8n reject or silently drop the link. The fix removes the
    dead connection entries; rewire the renamed node by hand."""
    for _, wf in lint.workflows():
        graph = n8n.Graph.of(wf)
        names = {n.name for n in n8n.nodes(wf)}
        seen_sources: set[str] = set()
        for e in graph.edges:
            if e.source not in names and e.source not in seen_sources:
                seen_sources.add(e.source)
                yield Finding(wf.path, f"connections start at {e.source!r}, which is not a node",
                              ("connections", e.source))
            if e.target not in names:
                yield Finding(wf.path, f"{e.source!r} connects to {e.target!r}, "
                              "which is not a node", (*e.path, "node"))


@rule("GRAPH-DISCONNECTED", G, "should", "Every node is connected to another node")
def disconnected(lint: Lint) -> Iterator[Finding]:
    """A node with no connection at all never runs (or, for a trigger, starts a run
    that does nothing). Connect it or delete it. Sticky notes are exempt."""
    for _, wf in lint.workflows():
        graph = n8n.Graph.of(wf)
        if len(graph.by_name) < 2:
            continue
        linked = {e.source for e in graph.edges} | {e.target for e in graph.edges}
        for node in graph.by_name.values():
            if node.name not in linked:
                yield Finding(wf.path, f"node {node.name!r} has no connections", node.path,
                              "connect it or delete it")


@rule("GRAPH-UNREACHABLE", G, "should", "Every connected node is reachable from a trigger")
def unreachable(lint: Lint) -> Iterator[Finding]:
    """A node that no trigger leads to never runs. AI sub-nodes (models, tools,
    memories) count as reached when the node they plug into is reached. Nodes with
    no connection at all are reported by GRAPH-DISCONNECTED instead."""
    for _, wf in lint.workflows():
        graph = n8n.Graph.of(wf)
        linked = {e.source for e in graph.edges} | {e.target for e in graph.edges}
        reached = graph.reached()
        for node in graph.by_name.values():
            if node.name in linked and node.name not in reached:
                yield Finding(wf.path, f"node {node.name!r} cannot be reached from any trigger",
                              node.path)


def _answering_triggers(graph: n8n.Graph) -> Iterator[tuple[n8n.Node, str]]:
    """Triggers whose run returns the last node's output, with what they are."""
    for node in graph.triggers():
        if node.type == n8n.WEBHOOK and node.params.get("responseMode") == "lastNode":
            yield node, "a webhook answering with its last node"
        elif node.type == n8n.EXEC_TRIGGER:
            yield node, "a sub-workflow trigger"


STOP_AND_ERROR = "n8n-nodes-base.stopAndError"


@rule("GRAPH-TERMINAL", G, "should",
      "A run that returns its last node's output ends in exactly one terminal node")
def terminal(lint: Lint) -> Iterator[Finding]:
    """A webhook answering with its last node (`responseMode: lastNode`) and a
    sub-workflow (whose caller receives the last node's items) return the output of
    whichever node ran last. With several terminal nodes that depends on execution
    order; join the branches or answer with a Respond to Webhook node. A Stop and
    Error node ends the run as failed and is not counted."""
    for _, wf in lint.workflows():
        graph = n8n.Graph.of(wf)
        for node, what in _answering_triggers(graph):
            # A Stop and Error node fails the run: it is not one of its answers.
            failing = {n.name for n in n8n.nodes(wf) if n.type == STOP_AND_ERROR}
            ends = [e for e in graph.terminals(node.name) if e not in failing]
            if len(ends) > 1:
                yield Finding(wf.path, f"{node.name!r} ({what}) ends in {len(ends)} terminal "
                              f"nodes ({', '.join(ends)}); the answer depends on which runs "
                              "last", node.path, "end every branch in one node")


@rule("GRAPH-WEBHOOK-RESPONSE", G, "must",
      "Webhook response modes agree with Respond to Webhook nodes")
def webhook_response(lint: Lint) -> Iterator[Finding]:
    """`responseMode: responseNode` needs a Respond to Webhook node after the webhook,
    or the caller waits until it times out; a Respond to Webhook node after a
    webhook in another mode, or in a workflow without a webhook, fails the run."""
    for _, wf in lint.workflows():
        graph = n8n.Graph.of(wf)
        responders = {n.name for n in graph.by_name.values() if n.type == n8n.RESPOND}
        covered: set[str] = set()
        for hook in (n for n in graph.triggers() if n.type == n8n.WEBHOOK):
            after = graph.downstream(hook.name) & responders
            covered |= after
            mode = hook.params.get("responseMode", "onReceived")
            where = (*hook.path, "parameters", "responseMode")
            if mode == "responseNode" and not after:
                yield Finding(wf.path, f"webhook {hook.name!r} waits for a Respond to "
                              "Webhook node, but none follows it", where)
            elif mode != "responseNode" and after:
                yield Finding(wf.path, f"webhook {hook.name!r} has responseMode {mode!r} "
                              f"but is followed by {', '.join(sorted(after))}", where,
                              "set responseMode to 'responseNode'")
        for name in sorted(responders - covered):
            yield Finding(wf.path, f"Respond to Webhook node {name!r} follows no webhook",
                          graph.by_name[name].path)


@rule("GRAPH-MERGE-TERMINAL", G, "should", "A Merge node does not feed a terminal node")
def merge_terminal(lint: Lint) -> Iterator[Finding]:
    """A Merge node waits for all its inputs; when one branch yields no items the
    node after it never runs. If that node is the last one, the webhook answer or
    the sub-workflow result silently goes missing or the run hangs waiting for it.
    Put a node after the Merge that always outputs, or answer before merging."""
    for _, wf in lint.workflows():
        graph = n8n.Graph.of(wf)
        for node in graph.by_name.values():
            if node.type != n8n.MERGE:
                continue
            for target in graph.main_out(node.name):
                if target in graph.by_name and not graph.has_main_out(target):
                    yield Finding(wf.path, f"Merge node {node.name!r} feeds terminal node "
                                  f"{target!r}", node.path)


@rule("GRAPH-TRIGGER-COUNT", G, "must",
      "A workflow has a trigger, and at most one sub-workflow trigger")
def trigger_count(lint: Lint) -> Iterator[Finding]:
    """Without a trigger node a workflow can never run (n8n also refuses to publish
    it); two Execute Workflow Trigger nodes make it ambiguous which one a caller
    starts."""
    for _, wf in lint.workflows():
        graph = n8n.Graph.of(wf)
        triggers = graph.triggers()
        if not triggers:
            yield Finding(wf.path, "the workflow has no trigger node", ("nodes",))
        subs = [n for n in triggers if n.type == n8n.EXEC_TRIGGER]
        for extra in subs[1:]:
            yield Finding(wf.path, f"second sub-workflow trigger {extra.name!r}", extra.path,
                          "keep one Execute Workflow Trigger")

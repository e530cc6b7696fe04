"""The shape of an n8n workflow, as far as the rules need it: nodes, triggers, graph."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reconciler.model.repository import WorkflowFile

WEBHOOK = "n8n-nodes-base.webhook"
SCHEDULE = "n8n-nodes-base.scheduleTrigger"
CRON_NODE = "n8n-nodes-base.cron"
EXEC_TRIGGER = "n8n-nodes-base.executeWorkflowTrigger"
EXEC = "n8n-nodes-base.executeWorkflow"
# Every node that starts another workflow by id, URL, file or inline JSON.
WORKFLOW_CALLERS = frozenset({EXEC, "@n8n/n8n-nodes-langchain.toolWorkflow"})
RESPOND = "n8n-nodes-base.respondToWebhook"
MERGE = "n8n-nodes-base.merge"
STICKY = "n8n-nodes-base.stickyNote"
MANUAL = "n8n-nodes-base.manualTrigger"
HTTP_REQUEST = "n8n-nodes-base.httpRequest"
ERROR_TRIGGER = "n8n-nodes-base.errorTrigger"

# Trigger node types without the "Trigger" suffix.
_TRIGGERS = {WEBHOOK, CRON_NODE, "n8n-nodes-base.interval", "n8n-nodes-base.formTrigger"}


@dataclass(frozen=True)
class Node:
    index: int
    data: dict[str, Any]

    @property
    def name(self) -> str:
        value = self.data.get("name")
        return value if isinstance(value, str) else f"#{self.index}"

    @property
    def type(self) -> str:
        value = self.data.get("type")
        return value if isinstance(value, str) else ""

    @property
    def params(self) -> dict[str, Any]:
        value = self.data.get("parameters")
        return value if isinstance(value, dict) else {}

    @property
    def path(self) -> tuple[str | int, ...]:
        return ("nodes", self.index)

    @property
    def is_trigger(self) -> bool:
        return self.type in _TRIGGERS or self.type.lower().endswith("trigger")


@dataclass(frozen=True)
class Edge:
    source: str
    kind: str  # "main", "ai_languageModel", ...
    output: int
    target: str
    slot: int  # position in the output's list, for locating
    path: tuple[str | int, ...]  # JSON path of the connection entry


def nodes(wf: WorkflowFile) -> list[Node]:
    raw = wf.content.get("nodes") if isinstance(wf.content, dict) else None
    if not isinstance(raw, list):
        return []
    return [Node(i, n) for i, n in enumerate(raw) if isinstance(n, dict)]


def edges(wf: WorkflowFile) -> list[Edge]:
    raw = wf.content.get("connections") if isinstance(wf.content, dict) else None
    found: list[Edge] = []
    if not isinstance(raw, dict):
        return found
    for source, kinds in raw.items():
        for kind, outputs in kinds.items() if isinstance(kinds, dict) else ():
            for out, targets in enumerate(outputs if isinstance(outputs, list) else ()):
                for slot, target in enumerate(targets if isinstance(targets, list) else ()):
                    name = target.get("node") if isinstance(target, dict) else None
                    found.append(Edge(source, kind, out, str(name), slot,
                                      ("connections", source, kind, out, slot)))
    return found


@dataclass(frozen=True)
class Graph:
    """Nodes by name with their connections; sticky notes are left out."""

    by_name: dict[str, Node]
    edges: list[Edge]

    @classmethod
    def of(cls, wf: WorkflowFile) -> Graph:
        by_name = {n.name: n for n in nodes(wf) if n.type != STICKY}
        return cls(by_name, edges(wf))

    def main_out(self, name: str) -> list[str]:
        return [e.target for e in self.edges if e.source == name and e.kind == "main"]

    def has_main_out(self, name: str) -> bool:
        return bool(self.main_out(name))

    def triggers(self) -> list[Node]:
        return [n for n in self.by_name.values() if n.is_trigger]

    def downstream(self, start: str) -> set[str]:
        """Nodes reached from `start` along main connections (start included)."""
        seen, todo = {start}, [start]
        while todo:
            for nxt in self.main_out(todo.pop()):
                if nxt not in seen and nxt in self.by_name:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def reached(self) -> set[str]:
        """Nodes that run: downstream of a trigger, or sub-nodes (AI model, tool,
        memory...) attached by a non-main connection to a node that runs."""
        seen: set[str] = set()
        for trigger in self.triggers():
            seen |= self.downstream(trigger.name)
        grew = True
        while grew:
            grew = False
            for e in self.edges:
                if e.kind != "main" and e.target in seen and e.source not in seen:
                    seen.add(e.source)
                    grew = True
        return seen

    def terminals(self, start: str) -> list[str]:
        return sorted(n for n in self.downstream(start) if not self.has_main_out(n))


JsonPath = tuple[str | int, ...]


def strings(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    """Every string of a JSON tree with its path (bare markers included as written)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings(item, (*path, i))
    elif isinstance(value, str):
        yield path, value


def settings(wf: WorkflowFile) -> dict[str, Any]:
    value = wf.content.get("settings") if isinstance(wf.content, dict) else None
    return value if isinstance(value, dict) else {}


def shown(value: Any) -> str:
    """A value as a message shows it: an absent one is "not set", never None."""
    return "not set" if value is None else repr(value)

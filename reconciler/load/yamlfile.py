"""YAML reading that remembers where every value came from.

pydantic reports an error at a path like `workflows.0.triggers`; users need the
line. We compose the YAML node tree once and map each path to its line. Dates
stay strings (YAML 1.1 would turn `2024-01-01` into a date) and duplicate keys are
errors, since the second one would silently win. Nesting is limited (see
reconciler.load.limits) while composing, before PyYAML's recursive composer could
exhaust the stack.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml

from reconciler.load.limits import MAX_DEPTH, depth_message, not_finite
from reconciler.model.lines import LineMap, Path

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
# Longer than any double written in decimal: refused before Python converts it
# (a 5,000-digit integer raises ValueError there).
_MAX_NUMBER_CHARS = 330


class YamlError(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    # Sequences and mappings are what nests (as in JSON, scalars add no level).
    def compose_sequence_node(self, anchor: Any) -> yaml.SequenceNode:
        self._enter()
        try:
            node: yaml.SequenceNode = super().compose_sequence_node(anchor)
            return node
        finally:
            self.depth -= 1

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        self._enter()
        try:
            node: yaml.MappingNode = super().compose_mapping_node(anchor)
            return node
        finally:
            self.depth -= 1

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
            mark = event.start_mark
            raise YamlError(depth_message(), mark.line + 1 if mark is not None else None)


# Drop the timestamp resolver: values like 2024-01-01 stay plain strings.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


# Aliases let a small file expand into a huge document ("billion laughs"); no real
# configuration comes near this many values once aliases are expanded.
MAX_NODES = 100_000


class _Walk:
    """Records the line of every path; rejects what the data model cannot hold."""

    def __init__(self, lines: LineMap) -> None:
        self.lines = lines
        self.count = 0
        self.stack: set[int] = set()

    def node(self, node: yaml.Node, path: Path) -> None:
        self.count += 1
        line = node.start_mark.line + 1
        if self.count > MAX_NODES:
            raise YamlError(f"more than {MAX_NODES} values once aliases are expanded", line)
        if id(node) in self.stack:
            raise YamlError("an alias refers to itself", line)
        if isinstance(node, yaml.ScalarNode):
            _number(node, line)
        elif len(path) >= MAX_DEPTH:  # aliases can nest what composed within the limit
            raise YamlError(f"{depth_message()} once aliases are expanded", line)
        elif isinstance(node, yaml.MappingNode):
            self.stack.add(id(node))
            self.mapping(node, path)
            self.stack.discard(id(node))
        elif isinstance(node, yaml.SequenceNode):
            self.stack.add(id(node))
            for index, item in enumerate(node.value):
                self.lines.lines.setdefault((*path, index), item.start_mark.line + 1)
                self.node(item, (*path, index))
            self.stack.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: Path) -> None:
        seen: set[Hashable] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError("a key must be a plain value, not a list or mapping", line)
            key = key_node.value
            if key in seen:
                raise YamlError(f"duplicate key {key!r}", line)
            seen.add(key)
            # setdefault: an aliased node keeps the line where it was first written
            self.lines.lines.setdefault((*path, key), line)
            self.node(value_node, (*path, key))


def _number(node: yaml.ScalarNode, line: int) -> None:
    """Numbers must be finite doubles, as n8n stores them."""
    if node.tag not in (_INT, _FLOAT):
        return
    value = str(node.value).replace("_", "")
    if len(value) > _MAX_NUMBER_CHARS or not_finite(value) or (
            node.tag == _FLOAT and value.lower().lstrip("+-") in (".inf", ".nan")):
        raise YamlError(f"{value[:20]}{'...' if len(value) > 20 else ''} is not a finite "
                        "number n8n can hold", line)


def parse_yaml(text: str) -> tuple[Any, LineMap]:
    """Return the data and its line map; raises YamlError with a line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlError(str(exc.problem or exc), line) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), None) from None
    lines = LineMap()
    if node is None:
        return None, lines
    lines.lines[()] = node.start_mark.line + 1
    _Walk(lines).node(node, ())
    loader = _Loader("")
    try:
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlError(str(exc.problem or exc), mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), None) from None
    finally:
        loader.dispose()
    return data, lines

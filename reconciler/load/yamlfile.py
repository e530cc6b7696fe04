"""YAML reading that remembers where every value came from.

pydantic reports an error at a path like `workflows.0.triggers`; users need the
line. We compose the YAML node tree once and map each path to its line. Dates
stay strings (YAML 1.1 would turn `2024-01-01` into a date) and duplicate keys are
errors, since the second one would silently win.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml

from reconciler.model.lines import LineMap, Path


class _Loader(yaml.SafeLoader):
    pass


# Drop the timestamp resolver: values like 2024-01-01 stay plain strings.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


class YamlError(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _walk(node: yaml.Node, path: Path, lines: LineMap) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[Hashable] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise YamlError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            seen.add(key)
            lines.lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines)


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
    _walk(node, (), lines)
    loader = _Loader("")
    try:
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), None) from None
    finally:
        loader.dispose()
    return data, lines

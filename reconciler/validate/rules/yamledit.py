"""Minimal, comment-preserving edits of YAML text: set a list of plain strings.

Only the lines of the edited key change. The edit is checked by parsing the
result: if the value read back is not exactly the one wanted, or anything else in
the document changed, the original text is returned.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from reconciler.load.yamlfile import YamlError, parse_yaml
from reconciler.model.lines import Path

_KEY = re.compile(r"^(?P<lead>\s*(?:-\s+)?)(?P<key>[A-Za-z_][\w-]*)\s*:")


def _flow(values: list[str]) -> str:
    return "[" + ", ".join(values) + "]"


def set_list(text: str, path: Path, values: list[str], after: str | None = None) -> str:
    """Set the list at `path` (a mapping key) to `values`.

    An existing key is rewritten in place (flow or block style); a missing one is
    added as a flow list after the sibling key `after` (or at the end of a
    top-level mapping).
    """
    try:
        data, lines = parse_yaml(text)
    except YamlError:
        return text
    rows = text.split("\n")
    line = lines.lines.get(path)
    if line is not None:
        edited = _replace(rows, line, lines.lines, path, values)
    else:
        edited = _insert(rows, lines.lines, path, values, after)
    if edited is None:
        return text
    new_text = "\n".join(edited)
    return new_text if _same_but(data, new_text, path, values) else text


def _replace(rows: list[str], line: int, where: dict[Path, int], path: Path,
             values: list[str]) -> list[str] | None:
    row = rows[line - 1]
    match = _KEY.match(row)
    if match is None or match.group("key") != path[-1]:
        return None
    head = row[: match.end()]
    items = sorted(v for k, v in where.items() if len(k) == len(path) + 1 and k[:-1] == path)
    if not items or items[0] == line:  # flow list (or empty) on the key's own line
        return [*rows[: line - 1], f"{head} {_flow(values)}", *rows[line:]]
    if any(b - a != 1 for a, b in zip([line, *items], items, strict=False)):
        return None  # multi-line items: leave to a human
    indent = re.match(r"^\s*", rows[items[0] - 1])
    pad = indent.group(0) if indent else ""
    block = [f"{pad}- {v}" for v in values]
    return [*rows[:line], *block, *rows[items[-1] :]]


def _insert(rows: list[str], where: dict[Path, int], path: Path, values: list[str],
            after: str | None) -> list[str] | None:
    parent = path[:-1]
    if after is None:
        if parent:
            return None
        body = rows[:-1] if rows and rows[-1] == "" else rows
        return [*body, f"{path[-1]}: {_flow(values)}", ""]
    line = where.get((*parent, after))
    if line is None:
        return None
    match = _KEY.match(rows[line - 1])
    if match is None:
        return None
    column = len(match.group("lead"))
    new_row = " " * column + f"{path[-1]}: {_flow(values)}"
    return [*rows[:line], new_row, *rows[line:]]


def _same_but(before: Any, new_text: str, path: Path, values: list[str]) -> bool:
    try:
        after, _ = parse_yaml(new_text)
    except YamlError:
        return False
    expected = copy.deepcopy(before)
    target = expected
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = list(values)
    return bool(after == expected)

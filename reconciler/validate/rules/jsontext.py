"""Canonical workflow text, and the helper every JSON fix is built on.

A fix parses the file (bare placeholders become marker strings), changes the tree
and writes it back in the one canonical form: 2-space indent, a trailing newline,
non-ASCII kept, and each bare placeholder written back bare (unquoted).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from reconciler.model.placeholders import BARE_MARK, parse_workflow_text
from reconciler.validate.rules.registry import FixContext

# A JSON string literal whose value starts with the bare marker (NUL is escaped).
_MARKED = re.compile(r'"\\u0000bare\\u0000(?:[^"\\]|\\.)*"')


def _unmark(match: re.Match[str]) -> str:
    value: str = json.loads(match.group(0))
    return value.removeprefix(BARE_MARK)


def node_dicts(content: dict[str, Any]) -> list[dict[str, Any]]:
    """The workflow's nodes that are objects (fixes skip anything else)."""
    nodes = content.get("nodes")
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def text_of(mapping: dict[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) else None


def dump_workflow(content: Any) -> str:
    text = json.dumps(content, indent=2, ensure_ascii=False)
    return _MARKED.sub(_unmark, text) + "\n"


def json_fix(
    change: Callable[[dict[str, Any], FixContext], None],
) -> Callable[[str, FixContext], str]:
    """Make a text fix from a function that edits the parsed workflow in place.

    Text that does not parse as a workflow object is returned unchanged: a fix never
    guesses.
    """

    def fix(text: str, ctx: FixContext) -> str:
        try:
            content = parse_workflow_text(text)
        except json.JSONDecodeError:
            return text
        if not isinstance(content, dict):
            return text
        change(content, ctx)
        return dump_workflow(content)

    fix.__doc__ = change.__doc__
    return fix

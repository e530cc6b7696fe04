"""Field-level diffs of workflows for people: each changed field with old -> new values.

A path names nodes by their name (`nodes["Fetch leads"].parameters.limit`), values are
shortened, and anything that is or holds a secret is masked: values rendered from
secrets, and fields whose name says they hold one (a hand edit in n8n may add those).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from deepdiff import DeepDiff

MASK = "(secret)"
MAX_VALUE = 120  # characters of one value shown
MAX_ENTRIES = 50  # fields shown per workflow; the rest are counted
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[-_]?key|authorization|private[-_]?key"
                         r"|bearer|cookie", re.IGNORECASE)
_CHANGE = {"values_changed": "changed", "type_changes": "changed",
           "dictionary_item_added": "added", "iterable_item_added": "added",
           "dictionary_item_removed": "removed", "iterable_item_removed": "removed"}


def field_diff(live: dict[str, Any], desired: dict[str, Any],
               secrets: Iterable[str] = ()) -> list[dict[str, Any]]:
    """[{path, change, old, new}] from n8n's copy (old) to the rendered one (new)."""
    hidden = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
    tree = DeepDiff(live, desired, ignore_order=False, view="tree")
    entries: list[dict[str, Any]] = []
    for kind, items in tree.items():
        change = _CHANGE.get(kind, "changed")
        for item in items:
            keys = item.path(output_format="list")
            entries.append({
                "path": _path(keys, live, desired), "change": change,
                "old": None if change == "added" else _show(item.t1, keys, hidden),
                "new": None if change == "removed" else _show(item.t2, keys, hidden),
            })
    entries.sort(key=lambda e: str(e["path"]))
    if len(entries) > MAX_ENTRIES:
        more = len(entries) - MAX_ENTRIES
        entries = [*entries[:MAX_ENTRIES],
                   {"path": f"(+{more} more fields)", "change": "more", "old": None, "new": None}]
    return entries


def _path(keys: list[Any], live: dict[str, Any], desired: dict[str, Any]) -> str:
    out = ""
    if len(keys) >= 2 and keys[0] == "nodes" and isinstance(keys[1], int):
        name = _node_name(desired, keys[1]) or _node_name(live, keys[1])
        out = f"nodes[{json.dumps(name)}]" if name else f"nodes[{keys[1]}]"
        keys = keys[2:]
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
        elif re.fullmatch(r"[A-Za-z_][\w-]*", str(key)):
            out += f".{key}" if out else str(key)
        else:
            out += f"[{json.dumps(str(key))}]"
    return out or "(workflow)"


def _node_name(body: dict[str, Any], index: int) -> str | None:
    nodes = body.get("nodes")
    if isinstance(nodes, list) and 0 <= index < len(nodes) and isinstance(nodes[index], dict):
        name = nodes[index].get("name")
        return str(name) if name else None
    return None


def _show(value: Any, keys: list[Any], hidden: list[str]) -> str:
    if any(isinstance(k, str) and _SECRET_KEY.search(k) for k in keys) and value not in ("", None):
        return MASK
    text = json.dumps(_redact(value), sort_keys=True, default=str, ensure_ascii=False)
    for secret in hidden:
        text = text.replace(json.dumps(secret)[1:-1], MASK).replace(secret, MASK)
    return shorten(text)


def _redact(value: Any) -> Any:
    """A copy with the values of secret-named keys masked (a whole node added, say)."""
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and _SECRET_KEY.search(k) and v not in ("", None)
                else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def shorten(text: str, limit: int = MAX_VALUE) -> str:
    """Head and tail of a long value, with what was left out counted."""
    if len(text) <= limit:
        return text
    keep = limit - 20
    head, tail = text[: keep * 2 // 3], text[-(keep // 3):]
    return f"{head}…(+{len(text) - len(head) - len(tail)} chars)…{tail}"


def diff_line(entry: dict[str, Any], arrow: str = "→") -> str:
    """One entry as text: `path: old → new`."""
    change = entry.get("change")
    if change == "more":
        return str(entry["path"])
    if change == "added":
        return f"{entry['path']}: (added) {entry['new']}"
    if change == "removed":
        return f"{entry['path']}: {entry['old']} (removed)"
    return f"{entry['path']}: {entry['old']} {arrow} {entry['new']}"

"""Comparing a smoke test's expectation with the answer: pure functions.

JSONPath is a small documented subset, implemented here rather than taken from a
library: `$` (the body), `.key` and `['key']` (a member), `[n]` (an element, negative
from the end), `[*]` and `.*` (every member or element). Tests need no filters or
recursive descent, and a subset we own parses the same on every machine, fails with
our own message, and has no evaluator to exploit.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from reconciler.model.smoke import Expect, Matcher

MAX_TEXT = 10_000  # a regex is matched against at most this much text (bounded work)
MAX_DIFF = 4_000  # what a stored diff holds at most
WILD = object()
_TOKEN = re.compile(r"""\.(?P<key>[A-Za-z_][\w-]*)|\.\*|\[\*\]|\[(?P<index>-?\d+)\]"""
                    r"""|\['(?P<sq>[^'\\]*)'\]|\["(?P<dq>[^"\\]*)"\]""")


class PathError(ValueError):
    pass


def parse_path(path: str) -> list[Any]:
    """`$.a[0]['b c']` -> ['a', 0, 'b c']; `WILD` for `*`. Raises PathError."""
    if not path.startswith("$"):
        raise PathError("a JSONPath starts with '$'")
    steps: list[Any] = []
    at = 1
    while at < len(path):
        match = _TOKEN.match(path, at)
        if match is None:
            raise PathError(f"cannot read {path[at:]!r} (supported: .key, ['key'], [n], [*], .*)")
        if match["key"] is not None:
            steps.append(match["key"])
        elif match["index"] is not None:
            steps.append(int(match["index"]))
        elif match["sq"] is not None or match["dq"] is not None:
            steps.append(match["sq"] if match["sq"] is not None else match["dq"])
        else:
            steps.append(WILD)
        at = match.end()
    return steps


def select(value: Any, steps: list[Any]) -> list[Any]:
    """Every value the path selects (none when a step does not exist)."""
    found = [value]
    for step in steps:
        nxt: list[Any] = []
        for node in found:
            if step is WILD:
                nxt += list(node.values()) if isinstance(node, dict) else (
                    list(node) if isinstance(node, list) else [])
            elif isinstance(step, int) and isinstance(node, list):
                if -len(node) <= step < len(node):
                    nxt.append(node[step])
            elif isinstance(step, str) and isinstance(node, dict) and step in node:
                nxt.append(node[step])
        found = nxt
    return found


def contains(actual: Any, subset: Any) -> bool:
    """`actual` holds `subset`: objects key by key, lists element by element."""
    if isinstance(subset, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(actual[k], v) for k, v in subset.items())
    if isinstance(subset, list):
        return (isinstance(actual, list) and len(actual) >= len(subset)
                and all(contains(a, s) for a, s in zip(actual, subset, strict=False)))
    return bool(actual == subset and type(actual) is type(subset)) or (
        isinstance(actual, int | float) and isinstance(subset, int | float)
        and not isinstance(actual, bool) and not isinstance(subset, bool) and actual == subset)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    failures: tuple[str, ...]  # one line per expectation not met
    diff: str  # expected vs actual, when a body part failed


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _matcher(m: Matcher, body: Any) -> str | None:
    try:
        values = select(body, parse_path(m.path))
    except PathError as exc:
        return f"{m.path}: {exc}"
    if "exists" in m.model_fields_set:
        return None if bool(values) == m.exists else (
            f"{m.path}: expected {'a value' if m.exists else 'nothing'}, found "
            f"{len(values)} value(s)")
    if not values:
        return f"{m.path}: selects nothing"
    if "equals" in m.model_fields_set:
        if any(contains(v, m.equals) and contains(m.equals, v) for v in values):
            return None
        return f"{m.path}: expected {_text(m.equals)[:200]}, got {_text(values[0])[:200]}"
    pattern = re.compile(m.regex or "")
    if any(pattern.search(_text(v)[:MAX_TEXT]) for v in values):
        return None
    return f"{m.path}: {_text(values[0])[:200]!r} does not match /{m.regex}/"


def _pretty(value: Any) -> list[str]:
    return json.dumps(value, indent=2, sort_keys=True, default=str).splitlines()


def body_diff(expected: Any, actual: Any) -> str:
    lines = difflib.unified_diff(_pretty(expected), _pretty(actual), "expected", "actual",
                                 lineterm="")
    text = "\n".join(lines)
    return text if len(text) <= MAX_DIFF else text[:MAX_DIFF] + "\n... (cut)"


def judge(expect: Expect, status: int | None, body: Any) -> Verdict:
    """Every expectation of `expect` against the answer (status None: no answer)."""
    failures: list[str] = []
    diff = ""
    if status != expect.status:
        failures.append(f"status: expected {expect.status}, got "
                        f"{'no answer' if status is None else status}")
    if "body" in expect.model_fields_set and not (
            contains(body, expect.body) and contains(expect.body, body)):
        failures.append("body: differs from the expected body")
        diff = body_diff(expect.body, body)
    if "subset" in expect.model_fields_set and not contains(body, expect.subset):
        failures.append("subset: the body does not contain the expected subset")
        diff = diff or body_diff(expect.subset, body)
    failures += [f for f in (_matcher(m, body) for m in expect.matchers) if f]
    if failures and not diff:
        diff = "\n".join(failures)
    return Verdict(not failures, tuple(failures), diff)

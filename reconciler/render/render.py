"""Render a workflow template into the JSON object sent to n8n.

Rendering works on the parsed structure (`WorkflowFile.content`), never on JSON
text: a value is placed into the tree as data, so no parameter can close a string,
add a key or otherwise change the workflow's shape, and the result is always
serialisable by `json.dumps`. Replacements are never scanned again, so a value that
itself looks like a placeholder stays as written.

Where a placeholder stands decides how its value is written:

- a bare placeholder (`"value": {{INSTPARM_X_MRAPTSNI}}`, read as a marker string)
  becomes the value itself: INSTPARM values keep their JSON type, every other scope
  is a string;
- a placeholder inside a string (or an object key) is replaced within that string.
  An INSTPARM is written as its JSON text, exactly as the reference platform does
  (`JSON.stringify`: a string keeps its quotes, `const x = {{INSTPARM_X_MRAPTSNI}};`
  becomes `const x = "Acme";`); every other scope is a plain string;
- a bare placeholder as an object key gives its value as text (the reference
  platform's key for a string; for other values its text would not be JSON there);
- text shaped like a placeholder of an unknown scope, inside a string, is left as
  written (only a `should` warns about it); a bare one fails, as it is not JSON.

Every placeholder that cannot be resolved is collected, and one `RenderError`
reports them all, each with the file, the node and the placeholder.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from reconciler.errors import Problem, RenderError
from reconciler.model.jsjson import js_stringify
from reconciler.model.placeholders import (
    BARE_MARK,
    CREDENTIAL_SCOPES,
    LOOSE_RE,
    PLACEHOLDER_RE,
    SUFFIXES,
    Placeholder,
    is_bare_marker,
)
from reconciler.model.repository import WorkflowFile
from reconciler.render.context import RenderContext
from reconciler.render.webhook_ids import assign_webhook_ids

Path = tuple[str | int, ...]


class _Unresolved(Exception):
    """Internal: why one placeholder has no value (never holds a secret value)."""


def render_workflow(wf: WorkflowFile, ctx: RenderContext) -> dict[str, Any]:
    """The workflow object of `wf` with every placeholder replaced by its value.

    Raises `RenderError` listing every placeholder that cannot be resolved.
    """
    if not isinstance(wf.content, dict):
        problem = Problem(file=wf.path, message="a workflow file must hold a JSON object",
                          rule="render")
        raise RenderError(str(problem), [problem])
    renderer = _Renderer(wf, ctx)
    result = renderer.value(wf.content, ())
    if renderer.problems:
        count = len(renderer.problems)
        listing = "; ".join(str(p) for p in renderer.problems)
        raise RenderError(f"{count} placeholder(s) cannot be rendered: {listing}",
                          renderer.problems)
    assert isinstance(result, dict)
    assign_webhook_ids(result, ctx.instance_uid)
    return result


def as_text(value: Any) -> str:
    """How a resolved value is written inside a string: strings as-is, else JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def in_string(placeholder: Placeholder, value: Any) -> str:
    """How a resolved value is written inside a string (see the module docstring)."""
    if placeholder.scope == "INSTPARM":
        return js_stringify(value)
    return as_text(value)


def resolve(placeholder: Placeholder, ctx: RenderContext) -> Any:
    """The value of one placeholder; raises `_Unresolved` with the reason."""
    scope, body = placeholder.scope, placeholder.body
    if not placeholder.known_scope:
        raise _Unresolved(f"unknown placeholder scope {scope!r}")
    if not placeholder.suffix_ok:
        raise _Unresolved(f"wrong suffix {placeholder.suffix!r} for {scope} "
                          f"(expected {SUFFIXES[scope]!r})")
    if scope == "INSTPARM":
        if body not in ctx.parameters:
            raise _Unresolved(f"no parameter {body!r} (declare it in the use case's "
                              f"parameters or set it on the instance)")
        return _json_copy(ctx.parameters[body], f"parameter {body!r}")
    if scope == "SUBWKFL":
        live = ctx.subworkflow_ids.get(body)
        if live is None:
            raise _Unresolved(f"sub-workflow {body!r} has no live n8n id "
                              f"(is it part of the use case, and deployed first?)")
        return live
    if scope in CREDENTIAL_SCOPES:
        part = placeholder.credential_part
        if part is None:
            raise _Unresolved(f"a {scope} placeholder needs _ID or _NAME after the "
                              f"integration")
        integration, kind = part
        ref = ctx.credential(scope, integration)
        if ref is None:
            raise _Unresolved(f"no {scope} credential for integration {integration!r}")
        return ref.id if kind == "ID" else ref.name
    table: Mapping[str, str] = {
        "MEMSECRT": ctx.member_secrets,
        "ORGSECRET": ctx.org_secrets,
        "PROCDATA": ctx.process_data,
        "USERDATA": ctx.user_data,
    }[scope]
    found = table.get(body)
    if found is None:
        raise _Unresolved(f"no {scope} value named {body!r}")
    return found


def _json_copy(value: Any, what: str) -> Any:
    """A fresh copy of `value` that is guaranteed to be a JSON value."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unresolved(f"{what} is {value!r}, which JSON cannot hold")
        return value
    if isinstance(value, list | tuple):
        return [_json_copy(item, what) for item in value]
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unresolved(f"{what} has a non-string key of type "
                                  f"{type(key).__name__}")
            copied[key] = _json_copy(item, what)
        return copied
    raise _Unresolved(f"{what} is a {type(value).__name__}, not a JSON value")


class _Renderer:
    def __init__(self, wf: WorkflowFile, ctx: RenderContext) -> None:
        self.wf = wf
        self.ctx = ctx
        self.problems: list[Problem] = []

    def value(self, node: Any, path: Path) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, item in node.items():
                new_key = self.key(key, path)
                if new_key in out:
                    self.fail(path, key, "two keys of this object render to the same "
                                         "text")
                out[new_key] = self.value(item, (*path, key))
            return out
        if isinstance(node, list):
            return [self.value(item, (*path, index)) for index, item in enumerate(node)]
        if isinstance(node, str):
            if is_bare_marker(node):
                return self.bare(node, path)
            return self.within(node, path)
        return node

    def key(self, key: str, path: Path) -> str:
        if is_bare_marker(key):
            # Unquoted in key position: a string value gives the reference platform's
            # key (`{ "Acme": 1 }`); any other value, whose text is no JSON there
            # (`{ 3: 1 }`), gives its JSON text as the key rather than a failed deploy.
            return as_text(self.bare(key, path))
        return self.within(key, path)

    def bare(self, marker: str, path: Path) -> Any:
        text = marker[len(BARE_MARK):]
        match = PLACEHOLDER_RE.fullmatch(text)
        if match is None:
            self.fail(path, text, "not a placeholder, and not valid JSON outside a string")
            return text
        try:
            return resolve(Placeholder(*match.groups()), self.ctx)
        except _Unresolved as why:
            self.fail(path, text, str(why))
            return text

    def within(self, text: str, path: Path) -> str:
        if "{{" not in text:
            return text
        for loose in LOOSE_RE.finditer(text):
            inner = loose.group(1).strip()
            if (PLACEHOLDER_RE.fullmatch(loose.group(0)) is None
                    and inner.split("_", 1)[0] in SUFFIXES):
                self.fail(path, loose.group(0), "malformed placeholder (spaces, or a "
                                                "missing part or suffix)")

        def replace(match: re.Match[str]) -> str:
            placeholder = Placeholder(*match.groups())
            if not placeholder.known_scope:
                # Text shaped like a placeholder of no scope (`{{FIRST_LAST_NAME}}` in
                # a mail template) stays as written, as on the reference platform;
                # PLACEHOLDER-SCOPE warns about it.
                return match.group(0)
            try:
                return in_string(placeholder, resolve(placeholder, self.ctx))
            except _Unresolved as why:
                self.fail(path, match.group(0), str(why))
                return match.group(0)

        return PLACEHOLDER_RE.sub(replace, text)

    def fail(self, path: Path, placeholder: str, reason: str) -> None:
        self.problems.append(Problem(
            file=self.wf.path,
            message=f"{self.where(path)}: {placeholder}: {reason}",
            field=_dotted(path) or None,
            rule="render",
        ))

    def where(self, path: Path) -> str:
        """The node holding `path`, by name; else the top-level key."""
        if not path:
            return "workflow"
        if path[0] == "nodes" and len(path) > 1 and isinstance(path[1], int):
            nodes = self.wf.content.get("nodes")
            node = nodes[path[1]] if isinstance(nodes, list) else None
            name = node.get("name") if isinstance(node, dict) else None
            if isinstance(name, str):
                return f"node {name!r}"
            return f"node #{path[1]}"
        return f"top-level {path[0]!r}"


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text

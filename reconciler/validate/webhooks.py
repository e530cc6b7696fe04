"""Webhook paths as n8n will register them, per installation: what the namespace and
uniqueness rules of validate and the planner both read.

Every installation runs its own copy of each workflow on one shared n8n, and n8n
routes a production call by method and path alone. A path is therefore safe only in
the installation's own space `<use case>/<instance>/<slug>`; anything else could be
rendered (by reordering placeholders, a parameter value, or a literal) into another
tenant's space and take its traffic, or make its publish fail with 409.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model.placeholders import find_placeholders
from reconciler.model.repository import UseCase

PROCESS_ID = "{{PROCDATA_PROCESS_ID_ATADCORP}}"
INSTANCE_UID = "{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}"
# Node types that register a production URL from `parameters.path`.
PATH_NODES = frozenset({
    "n8n-nodes-base.webhook", "n8n-nodes-base.formTrigger",
    "@n8n/n8n-nodes-langchain.mcpTrigger",
})
_SEGMENT = re.compile(r"^:?[A-Za-z0-9._~-]+$")
# A segment of the slug: never "." or "..", which a client or proxy resolves into
# another installation's space (`<uc>/<inst>/../../<other uc>/<other inst>/x`).
_SLUG_SEGMENT = r"(?!\.\.?(?:/|$)):?[A-Za-z0-9._~-]+"
NAMESPACED = re.compile(
    "^" + re.escape(PROCESS_ID) + "/" + re.escape(INSTANCE_UID)
    + f"/(?P<rest>{_SLUG_SEGMENT}(?:/{_SLUG_SEGMENT})*)$")


@dataclass(frozen=True)
class Hook:
    """One webhook of one installation: where it is declared and what it renders to."""

    method: str
    path: str  # rendered and normalised: no leading or trailing "/"
    file: str  # the workflow file
    pointer: tuple[str | int, ...]  # the node's parameters.path inside that file
    node: str

    def segments(self) -> list[str]:
        return self.path.split("/")


def path_nodes(content: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    nodes = content.get("nodes") if isinstance(content, dict) else None
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if isinstance(node, dict) and isinstance(node.get("type"), str) \
                and node["type"] in PATH_NODES:
            yield index, node


def namespace_problem(path: Any) -> str | None:
    """Why a path template is not confined to its installation's space, or None."""
    if not isinstance(path, str) or not path:
        return f"path {path!r} is empty: n8n would use the node's webhookId"
    if path.startswith("="):
        return f"path {path!r} is an expression: its value is known only at run time"
    if NAMESPACED.match(path.strip()) is None:
        return (f"path {path!r} is not '{PROCESS_ID}/{INSTANCE_UID}/<slug>' "
                "(a slug of letters, digits, '.', '_', '~', '-', ':param' segments, "
                "no '.' or '..' segment)")
    return None


def render_path(path: str, use_case: str, instance: str, params: Mapping[str, Any]) -> str:
    """The path as it will reach n8n for this installation (placeholders we can know)."""
    text = path.removeprefix("=")
    for ph in find_placeholders(text):
        if ph.text == PROCESS_ID:
            text = text.replace(ph.text, use_case)
        elif ph.text == INSTANCE_UID:
            text = text.replace(ph.text, instance)
        elif ph.scope == "INSTPARM" and ph.body in params:
            text = text.replace(ph.text, str(params[ph.body]))
    return re.sub(r"/+", "/", text).strip("/")


def hooks_of(uc: UseCase, instance: str, params: Mapping[str, Any]) -> list[Hook]:
    out: list[Hook] = []
    for wf in uc.workflows:
        for index, node in path_nodes(wf.content):
            params_ = node.get("parameters")
            raw = params_.get("path") if isinstance(params_, dict) else None
            if not isinstance(raw, str) or not raw.strip("/ ="):
                continue
            method = params_.get("httpMethod", "GET") if isinstance(params_, dict) else "GET"
            out.append(Hook(str(method).upper(), render_path(raw, uc.slug, instance, params),
                            wf.path, ("nodes", index, "parameters", "path"),
                            str(node.get("name"))))
    return out


def overlap(a: Hook, b: Hook) -> bool:
    """Whether n8n could route one request to both (':x' segments match anything)."""
    if a.method != b.method:
        return False
    sa, sb = a.segments(), b.segments()
    return len(sa) == len(sb) and all(
        x == y or x.startswith(":") or y.startswith(":") for x, y in zip(sa, sb, strict=True))


Installation = tuple[str, str, Hook]  # (instance id, the file to name, hook)


def collisions(found: Iterable[Installation]) -> Iterator[tuple[Installation, Installation]]:
    """Pairs of webhooks of different installations that n8n could not tell apart."""
    items = list(found)
    if any(item[2].segments()[0].startswith(":") for item in items):
        yield from _pairs(items)  # rare (the namespace rule refuses it): compare all
        return
    by_first: dict[tuple[str, str], list[Installation]] = {}
    for item in items:
        by_first.setdefault((item[2].method, item[2].segments()[0]), []).append(item)
    for group in by_first.values():
        yield from _pairs(group)


def _pairs(items: list[Installation]) -> Iterator[tuple[Installation, Installation]]:
    """Overlapping pairs, in the order of `items`. Paths without ':' segments overlap
    only when equal, so they are bucketed by path instead of compared pairwise (one
    use case with thousands of instances would make that quadratic)."""
    exact: dict[str, list[int]] = {}
    wild: list[int] = []
    for i, item in enumerate(items):
        if ":" in item[2].path:
            wild.append(i)
        else:
            exact.setdefault(item[2].path, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for same in exact.values():
        pairs.update((i, j) for k, i in enumerate(same) for j in same[k + 1:])
    for w in wild:
        pairs.update((min(w, j), max(w, j)) for j in range(len(items)) if j != w)
    for i, j in sorted(pairs):
        a, b = items[i], items[j]
        if a[0] != b[0] and overlap(a[2], b[2]):
            yield a, b

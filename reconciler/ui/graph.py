"""A template's sub-workflow graph as an SVG picture, drawn on the server.

Workflows are boxes in columns by call depth (entry workflows on the left); an
arrow goes from a caller to each sub-workflow it names through a SUBWKFL
placeholder. No script and no external font: the picture is self-contained.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from reconciler.model.repository import UseCase
from reconciler.render.requirements import subworkflow_refs

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 190, 46, 70, 22, 12


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    trigger: str  # http | schedule | subworkflow | ... (the first trigger's type)


def edges_of(use_case: UseCase) -> tuple[list[Node], list[tuple[str, str]]]:
    nodes = [Node(wf.spec.id, wf.spec.name or wf.spec.id,
                  str(wf.spec.triggers[0].type) if wf.spec.triggers else "-")
             for wf in use_case.workflows]
    known = {n.id for n in nodes}
    edges = sorted((wf.spec.id, callee) for wf in use_case.workflows
                   for callee in subworkflow_refs(wf) if callee in known)
    return nodes, edges


def _depths(nodes: list[Node], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest call path from an entry workflow; cycles (refused by validate) stop at N."""
    depth = {n.id: 0 for n in nodes}
    for _ in range(len(nodes)):
        changed = False
        for caller, callee in edges:
            if depth[callee] < depth[caller] + 1 <= len(nodes):
                depth[callee] = depth[caller] + 1
                changed = True
        if not changed:
            break
    return depth


def _clip(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def svg(use_case: UseCase, title: str) -> str:
    nodes, edges = edges_of(use_case)
    depth = _depths(nodes, edges)
    columns: dict[int, list[Node]] = {}
    for node in nodes:
        columns.setdefault(depth[node.id], []).append(node)
    where: dict[str, tuple[int, int]] = {}
    for col, members in columns.items():
        for row, node in enumerate(members):
            where[node.id] = (PAD + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    width = PAD * 2 + max(columns, default=0) * (BOX_W + GAP_X) + BOX_W
    height = PAD * 2 + max((len(m) for m in columns.values()), default=1) * (BOX_H + GAP_Y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" '
             f'width="{width}" height="{height - GAP_Y}" viewBox="0 0 {width} {height - GAP_Y}">',
             f"<title>{escape(title)}</title>",
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#5b6b7f"/>'
             "</marker></defs>"]
    for caller, callee in edges:
        (x1, y1), (x2, y2) = where[caller], where[callee]
        parts.append(f'<line class="edge" data-from="{escape(caller)}" '
                     f'data-to="{escape(callee)}" x1="{x1 + BOX_W}" y1="{y1 + BOX_H // 2}" '
                     f'x2="{x2}" y2="{y2 + BOX_H // 2}" stroke="#5b6b7f" stroke-width="1.5" '
                     'marker-end="url(#arrow)"/>')
    for node in nodes:
        x, y = where[node.id]
        parts.append(
            f'<g class="node" data-id="{escape(node.id)}"><rect x="{x}" y="{y}" '
            f'width="{BOX_W}" height="{BOX_H}" rx="6" fill="#eef3f8" stroke="#3d5a80"/>'
            f'<text x="{x + 10}" y="{y + 19}" font-family="sans-serif" font-size="13" '
            f'fill="#1d2733">{escape(_clip(node.name))}</text>'
            f'<text x="{x + 10}" y="{y + 36}" font-family="monospace" font-size="11" '
            f'fill="#5b6b7f">{escape(_clip(node.id + " · " + node.trigger, 30))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)

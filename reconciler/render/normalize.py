"""Reduce a workflow to what the reconciler owns, to detect drift by hash.

The same function is applied to the rendered workflow we send and to the workflow
n8n returns (`GET /workflows/{id}`); equal hashes mean "no change". What n8n does
to a workflow on create, update and publish was checked against n8n 2.41.1:

- it keeps `name`, `connections` and every node key exactly as sent, adding no
  parameter defaults; `settings` are merged into the stored ones and n8n's
  stand-ins for "default" are dropped on update (see `render/settings.py`);
- it adds a random node `id` to every node sent without one, and a random
  `webhookId` to webhook-style nodes sent without one;
- it replaces each credential's `name` with the stored credential's name (and,
  when the id is unknown, looks the credential up by name and type and replaces
  the id);
- it returns numbers as JavaScript writes them: `2.0` comes back as `2`, and
  integers beyond 2**53 lose precision;
- publishing changes none of the owned fields.

Decisions, so that a round trip with no change hashes the same:

- The owned fields are `name`, `nodes`, `connections` and `settings`; everything
  else n8n returns (`id`, `versionId`, `active`, `meta`, `tags`, `pinData`,
  `staticData`, timestamps...) is not ours and not compared.
- Nodes are compared by name (connections refer to names), sorted by name.
  Node `id` and `webhookId` are dropped: n8n invents them when absent, which a
  normaliser applied to one side at a time cannot tell from a change. Node ids are
  UI bookkeeping; webhook URLs come from the node's `path` parameter, which is
  compared. (A template change of `webhookId` alone is therefore not seen.)
- Credentials are compared by id only, per credential type: n8n rewrites names,
  and the id is what a node actually uses.
- `position` is dropped when `ignore_positions` (the platform default): moving a
  node in the editor is not drift.
- `settings` are compared as n8n behaves with them (`render/settings.py`): every
  managed key, an absent key or one of n8n's stand-ins (`"DEFAULT"`, timeout -1)
  as its default value, and the keys n8n ignores on write left out. So the body we
  send, which spells every key, hashes like the workflow n8n gives back.
- Numbers are canonicalised the way n8n stores them (integral floats become ints,
  integers beyond 2**53 are rounded as a double) before hashing.

Dropping arbitrary keys n8n added that we did not send would hide real drift
(someone setting `disabled: true` in the editor), so only the server-assigned keys
named above are ignored.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from reconciler.render.settings import compared_settings

OWNED_KEYS = ("name", "nodes", "connections", "settings")


# Keys n8n assigns itself when a node arrives without them.
SERVER_ASSIGNED_NODE_KEYS = frozenset({"id", "webhookId"})

_JS_SAFE_INT = 2**53


def normalize_for_compare(workflow: dict[str, Any], *,
                          ignore_positions: bool = True) -> dict[str, Any]:
    """The owned part of `workflow`, in a form where equal means "no change"."""
    nodes_in = workflow.get("nodes")
    nodes = [_node(n, ignore_positions) for n in nodes_in if isinstance(n, dict)] \
        if isinstance(nodes_in, list) else []
    # Stable on unnamed nodes too: ties are broken by the canonical text.
    nodes.sort(key=lambda n: (str(n.get("name", "")), _canonical(n)))
    settings = compared_settings(workflow.get("settings"))
    connections = workflow.get("connections")
    normal: dict[str, Any] = _numbers({
        "name": workflow.get("name"),
        "nodes": nodes,
        "connections": connections if isinstance(connections, dict) else {},
        "settings": settings,
    })
    return normal


def content_hash(workflow: dict[str, Any], ignore_positions: bool = True) -> str:
    """sha256 (hex) of the canonical JSON of `normalize_for_compare(workflow)`."""
    return normalized_hash(normalize_for_compare(workflow, ignore_positions=ignore_positions))


def normalized_hash(normal: dict[str, Any]) -> str:
    """`content_hash` of a workflow already normalised (normalise once, hash and keep)."""
    return hashlib.sha256(_canonical(normal).encode("utf-8")).hexdigest()


def _node(node: dict[str, Any], ignore_positions: bool) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k not in SERVER_ASSIGNED_NODE_KEYS}
    if ignore_positions:
        out.pop("position", None)
    creds = out.get("credentials")
    if isinstance(creds, dict):
        out["credentials"] = {
            ctype: {"id": ref.get("id")} if isinstance(ref, dict) else ref
            for ctype, ref in creds.items()
        }
    return out


def _numbers(value: Any) -> Any:
    """Numbers as n8n (JavaScript doubles) gives them back."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(float(value)) if abs(value) > _JS_SAFE_INT else value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return _numbers(int(value))
        return value
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)

"""Per-installation webhook ids.

n8n registers some triggers under their node's `webhookId` (dynamic webhook paths,
chat and other webhook-based triggers). Every installation of a template would
otherwise carry the template's ids, and a tenant could copy another tenant's id into
its own template to collide with, or take over, that registration. So the id each
installation sends is derived from the installation and the template's id: stable
across updates, unique per installation, never chosen by the template's author.
"""

from __future__ import annotations

import uuid
from typing import Any

# A fixed namespace, so the same installation always derives the same ids.
_NAMESPACE = uuid.UUID("7f1c6c2e-3f5e-5b43-9a59-1f4b2a8c0d31")


def instance_webhook_id(instance_uid: str, template_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{instance_uid}\n{template_id}"))


def assign_webhook_ids(body: dict[str, Any], instance_uid: str) -> None:
    """Replace every node's `webhookId` with this installation's (in place)."""
    nodes = body.get("nodes")
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and isinstance(node.get("webhookId"), str):
            node["webhookId"] = instance_webhook_id(instance_uid, node["webhookId"])

"""What the API needs of an instance's template: its workflows, triggers and skills."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.api.keys import Instance
from reconciler.store.db import Store


@dataclass(frozen=True)
class Target:
    """How to start one workflow of one instance from outside n8n."""

    workflow_id: str
    name: str
    method: str
    slug: str  # the trigger's path; the live webhook is <use_case>/<instance>/<slug>
    input_schema: dict[str, Any]
    kind: str  # http | schedule (its manual trigger)


def template(store: Store, instance: Instance) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The config (use-case model dump) and skills of the version the instance runs."""
    if instance.version is None:
        return None
    row = store.conn.execute("SELECT config, skills FROM templates WHERE use_case=? AND "
                             "version=?", (instance.use_case, instance.version)).fetchone()
    if row is None:
        return None
    return json.loads(row[0]), json.loads(row[1] or "{}")


def workflows(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(w.get("id")): w for w in config.get("workflows", []) if isinstance(w, dict)}


def target(workflow: dict[str, Any]) -> Target | None:
    """The workflow's http trigger, else its schedule's manual trigger; None if neither."""
    triggers = [t for t in workflow.get("triggers", []) if isinstance(t, dict)]
    wid, name = str(workflow.get("id")), str(workflow.get("name"))
    for trig in triggers:
        if trig.get("type") == "http":
            return Target(wid, name, str(trig.get("method") or "POST"), str(trig["path"]),
                          _compact(trig.get("input_schema") or {}), "http")
    for trig in triggers:
        if trig.get("type") == "schedule" and trig.get("manual_trigger_path"):
            return Target(wid, name, "POST", str(trig["manual_trigger_path"]), {}, "schedule")
    return None


def n8n_workflow_id(store: Store, instance_id: str, workflow_id: str) -> str | None:
    row = store.conn.execute("SELECT n8n_id FROM workflow_mappings WHERE instance_id=? AND "
                             "workflow_id=? AND archived=0", (instance_id, workflow_id)).fetchone()
    return str(row[0]) if row else None


def webhook_path(instance: Instance, slug: str) -> str:
    # PROCDATA_PROCESS_ID renders to the use case, USERDATA_PROCESS_INSTANCE_UID to the id.
    return f"{instance.use_case}/{instance.id}/{slug}"


def _compact(value: Any) -> Any:
    """The schema without the model dump's unset (null) members."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value

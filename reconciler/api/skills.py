"""An instance's skills: its SKILL.md files, completed with how to call this installation."""

from __future__ import annotations

import json
from typing import Any

import yaml

from reconciler.api import instances
from reconciler.api.errors import ApiError
from reconciler.api.keys import Instance
from reconciler.store.db import Store


def front_matter(text: str) -> dict[str, Any]:
    if not text.startswith("---"):
        return {}
    head, sep, _ = text[3:].partition("\n---")
    if not sep:
        return {}
    try:
        data = yaml.safe_load(head)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def trigger_info(instance: Instance, target: instances.Target, n8n_url: str,
                 api_base: str | None) -> dict[str, Any]:
    api = (f"{api_base.rstrip('/')}/api/v1/workflows/{target.workflow_id}/trigger"
           if api_base else None)
    return {
        "workflow_id": target.workflow_id,
        "kind": target.kind,
        "method": target.method,
        "api_url": api,
        "webhook_url": f"{n8n_url.rstrip('/')}/webhook/"
                       f"{instances.webhook_path(instance, target.slug)}",
        "input_schema": target.input_schema,
    }


def _section(instance: Instance, trig: dict[str, Any]) -> str:
    lines = ["", "## This installation", "", f"- Instance: `{instance.id}`"]
    if trig["api_url"]:
        lines.append(f"- Call: `POST {trig['api_url']}` with header `X-API-Key: <the "
                     "instance's key>` and the input as a JSON object "
                     "(add `?wait=true` to wait for the result)")
    lines.append(f"- n8n webhook: `{trig['method']} {trig['webhook_url']}`")
    fields = trig["input_schema"]
    if fields:
        lines += ["", "| field | type | required | description |", "|---|---|---|---|"]
        for name, spec in fields.items():
            text = spec.get("description") or spec.get("label") or ""
            lines.append(f"| `{name}` | {spec.get('type')} | "
                         f"{'yes' if spec.get('required') else 'no'} | {text} |")
        lines += ["", "```json", json.dumps({"input_schema": fields}, indent=2,
                                           sort_keys=True), "```"]
    return "\n".join(lines) + "\n"


def skills(store: Store, instance: Instance, n8n_url: str,
           api_base: str | None) -> list[dict[str, Any]]:
    template = instances.template(store, instance)
    if template is None:
        raise ApiError(409, "not_deployed", f"instance {instance.id!r} runs no version yet")
    config, files = template
    workflows = instances.workflows(config)
    found: list[dict[str, Any]] = []
    for path, text in sorted(files.items()):
        meta = front_matter(text)
        spec = workflows.get(str(meta.get("workflowTemplateId")))
        target = instances.target(spec) if spec else None
        trig = trigger_info(instance, target, n8n_url, api_base) if target else None
        found.append({
            "name": str(meta.get("name") or path.split("/")[-2]),
            "description": str(meta.get("description") or ""),
            "workflow_id": spec.get("id") if spec else None,
            "path": path,
            "trigger": trig,
            "markdown": text.rstrip("\n") + "\n" + (_section(instance, trig) if trig else ""),
        })
    return found

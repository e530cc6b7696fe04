"""Codika's evaluated configuration -> this repository's `use-case.yaml` mapping.

Field schemas are lists of `{key, type, ...}` items and `section`s there, maps of
name -> field here. A section of a form schema becomes a `section` field; in the
deployment parameters a section only groups fields in their form, so its fields
become top-level parameters (INSTPARM names them flat on both platforms). What has
no counterpart here (input hints such as `maxLength`, `rows`, `placeholder`) is
dropped and reported, never silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.importers.codika.evaluate import CodikaImportError

_FIELD_TYPES = {"string", "text", "number", "boolean", "date", "select", "multiselect",
                "radio", "file", "array", "object", "objectArray"}
_KEPT = {"key", "type", "label", "description", "required", "defaultValue", "options",
         "itemField", "schema", "itemSchema", "title", "inputSchema"}
_WEBHOOK_TAIL = re.compile(r"/webhook/(?:\{\{[^}]+\}\}/)*([^/{}]+)/?$")


@dataclass
class Notes:
    """What the importer changed or dropped, file by file (printed to the user)."""

    by_file: dict[str, list[str]] = field(default_factory=dict)

    def add(self, file: str, note: str) -> None:
        self.by_file.setdefault(file, []).append(note)


def slug(text: str) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:63] or "item"


def _integration(uid: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", uid.lower()).strip("-_")[:63] or "custom"


class Mapper:
    def __init__(self, notes: Notes, file: str = "use-case.yaml") -> None:
        self.notes = notes
        self.file = file

    def schema(self, items: Any, where: str) -> dict[str, Any]:
        """A form schema (input/output): sections become `section` fields."""
        out: dict[str, Any] = {}
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "section":
                name = slug(str(item.get("title") or "section")).replace("-", "_")
                out[name] = self._drop_none({
                    "type": "section", "label": item.get("title"),
                    "description": item.get("description"),
                    "fields": self.schema(item.get("inputSchema"), where) or None})
                continue
            key = str(item.get("key") or "")
            if key:
                out[key] = self.field(item, f"{where}.{key}")
        return out

    def parameters(self, items: Any, defaults: Any) -> dict[str, Any]:
        """The deployment parameters: sections flattened, defaults merged in."""
        flat: list[dict[str, Any]] = []

        def walk(entries: Any) -> None:
            for item in entries if isinstance(entries, list) else []:
                if isinstance(item, dict) and item.get("type") == "section":
                    self.notes.add(self.file, f"parameters: section {item.get('title')!r} "
                                   "flattened (its fields are top-level parameters)")
                    walk(item.get("inputSchema"))
                elif isinstance(item, dict):
                    flat.append(item)

        walk(items)
        out = {str(i["key"]): self.field(i, f"parameters.{i['key']}") for i in flat
               if i.get("key")}
        for name, value in (defaults.items() if isinstance(defaults, dict) else ()):
            if name in out and value is not None:
                out[name]["default"] = value
        return out

    def field(self, item: dict[str, Any], where: str) -> dict[str, Any]:
        kind = item.get("type")
        if kind not in _FIELD_TYPES:
            raise CodikaImportError(f"config.ts: {where}: unknown field type {kind!r}")
        out: dict[str, Any] = {"type": kind, "label": item.get("label"),
                               "description": item.get("description")}
        if item.get("required"):
            out["required"] = True
        if item.get("defaultValue") is not None:
            out["default"] = item["defaultValue"]
        if isinstance(item.get("options"), list):
            out["options"] = [self._drop_none({"value": str(o.get("value")),
                                               "label": o.get("label")})
                              for o in item["options"] if isinstance(o, dict)]
        if kind == "array":
            element = item.get("itemField") or {"type": "string"}
            out["items"] = self.field({**element, "key": "item"}, f"{where}[]")
            out["items"].pop("required", None)
        if kind == "object":
            out["fields"] = self.schema(item.get("schema"), where)
        if kind == "objectArray":
            out["fields"] = self.schema(item.get("itemSchema"), where)
        dropped = sorted(set(item) - _KEPT)
        if dropped:
            self.notes.add(self.file, f"{where}: not kept (no counterpart here): "
                           + ", ".join(dropped))
        return self._drop_none(out)

    def trigger(self, trig: dict[str, Any], wf_id: str) -> dict[str, Any]:
        kind = trig.get("type")
        where = f"workflows[{wf_id}].triggers"
        if kind == "http":
            return self._drop_none({
                "type": "http", "method": trig.get("method") or "POST",
                "path": self._tail(trig.get("url"), where),
                "input_schema": self.schema(trig.get("inputSchema"), where) or None})
        if kind == "schedule":
            manual = trig.get("manualTriggerUrl")
            return self._drop_none({
                "type": "schedule", "cron": trig.get("cronExpression"),
                "timezone": trig.get("timezone") or "UTC",
                "human_readable": trig.get("humanReadable"),
                "manual_trigger_path": self._tail(manual, where) if manual else None})
        if kind == "service_event":
            return {"type": "service_event", "service": _integration(str(trig.get("service"))),
                    "event_type": str(trig.get("eventType") or "")}
        if kind == "subworkflow":
            inputs = {str(i["key"]): {"type": i.get("type") or "string"}
                      for i in trig.get("inputSchema") or [] if isinstance(i, dict)
                      and i.get("key")}
            return self._drop_none({"type": "subworkflow", "input_schema": inputs or None,
                                    "called_by": list(trig.get("calledBy") or []) or None})
        if kind == "data_ingestion":
            found = trig.get("webhooks")
            hooks: dict[str, Any] = found if isinstance(found, dict) else {}
            return self._drop_none({
                "type": "data_ingestion",
                "embed_path": self._last(hooks.get("embed")),
                "delete_path": self._last(hooks.get("delete"))})
        raise CodikaImportError(f"config.ts: {where}: unknown trigger type {kind!r}")

    def _tail(self, url: Any, where: str) -> str:
        match = _WEBHOOK_TAIL.search(str(url or ""))
        if match is None:
            raise CodikaImportError(f"config.ts: {where}: trigger URL {url!r} does not end "
                                    "in /webhook/.../<path>")
        return match.group(1)

    @staticmethod
    def _last(path: Any) -> str | None:
        return str(path).rstrip("/").rsplit("/", 1)[-1] if path else None

    @staticmethod
    def _drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in mapping.items() if v is not None}


def use_case(config: dict[str, Any], owner: dict[str, str], files: dict[str, str],
             notes: Notes) -> dict[str, Any]:
    """The use-case.yaml content; `files` maps workflowTemplateId -> workflows/<f>."""
    m = Mapper(notes)
    workflows = []
    for wf in config.get("workflows") or []:
        wf_id = str(wf.get("workflowTemplateId") or wf.get("workflowId"))
        if wf_id not in files:
            raise CodikaImportError(f"config.ts: workflow {wf_id!r} has no file in "
                                    "WORKFLOW_FILES")
        workflows.append(m._drop_none({
            "id": wf_id, "file": files[wf_id], "name": wf.get("workflowName") or wf_id,
            "triggers": [m.trigger(t, wf_id) for t in wf.get("triggers") or []],
            "integrations": [_integration(u) for u in wf.get("integrationUids") or []] or None,
            "output_schema": m.schema(wf.get("outputSchema"), f"workflows[{wf_id}].output")
            or None,
            "cost": wf.get("cost") or None,
            "category": wf.get("workflowCategory"),
        }))
    process = m._drop_none({
        "title": config.get("title"), "subtitle": config.get("subtitle") or None,
        "description": config.get("description") or config.get("title"),
        "tags": list(config.get("tags") or []) or None, "icon": config.get("icon"),
        "owner": owner, "type": config.get("processType") or None,
        "visibility": _visibility(config.get("visibility")),
    })
    return m._drop_none({
        "process": process, "workflows": workflows,
        "parameters": m.parameters(config.get("deploymentInputSchema"),
                                   config.get("defaultDeploymentParameters")) or None,
        "integrations": [_integration(u) for u in config.get("integrationUids") or []] or None,
    })


def _visibility(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value in ("private", "organizational", "public"):
        return {"level": value}
    return None

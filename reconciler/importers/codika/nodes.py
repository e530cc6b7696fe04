"""Rewrite a Codika workflow into what this platform runs.

- Codika's own nodes (package `n8n-nodes-codika`, not installable here) become
  built-in n8n nodes with the same name, id and position, so connections and
  `$('Name')` references still hold: Codika Init (registers the execution) becomes
  a pass-through, since this platform links executions itself (a trigger's record
  id travels with the run); Submit Result becomes the run's last output (a
  pass-through, or a Set node emitting `resultData`); Report Error becomes Stop and
  Error with the message tagged `[<error type>]`, which execution records read as
  the error class, so a failed run keeps its status and class.
- A webhook authenticated with Codika's standard header credential
  (`{{ORGSECRET_WEBHOOK_AUTH_CRED_ID_TERCESORG}}`) becomes unauthenticated (the
  import prints it): here authenticated callers go through `reconciler trigger` or the
  API with an instance key, and a webhook without authentication is public (WEBHOOK-AUTH).
"""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.importers.codika.mapping import Notes

CODIKA_PREFIX = "n8n-nodes-codika."
WEBHOOK = "n8n-nodes-base.webhook"
STANDARD_AUTH = "{{ORGSECRET_WEBHOOK_AUTH_CRED_ID_TERCESORG}}"
ERROR_TYPES = ("node_failure", "validation_error", "external_api_error", "timeout")
INSTANCE_PATH = "{{PROCDATA_PROCESS_ID_ATADCORP}}/{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}"
INIT_OPERATIONS = ("initWorkflow", "initDataIngestion")
_WHOLE_JSON = re.compile(r"^=\{\{\s*\$json\s*\}\}$")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def rewrite_workflow(content: dict[str, Any], file: str, triggers: list[dict[str, Any]],
                     notes: Notes) -> dict[str, Any]:
    """`triggers` are the workflow's triggers as already mapped for use-case.yaml."""
    nodes = content.get("nodes")
    ingestion = next((t for t in triggers if t.get("type") == "data_ingestion"), None)
    _note_missing_init(nodes, file, triggers, notes)
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict):
            continue
        kind = str(node.get("type") or "")
        if kind.startswith(CODIKA_PREFIX):
            _codika_node(node, file, notes)
        elif kind == WEBHOOK:
            _webhook(node, file, notes)
            if ingestion is not None:
                _ingestion_path(node, ingestion, file, notes)
    _timezone(content, triggers, file, notes)
    return content


def _note_missing_init(nodes: Any, file: str, triggers: list[dict[str, Any]],
                       notes: Notes) -> None:
    """Codika refuses a parent workflow without Codika Init (CODIKA-INIT); here runs
    are tracked without it, so the import goes on and says so."""
    listed = [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []
    if not listed or any(t.get("type") == "subworkflow" for t in triggers):
        return
    if not any(str(n.get("type", "")).startswith(CODIKA_PREFIX)
               and _dict(n.get("parameters")).get("operation") in INIT_OPERATIONS
               for n in listed):
        notes.add(file, "no Codika Init node: Codika's verify refuses this (CODIKA-INIT); "
                  "here runs are tracked without it")


def _ingestion_path(node: dict[str, Any], trigger: dict[str, Any], file: str,
                    notes: Notes) -> None:
    """Codika computes an ingestion webhook's path at deploy; here it is declared."""
    params = _dict(node.get("parameters"))
    path = str(params.get("path") or "")
    slug = next((s for s in (trigger.get("delete_path"), trigger.get("embed_path"))
                 if s and (path.rstrip("'}/ ").endswith(s))), None)
    if slug is None or (not path.startswith("=") and INSTANCE_PATH in path):
        return
    params["path"] = f"{INSTANCE_PATH}/{slug}"
    notes.add(file, f"webhook {node.get('name')!r}: path {path!r} -> "
              f"{params['path']!r} (unique per installation)")


def _timezone(content: dict[str, Any], triggers: list[dict[str, Any]], file: str,
              notes: Notes) -> None:
    """A schedule's timezone is the workflow's own setting here (SCHEDULE-TIMEZONE)."""
    zone = next((t.get("timezone") for t in triggers if t.get("type") == "schedule"), None)
    settings = content.setdefault("settings", {})
    if zone and isinstance(settings, dict) and settings.get("timezone") != zone:
        settings["timezone"] = zone
        notes.add(file, f"settings.timezone set to {zone!r} (the schedule's timezone)")


def _replace(node: dict[str, Any], kind: str, version: float,
             parameters: dict[str, Any]) -> None:
    kept = ("id", "name", "position", "onError", "alwaysOutputData")
    keep: dict[str, Any] = {k: node[k] for k in kept if k in node}
    node.clear()
    node.update({**keep, "type": kind, "typeVersion": version, "parameters": parameters})


def _codika_node(node: dict[str, Any], file: str, notes: Notes) -> None:
    name = node.get("name")
    params = _dict(node.get("parameters"))
    resource, operation = params.get("resource"), params.get("operation")
    if resource == "workflowOutputs" or operation == "submitResult":
        data = params.get("resultData")
        if data is None or (isinstance(data, str) and _WHOLE_JSON.match(data)):
            _replace(node, "n8n-nodes-base.noOp", 1, {})
            notes.add(file, f"node {name!r}: Codika Submit Result -> No Operation (its "
                      "input is the run's result)")
        else:
            _replace(node, "n8n-nodes-base.set", 3.4, {
                "mode": "raw", "jsonOutput": _as_json_expression(data), "options": {}})
            notes.add(file, f"node {name!r}: Codika Submit Result -> Set (outputs "
                      "resultData as the run's result)")
        return
    if resource == "errorHandling" or operation == "reportError":
        error_type = params.get("errorType")
        if error_type not in ERROR_TYPES:
            error_type = "node_failure"
        message = params.get("errorMessage") or "An error occurred"
        _replace(node, "n8n-nodes-base.stopAndError", 1,
                 {"errorMessage": _tagged(str(message), str(error_type))})
        notes.add(file, f"node {name!r}: Codika Report Error -> Stop and Error "
                  f"(error class {error_type})")
        return
    what = "Codika Init" if resource == "initializeExecution" else f"Codika {resource}"
    _replace(node, "n8n-nodes-base.noOp", 1, {})
    notes.add(file, f"node {name!r}: {what} -> No Operation (executions are tracked by "
              "the reconciler)")


def _tagged(message: str, error_type: str) -> str:
    if message.startswith("="):
        return f"=[{error_type}] {message[1:]}"
    return f"[{error_type}] {message}"


def _as_json_expression(data: Any) -> str:
    if isinstance(data, str) and data.startswith("={{") and data.rstrip().endswith("}}"):
        inner = data.strip()[3:-2].strip()
        return "={{ JSON.stringify(" + inner + ") }}"
    return json.dumps(data) if not isinstance(data, str) else data


def _webhook(node: dict[str, Any], file: str, notes: Notes) -> None:
    params, creds = _dict(node.get("parameters")), _dict(node.get("credentials"))
    header = _dict(creds.get("httpHeaderAuth"))
    # Also when `authentication` was dropped by hand: the credential is then dead
    # weight that names an organization secret where a credential id belongs.
    if header.get("id") == STANDARD_AUTH and params.get("authentication") in (
            "headerAuth", None):
        params.pop("authentication", None)
        del creds["httpHeaderAuth"]
        if not creds:
            node.pop("credentials", None)
        notes.add(file, f"webhook {node.get('name')!r}: Codika's standard header "
                  "credential removed (the URL holds the installation's uid; see "
                  "WEBHOOK-AUTH)")

"""Reading one n8n execution (GET /executions/{id}?includeData=true): pure functions.

Facts relied on (n8n 2.41.1): `data.resultData.lastNodeExecuted` names the node that
ran last, the failing one on error; `runData[node][i].error` holds that node's
error (`name`, `message`, `httpCode` for HTTP errors); a sub-workflow call records
`metadata.subExecution {executionId, workflowId}` when it succeeds and puts those
two fields on the error when the sub-workflow failed; chat-model sub-nodes write
`data.ai_languageModel[0][0].json.tokenUsage` (or `tokenUsageEstimate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LINK_HEADER = "x-reconciler-execution-id"
LINK_FIELD = "_reconciler_execution_id"
ERROR_CLASSES = ("node_failure", "timeout", "validation_error", "external_api_error",
                 "not_started")
_FINAL_FAILED = frozenset({"error", "crashed", "canceled"})
_API_ERRORS = frozenset({"NodeApiError"})
_CLASS_TAG = re.compile(r"^\[(node_failure|timeout|validation_error|external_api_error)\]")


@dataclass(frozen=True)
class SubRef:
    node: str
    execution_id: str
    workflow_id: str | None


@dataclass(frozen=True)
class Usage:
    node: str
    model: str
    prompt: int
    completion: int
    total: int


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def result_data(execution: dict[str, Any]) -> dict[str, Any]:
    return _d(_d(execution.get("data")).get("resultData"))


def run_data(execution: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found = _d(result_data(execution).get("runData"))
    return {str(k): [_d(r) for r in _l(v)] for k, v in found.items()}


def _items(run: dict[str, Any], kind: str = "main") -> list[dict[str, Any]]:
    return [_d(item) for output in _l(_d(run.get("data")).get(kind)) for item in _l(output)]


def link_id(execution: dict[str, Any]) -> str | None:
    """The reconciler execution id a trigger passed in (header or body), if any."""
    for runs in run_data(execution).values():
        for item in _items(runs[0]) if runs else []:
            data = _d(item.get("json"))
            for found in (_d(data.get("headers")).get(LINK_HEADER),
                          _d(data.get("body")).get(LINK_FIELD),
                          _d(data.get("query")).get(LINK_FIELD)):
                if isinstance(found, str) and found:
                    return found
    return None


def status(execution: dict[str, Any]) -> str:
    value = str(execution.get("status") or "")
    if value == "success":
        return "success"
    if value in _FINAL_FAILED:
        return "failed"
    return "pending"  # new, running, waiting


def node_errors(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each node whose latest run failed, with that run's error."""
    return {node: _d(runs[-1].get("error")) for node, runs in run_data(execution).items()
            if runs and runs[-1].get("error")}


def failed_node(execution: dict[str, Any]) -> str | None:
    if status(execution) != "failed":
        return None
    last = result_data(execution).get("lastNodeExecuted")
    errors = node_errors(execution)
    if isinstance(last, str) and last in errors:
        return last
    node = _d(_d(result_data(execution).get("error")).get("node")).get("name")
    if isinstance(node, str):
        return node
    return next(iter(errors), None) or (last if isinstance(last, str) else None)


def last_successful_node(execution: dict[str, Any]) -> str | None:
    """The node whose latest successful run started last."""
    best: tuple[float, int, str] | None = None
    for node, runs in run_data(execution).items():
        for run in runs:
            if run.get("error") or run.get("executionStatus") == "error":
                continue
            key = (float(run.get("startTime") or 0), int(run.get("executionIndex") or 0), node)
            if best is None or key > best:
                best = key
    return best[2] if best else None


def main_error(execution: dict[str, Any]) -> dict[str, Any]:
    error = _d(result_data(execution).get("error"))
    node = failed_node(execution)
    if node is not None and not error.get("name"):
        own = node_errors(execution).get(node, {})
        error = {**own, **{k: v for k, v in error.items() if v}}
    return error


def classify(execution: dict[str, Any]) -> str | None:
    """node_failure | timeout | validation_error | external_api_error (None: not failed)."""
    if status(execution) != "failed":
        return None
    errors = [main_error(execution), *node_errors(execution).values()]
    # A Stop and Error message may name its class first (`[validation_error] ...`), as
    # workflows imported from the reference platform do for their Report Error nodes.
    for e in errors:
        tag = _CLASS_TAG.match(str(e.get("message") or ""))
        if tag:
            return tag.group(1)
    text = " ".join(str(e.get("message") or "") for e in errors).lower()
    if execution.get("status") == "canceled" or "timed out" in text or "timeout" in text:
        return "timeout"
    if any(e.get("name") in _API_ERRORS or e.get("httpCode") for e in errors):
        return "external_api_error"
    if any("validation" in str(e.get("name") or "").lower()
           or str(e.get("message") or "").startswith("Invalid input") for e in errors):
        return "validation_error"
    return "node_failure"


def sub_executions(execution: dict[str, Any]) -> list[SubRef]:
    found: dict[str, SubRef] = {}
    for node, runs in run_data(execution).items():
        for run in runs:
            for ref in (_d(_d(run.get("metadata")).get("subExecution")), _d(run.get("error"))):
                exec_id = ref.get("executionId")
                if exec_id is not None and str(exec_id) not in found:
                    wf = ref.get("workflowId")
                    found[str(exec_id)] = SubRef(node, str(exec_id), str(wf) if wf else None)
    return list(found.values())


def _model_of(node: str, run: dict[str, Any], nodes: dict[str, dict[str, Any]]) -> str:
    for item in _items({"data": run.get("inputOverride")}, "ai_languageModel"):
        options = _d(_d(item.get("json")).get("options"))
        for key in ("model", "modelName", "model_name"):
            if isinstance(options.get(key), str):
                return str(options[key])
    params = _d(nodes.get(node, {}).get("parameters"))
    for key in ("model", "modelName"):
        value = params.get(key)
        if isinstance(value, dict):
            value = value.get("value")
        if isinstance(value, str) and value:
            return value
    return "unknown"


def token_usage(execution: dict[str, Any]) -> list[Usage]:
    nodes = {str(n.get("name")): _d(n)
             for n in _l(_d(execution.get("workflowData")).get("nodes")) if isinstance(n, dict)}
    found: list[Usage] = []
    for node, runs in run_data(execution).items():
        for run in runs:
            for item in _items(run, "ai_languageModel"):
                data = _d(item.get("json"))
                usage = _d(data.get("tokenUsage") or data.get("tokenUsageEstimate"))
                if not usage:
                    continue
                prompt = int(usage.get("promptTokens") or 0)
                completion = int(usage.get("completionTokens") or 0)
                total = int(usage.get("totalTokens") or prompt + completion)
                found.append(Usage(node, _model_of(node, run, nodes), prompt, completion,
                                   total))
    return found


def output(execution: dict[str, Any]) -> list[Any]:
    """The JSON items of the last node's latest run (the workflow's answer)."""
    last = result_data(execution).get("lastNodeExecuted")
    runs = run_data(execution).get(str(last), []) if last else []
    return [item.get("json") for item in _items(runs[-1])] if runs else []


def _ms(value: Any) -> float | None:
    parsed = parse_time(value)
    return parsed.timestamp() * 1000 if parsed is not None else None


def duration_ms(execution: dict[str, Any]) -> int | None:
    start, stop = _ms(execution.get("startedAt")), _ms(execution.get("stoppedAt"))
    return int(stop - start) if start is not None and stop is not None else None


def public_error(error: dict[str, Any], *, slim: bool) -> dict[str, Any] | None:
    """What an agent needs of an n8n error; the stack only when not slim."""
    if not error:
        return None
    keep = ("name", "message", "description", "httpCode")
    out = {k: error[k] for k in keep if error.get(k) not in (None, "")}
    if not slim and isinstance(error.get("stack"), str):
        out["stack"] = error["stack"]
    return out


def slim_runs(runs: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """runData without item bodies: timings, status, errors and item counts per output."""
    out: dict[str, list[dict[str, Any]]] = {}
    for node, node_runs in runs.items():
        out[node] = [{
            "startTime": run.get("startTime"),
            "executionTime": run.get("executionTime"),
            "executionStatus": run.get("executionStatus"),
            "error": public_error(_d(run.get("error")), slim=True),
            "items": {kind: [len(_l(o)) for o in _l(outputs)]
                      for kind, outputs in _d(run.get("data")).items()},
        } for run in node_runs]
    return out


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None

"""Pure parts of the API: UUIDv7, execution analysis, prices, payloads, the spec file."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from reconciler.api import analysis, payloads
from reconciler.api.executions import Tree, token_totals
from reconciler.api.openapi import text as openapi_text
from reconciler.api.prices import PriceTable, load_prices
from reconciler.api.uuid7 import timestamp_ms, uuid7
from reconciler.errors import PermanentError
from reconciler.render.error_workflow import error_workflow_body, org_token, token_matches

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_openapi_spec_file_is_current() -> None:
    # Regenerate with: .venv/bin/python -m reconciler.api.openapi > docs/openapi.json
    assert (DOCS / "openapi.json").read_text(encoding="utf-8") == openapi_text()


def test_uuid7_is_version_7_and_strictly_increasing() -> None:
    ids = [uuid7() for _ in range(5000)]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert ids == sorted(ids, key=lambda u: u.int) and len(set(ids)) == len(ids)
    assert [str(u) for u in ids] == sorted(str(u) for u in ids)  # text sorts as well
    assert timestamp_ms(uuid7(1_700_000_000_000)) >= 1_700_000_000_000


def run(node: str, **extra: Any) -> dict[str, Any]:
    return {"startTime": extra.pop("start", 0), "executionStatus": "success", **extra}


def ai_run(prompt: int, completion: int) -> dict[str, Any]:
    usage = {"promptTokens": prompt, "completionTokens": completion,
             "totalTokens": prompt + completion}
    return run("m", data={"ai_languageModel": [[{"json": {"tokenUsage": usage}}]]},
               inputOverride={"ai_languageModel": [[{"json": {"options": {
                   "model": "claude-sonnet-4-5-20250929"}}}]]})


def execution(status: str, run_data: dict[str, Any], **result: Any) -> dict[str, Any]:
    return {"id": "7", "status": status, "startedAt": "2026-01-01T00:00:00.000Z",
            "stoppedAt": "2026-01-01T00:00:01.250Z",
            "data": {"resultData": {"runData": run_data, **result}}}


def test_failed_node_last_good_node_and_class() -> None:
    http_error = {"name": "NodeApiError", "message": "Bad gateway", "httpCode": "502"}
    ex = execution("error", {
        "Hook": [run("Hook", start=1)],
        "Prepare": [run("Prepare", start=2)],
        "Call API": [run("Call API", start=3, error=http_error, executionStatus="error")],
    }, lastNodeExecuted="Call API", error={"message": "Bad gateway"})
    assert analysis.status(ex) == "failed"
    assert analysis.failed_node(ex) == "Call API"
    assert analysis.last_successful_node(ex) == "Prepare"
    assert analysis.classify(ex) == "external_api_error"
    assert analysis.duration_ms(ex) == 1250


@pytest.mark.parametrize(("error", "expected"), [
    ({"name": "Error", "message": "boom"}, "node_failure"),
    ({"name": "NodeOperationError", "message": "Execution timed out"}, "timeout"),
    ({"name": "ExpressionError", "message": "Invalid input for 'x' [item 0]"},
     "validation_error"),
])
def test_error_classes(error: dict[str, Any], expected: str) -> None:
    ex = execution("error", {"N": [run("N", error=error)]}, lastNodeExecuted="N", error=error)
    assert analysis.classify(ex) == expected


def test_tokens_and_cost_with_a_configured_price_table(tmp_path: Path) -> None:
    ex = execution("success", {"Claude": [ai_run(1000, 500), ai_run(10, 0)]})
    prices = tmp_path / "prices.yaml"
    prices.write_text("claude-sonnet-4-5: {input: 2, output: 10}\n", encoding="utf-8")
    table = load_prices({"RECONCILER_PRICES": str(prices)})
    tokens, cost = token_totals(Tree(ex), table)
    assert (tokens["prompt"], tokens["completion"], tokens["total"]) == (1010, 500, 1510)
    assert cost == pytest.approx((1010 * 2 + 500 * 10) / 1e6)
    default, _ = token_totals(Tree(ex), load_prices({}))
    assert default["models"]["claude-sonnet-4-5-20250929"]["cost"] == pytest.approx(
        (1010 * 3 + 500 * 15) / 1e6)
    assert PriceTable({}).cost("unknown-model", 1, 1) is None


def test_bad_price_file_is_named_not_dumped(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"m": {"input": "x"}}), encoding="utf-8")
    with pytest.raises(PermanentError, match="needs numeric"):
        load_prices({"RECONCILER_PRICES": str(bad)})


def test_link_id_from_header_or_body_and_sub_executions() -> None:
    hook = run("Hook", data={"main": [[{"json": {"headers": {analysis.LINK_HEADER: "abc"},
                                                  "body": {}}}]]})
    call = run("Call", metadata={"subExecution": {"executionId": "9", "workflowId": "w"}})
    failed_call = run("Call2", error={"executionId": "10", "workflowId": "v", "message": "x"})
    ex = execution("success", {"Hook": [hook], "Call": [call], "Call2": [failed_call]})
    assert analysis.link_id(ex) == "abc"
    refs = analysis.sub_executions(ex)
    assert [(r.node, r.execution_id) for r in refs] == [("Call", "9"), ("Call2", "10")]


def test_slim_keeps_counts_and_drops_bodies() -> None:
    runs = {"N": [run("N", data={"main": [[{"json": {"secret": "s"}}, {"json": {}}]]})]}
    slim = analysis.slim_runs(runs)
    assert slim["N"][0]["items"] == {"main": [2]} and "secret" not in json.dumps(slim)


def test_payload_problems_name_fields_not_values() -> None:
    schema = {"company": {"type": "string", "required": True},
              "size": {"type": "number"}, "tier": {"type": "select",
                                                   "options": [{"value": "a"}]}}
    assert payloads.problems(schema, {"company": "x", "size": 3, "tier": "a"}) == []
    found = payloads.problems(schema, {"size": "SECRET", "tier": "b"})
    assert found == ["'company' is required", "'size' must be a number", "'tier' must be a select"]
    assert payloads.problems(schema, [1]) == ["the payload must be a JSON object"]


def test_error_workflow_body_keeps_the_token_in_a_credential() -> None:
    body = error_workflow_body("acme", "http://127.0.0.1:1/api/v1/internal/errors/acme",
                               credential_id="c1")
    assert [n["type"] for n in body["nodes"]] == ["n8n-nodes-base.errorTrigger",
                                                 "n8n-nodes-base.httpRequest"]
    token = org_token(b"k" * 32, "acme")
    assert token not in json.dumps(body)
    assert token_matches(b"k" * 32, "acme", token)
    assert not token_matches(b"k" * 32, "globex", token)

"""Triggers and execution records against a real n8n."""

from __future__ import annotations

import time
import uuid

import pytest

from reconciler.api.uuid7 import timestamp_ms
from tests.api.conftest import OWNER_DEV, Api

pytestmark = pytest.mark.n8n


def headers(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_trigger_and_wait_gives_success_with_output(api: Api) -> None:
    key = api.key(OWNER_DEV)
    before = int(time.time() * 1000)
    answer = api.http.post("/api/v1/workflows/echo/trigger?wait=true",
                           json={"message": "hello"}, headers=headers(key))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    record = body["execution"]
    assert record["status"] == "success"
    assert body["response"] == {"echo": "hello", "n": 42}
    assert uuid.UUID(record["id"]).version == 7
    assert abs(timestamp_ms(uuid.UUID(record["id"])) - before) < 10_000
    assert record["n8n_execution_id"] and record["duration_ms"] is not None
    assert record["last_node"] == "Build reply" and record["failed_node"] is None
    detail = api.http.get(f"/api/v1/executions/{record['id']}", headers=headers(key)).json()
    assert detail["run"]["output"] == [{"echo": "hello", "n": 42}]
    assert detail["run"]["run_data"]["Build reply"][0]["data"]["main"][0][0]["json"]["n"] == 42
    slim = api.http.get(f"/api/v1/executions/{record['id']}?slim=true",
                        headers=headers(key)).json()
    assert slim["run"]["run_data"]["Build reply"][0]["items"] == {"main": [1]}
    assert "hello" not in str(slim["run"]["run_data"])


def test_trigger_without_wait_is_pending_then_resolved(api: Api) -> None:
    key = api.key(OWNER_DEV)
    answer = api.http.post("/api/v1/workflows/echo/trigger", json={"message": "later"},
                           headers=headers(key))
    assert answer.status_code in (200, 202), answer.text
    record_id = answer.json()["execution"]["id"]
    deadline = time.monotonic() + 20
    while True:
        found = api.http.get("/api/v1/executions", headers=headers(key)).json()["data"]
        mine = next(r for r in found if r["id"] == record_id)
        if mine["status"] != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert mine["status"] == "success"
    listed = api.http.get("/api/v1/executions?status=success&workflow_id=echo",
                          headers=headers(key)).json()["data"]
    assert [r["id"] for r in listed] == [record_id]


def test_failing_node_is_recorded_with_node_and_class(api: Api) -> None:
    key = api.key(OWNER_DEV)
    answer = api.http.post("/api/v1/workflows/fail/trigger?wait=true", json={},
                           headers=headers(key))
    assert answer.status_code == 200, answer.text
    record = answer.json()["execution"]
    assert record["status"] == "failed"
    assert (record["failed_node"], record["last_node"]) == ("Explode", "Fail request")
    assert record["error_class"] == "node_failure"
    detail = api.http.get(f"/api/v1/executions/{record['id']}", headers=headers(key)).json()
    assert detail["run"]["error"]["message"].startswith("boom")


def test_payload_not_matching_the_input_schema_is_a_validation_error(api: Api) -> None:
    key = api.key(OWNER_DEV)
    answer = api.http.post("/api/v1/workflows/echo/trigger", json={"message": 3},
                           headers=headers(key))
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail["code"] == "validation_error" and "'message'" in detail["message"]
    record = api.http.get(f"/api/v1/executions/{detail['execution_id']}",
                          headers=headers(key)).json()["execution"]
    assert (record["status"], record["error_class"]) == ("failed", "validation_error")


def test_unknown_and_untriggerable_workflows(api: Api) -> None:
    key = api.key(OWNER_DEV)
    missing = api.http.post("/api/v1/workflows/nope/trigger", json={}, headers=headers(key))
    assert (missing.status_code, missing.json()["detail"]["code"]) == (404, "not_found")

"""A sub-workflow failure traced with ?deep=true: lead enrichment's main calls
score-lead, which calls summarize, which fails at the AI call (fake key, offline)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api

pytestmark = pytest.mark.n8n

INSTANCE = "lead-enrichment.owner-dev"


def chain(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [run, *(r for child in run["children"] for r in chain(child))]


def test_deep_trace_reaches_the_failed_ai_call(api: Api) -> None:
    key = api.key(INSTANCE)  # the fixture has deployed the example as it is
    answer = api.http.post("/api/v1/workflows/main/trigger?wait=true&timeout=60",
                           json={"company": "Initech"}, headers={"X-API-Key": key})
    assert answer.status_code == 200, answer.text
    record = answer.json()["execution"]
    assert record["status"] == "failed"
    assert record["failed_node"] == "Score lead"
    assert record["last_node"] == "Prepare lead"
    assert record["error_class"] == "external_api_error"  # the model call, two levels down
    shallow = api.http.get(f"/api/v1/executions/{record['id']}",
                           headers={"X-API-Key": key}).json()["run"]
    assert shallow["children"] == []
    assert [s["node"] for s in shallow["sub_executions"]] == ["Score lead"]
    deep = api.http.get(f"/api/v1/executions/{record['id']}?deep=true&slim=true",
                        headers={"X-API-Key": key}).json()["run"]
    runs = chain(deep)
    assert [r["workflow_id"] for r in runs] == ["main", "score-lead", "summarize"]
    assert [r["failed_node"] for r in runs] == ["Score lead", "Summarize company", "Summarize"]
    leaf = runs[-1]
    assert leaf["status"] == "failed" and leaf["called_from_node"] == "Summarize company"
    assert leaf["run_data"]["Claude"][0]["error"]["name"] == "NodeApiError"
    assert leaf["error_class"] == "external_api_error"

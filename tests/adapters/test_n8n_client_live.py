"""N8nClient against a real n8n 2.41.1 (the session's `n8n_server`)."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.adapters.n8n_client import N8nClient
from reconciler.adapters.n8n_server import ServerInfo
from reconciler.errors import N8nBadRequest, N8nConflict, N8nNotFound, N8nUnauthorized

pytestmark = pytest.mark.n8n


def _id() -> str:
    return str(uuid.uuid4())


def webhook_node(path: str, response_mode: str = "onReceived") -> dict[str, Any]:
    return {
        "id": _id(), "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
        "position": [0, 0], "webhookId": _id(),
        "parameters": {"path": path, "httpMethod": "POST", "responseMode": response_mode,
                       "options": {}},
    }


def set_node(name: str, field: str, value: str, x: int = 220) -> dict[str, Any]:
    return {
        "id": _id(), "name": name, "type": "n8n-nodes-base.set", "typeVersion": 3.4,
        "position": [x, 0],
        "parameters": {
            "assignments": {"assignments": [
                {"id": _id(), "name": field, "value": value, "type": "string"},
            ]},
            "options": {},
        },
    }


def link(*names: str) -> dict[str, Any]:
    return {
        a: {"main": [[{"node": b, "type": "main", "index": 0}]]}
        for a, b in itertools.pairwise(names)
    }


def hook_workflow(name: str, path: str, answer: str = "one") -> dict[str, Any]:
    return {
        "name": name,
        "nodes": [webhook_node(path, "lastNode"), set_node("Answer", "answer", answer)],
        "connections": link("Webhook", "Answer"),
        "settings": {"executionOrder": "v1"},
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll `check` at short intervals until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


@pytest.fixture
def cleanup(n8n_client: N8nClient) -> Any:
    """Collects workflow ids; unpublishes and deletes them after the test."""
    ids: list[str] = []
    yield ids
    for workflow_id in ids:
        try:
            n8n_client.unpublish_workflow(workflow_id)
            n8n_client.delete_workflow(workflow_id)
        except N8nNotFound:
            pass


def test_create_get_list_and_round_trip(n8n_client: N8nClient, cleanup: list[str]) -> None:
    name = unique("crud")
    created = n8n_client.create_workflow(hook_workflow(name, unique("p")))
    cleanup.append(created["id"])
    assert created["name"] == name
    assert created["activeVersionId"] is None

    fetched = n8n_client.get_workflow(created["id"])
    assert fetched["versionId"] == created["versionId"]
    assert [w["id"] for w in n8n_client.list_workflows(name=name)] == [created["id"]]

    # A full GET -> PUT round trip works because read-only fields are stripped.
    fetched["name"] = name + "-renamed"
    fetched["description"] = "set on PUT only"
    updated = n8n_client.update_workflow(created["id"], fetched)
    assert updated["name"] == name + "-renamed"
    assert n8n_client.get_workflow(created["id"])["description"] == "set on PUT only"


def test_publish_update_and_older_versions(n8n_client: N8nClient, cleanup: list[str]) -> None:
    body = hook_workflow(unique("versions"), unique("p"), "v1")
    created = n8n_client.create_workflow(body)
    wf_id = created["id"]
    cleanup.append(wf_id)
    published = n8n_client.publish_workflow(wf_id)
    v1 = published["versionId"]
    assert published["activeVersionId"] == v1
    assert published["active"] is True

    # publishIfActive=false: a new draft, the published version stays.
    body["nodes"][1] = set_node("Answer", "answer", "v2")
    draft = n8n_client.update_workflow(wf_id, body, publish_if_active=False)
    v2 = draft["versionId"]
    assert v2 != v1
    assert n8n_client.get_workflow(wf_id)["activeVersionId"] == v1

    # publishIfActive=true (the default): the new version is published at once.
    body["nodes"][1] = set_node("Answer", "answer", "v3")
    republished = n8n_client.update_workflow(wf_id, body)
    v3 = republished["versionId"]
    assert v3 not in (v1, v2)
    assert n8n_client.get_workflow(wf_id)["activeVersionId"] == v3

    # An older version can be published again.
    n8n_client.publish_workflow(wf_id, v1)
    assert n8n_client.get_workflow(wf_id)["activeVersionId"] == v1

    unpublished = n8n_client.unpublish_workflow(wf_id)
    assert unpublished["activeVersionId"] is None
    assert n8n_client.get_workflow(wf_id)["active"] is False


def test_delete_published_conflicts_archive_then_delete(
    n8n_client: N8nClient, cleanup: list[str]
) -> None:
    created = n8n_client.create_workflow(hook_workflow(unique("del"), unique("p")))
    wf_id = created["id"]
    cleanup.append(wf_id)
    n8n_client.publish_workflow(wf_id)
    with pytest.raises(N8nConflict) as caught:
        n8n_client.delete_workflow(wf_id)
    assert caught.value.status == 409
    assert f"DELETE /api/v1/workflows/{wf_id}" in str(caught.value)

    archived = n8n_client.archive_workflow(wf_id)
    assert archived["isArchived"] is True
    assert archived["activeVersionId"] is None  # archiving unpublishes
    restored = n8n_client.unarchive_workflow(wf_id)
    assert restored["isArchived"] is False
    n8n_client.archive_workflow(wf_id)
    n8n_client.delete_workflow(wf_id)
    with pytest.raises(N8nNotFound):
        n8n_client.get_workflow(wf_id)


def test_sub_workflow_publish_order(n8n_client: N8nClient, cleanup: list[str]) -> None:
    callee = n8n_client.create_workflow({
        "name": unique("callee"),
        "nodes": [
            {"id": _id(), "name": "Start", "type": "n8n-nodes-base.executeWorkflowTrigger",
             "typeVersion": 1.1, "position": [0, 0], "parameters": {"inputSource": "passthrough"}},
            set_node("Mark", "from", "callee"),
        ],
        "connections": link("Start", "Mark"),
        "settings": {"executionOrder": "v1"},
    })
    cleanup.append(callee["id"])
    path = unique("parent")
    parent = n8n_client.create_workflow({
        "name": unique("parent"),
        "nodes": [
            webhook_node(path, "lastNode"),
            {"id": _id(), "name": "Call", "type": "n8n-nodes-base.executeWorkflow",
             "typeVersion": 1.2, "position": [220, 0],
             "parameters": {
                 "workflowId": {"__rl": True, "mode": "id", "value": callee["id"]},
                 "options": {},
             }},
        ],
        "connections": link("Webhook", "Call"),
        "settings": {"executionOrder": "v1"},
    })
    cleanup.insert(0, parent["id"])  # the parent is unpublished first

    # Wrong order: the callee is not published yet.
    with pytest.raises(N8nBadRequest) as caught:
        n8n_client.publish_workflow(parent["id"])
    assert "not published" in str(caught.value)

    # Right order.
    n8n_client.publish_workflow(callee["id"])
    n8n_client.publish_workflow(parent["id"])
    n8n_client.wait_for_webhook(path)
    answer = httpx.post(f"{n8n_client.base_url}/webhook/{path}", json={"x": 1}, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["from"] == "callee"


def test_webhook_answers_after_publish_and_execution_is_listed(
    n8n_client: N8nClient, n8n_server: ServerInfo, cleanup: list[str]
) -> None:
    path = unique("hook")
    created = n8n_client.create_workflow(hook_workflow(unique("hook"), path, "hello"))
    wf_id = created["id"]
    cleanup.append(wf_id)
    url = f"{n8n_server.url}/webhook/{path}"
    assert httpx.post(url, timeout=10).status_code == 404  # not published yet

    n8n_client.publish_workflow(wf_id)
    n8n_client.wait_for_webhook(path, "POST", timeout=15)
    # The probe itself never runs the workflow...
    assert n8n_client.list_executions(workflow_id=wf_id) == []
    # ... and right after it returns, the real call is served (no sleep in between).
    answer = httpx.post(url, json={"q": 1}, timeout=30)
    assert answer.status_code == 200
    assert answer.json() == {"answer": "hello"}

    executions = eventually(lambda: n8n_client.list_executions(workflow_id=wf_id))
    assert len(executions) == 1
    assert executions[0]["workflowId"] == wf_id
    assert "data" not in executions[0] or not executions[0]["data"]
    full = n8n_client.get_execution(str(executions[0]["id"]))
    assert full["data"]["resultData"]["lastNodeExecuted"] == "Answer"
    assert n8n_client.list_executions(workflow_id=wf_id, status="success", limit=5)

    n8n_client.unpublish_workflow(wf_id)
    eventually(lambda: httpx.post(url, timeout=10).status_code == 404)


def test_wait_for_webhook_times_out_for_unknown_path(n8n_client: N8nClient) -> None:
    from reconciler.errors import N8nTemporary

    started = time.monotonic()
    with pytest.raises(N8nTemporary, match="not registered"):
        n8n_client.wait_for_webhook(unique("never"), timeout=1.0)
    assert time.monotonic() - started < 5


def test_tags(n8n_client: N8nClient, cleanup: list[str]) -> None:
    name = unique("tag")
    tag = n8n_client.ensure_tag(name)
    assert n8n_client.ensure_tag(name)["id"] == tag["id"]
    with pytest.raises(N8nConflict):
        n8n_client.create_tag(name)
    assert name in {t["name"] for t in n8n_client.list_tags()}

    created = n8n_client.create_workflow(hook_workflow(unique("tagged"), unique("p")))
    cleanup.append(created["id"])
    assert n8n_client.get_workflow_tags(created["id"]) == []
    after = n8n_client.set_workflow_tags(created["id"], [tag["id"]])
    assert [t["id"] for t in after] == [tag["id"]]
    assert [w["id"] for w in n8n_client.list_workflows(tags=name)] == [created["id"]]
    assert n8n_client.set_workflow_tags(created["id"], []) == []


def test_credentials(n8n_client: N8nClient) -> None:
    schema = n8n_client.credential_schema("httpHeaderAuth")
    assert {"name", "value"} <= set(schema["properties"])

    name = unique("cred")
    created = n8n_client.create_credential(
        name, "httpHeaderAuth", {"name": "X-Token", "value": "first-secret"}
    )
    cred_id = created["id"]
    assert created["type"] == "httpHeaderAuth"
    assert "data" not in created  # the API never returns secrets
    listed = {c["id"]: c for c in n8n_client.list_credentials()}
    assert listed[cred_id]["name"] == name

    renamed = n8n_client.patch_credential(cred_id, name=name + "-2")
    assert renamed["name"] == name + "-2"
    patched = n8n_client.patch_credential(
        cred_id, data={"name": "X-Token", "value": "second-secret"}
    )
    assert patched["id"] == cred_id

    n8n_client.delete_credential(cred_id)
    with pytest.raises(N8nNotFound):
        n8n_client.delete_credential(cred_id)
    assert cred_id not in {c["id"] for c in n8n_client.list_credentials()}


def test_errors_are_translated(n8n_client: N8nClient, n8n_server: ServerInfo) -> None:
    with pytest.raises(N8nBadRequest) as bad:
        n8n_client.create_workflow({"name": "broken", "nodes": "not a list", "connections": {}})
    assert bad.value.status == 400
    assert "POST /api/v1/workflows" in str(bad.value)
    assert "nodes" in str(bad.value)

    with pytest.raises(N8nNotFound):
        n8n_client.get_workflow("doesNotExist0000")

    with N8nClient(n8n_server.url, "wrong-key") as wrong, pytest.raises(N8nUnauthorized) as nope:
        wrong.list_workflows()
    assert nope.value.status == 401
    assert "wrong-key" not in str(nope.value)
    assert n8n_server.api_key not in str(nope.value)

    name = unique("dup")
    n8n_client.create_tag(name)
    with pytest.raises(N8nConflict):
        n8n_client.create_tag(name)


def test_counter_counts_real_requests(n8n_client: N8nClient, cleanup: list[str]) -> None:
    assert n8n_client.counter.snapshot() == {"reads": 0, "writes": 0}
    created = n8n_client.create_workflow(hook_workflow(unique("count"), unique("p")))
    cleanup.append(created["id"])
    n8n_client.get_workflow(created["id"])
    n8n_client.get_workflow(created["id"])
    assert n8n_client.counter.snapshot() == {"reads": 2, "writes": 1}
    n8n_client.counter.reset()
    assert n8n_client.counter.snapshot() == {"reads": 0, "writes": 0}

"""normalize_for_compare and content_hash: a no-change round trip hashes the same."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.render import content_hash, normalize_for_compare
from reconciler.render.settings import compared_settings

SENT: dict[str, Any] = {
    "name": "probe",
    "nodes": [
        {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2.0,
         "position": [0, 0.0],
         "parameters": {"path": "probe-x", "httpMethod": "POST", "authentication": "headerAuth"},
         "credentials": {"httpHeaderAuth": {"id": "CRED1", "name": "name we sent"}}},
        {"id": "11111111-2222-3333-4444-555555555555", "name": "Set",
         "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
         "parameters": {"big": 9007199254740993, "f": 1e21, "u": "é\u2028\u0001"}},
        {"name": "Call", "type": "n8n-nodes-base.executeWorkflow", "typeVersion": 1.2,
         "position": [400, 0], "retryOnFail": True, "notes": "n",
         "parameters": {"workflowId": {"__rl": True, "mode": "id", "value": "abc"}}},
    ],
    "connections": {"Webhook": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}},
    "settings": {"executionOrder": "v1"},
}

# What n8n 2.41.1 returned for SENT (GET /workflows/{id}), trimmed of unowned fields
# except a few to show they are ignored: node ids and webhookId added, the credential
# name replaced by the stored one, 2.0 written 2, 2**53 + 1 rounded, keys reordered.
RECEIVED: dict[str, Any] = {
    "id": "61HuB4z8l5u92I7X", "active": False, "versionId": "v-1", "meta": None,
    "tags": [], "pinData": {}, "staticData": None, "isArchived": False,
    "name": "probe",
    "nodes": [
        {"name": "Call", "notes": "n", "type": "n8n-nodes-base.executeWorkflow",
         "typeVersion": 1.2, "retryOnFail": True, "position": [400, 0],
         "parameters": {"workflowId": {"__rl": True, "mode": "id", "value": "abc"}},
         "id": "40211872-dd27-40ca-b496-e8bd3ab30171"},
        {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
         "position": [0, 0],
         "parameters": {"path": "probe-x", "httpMethod": "POST", "authentication": "headerAuth"},
         "credentials": {"httpHeaderAuth": {"id": "CRED1", "name": "probe header"}},
         "id": "20840875-df79-4a53-b485-588c23c23175",
         "webhookId": "49364d54-3f70-4e4a-bf4a-01f0a919af97"},
        {"id": "11111111-2222-3333-4444-555555555555", "name": "Set",
         "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
         "parameters": {"big": 9007199254740992, "f": 1e21, "u": "é\u2028\u0001"}},
    ],
    "connections": {"Webhook": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}},
    "settings": {"executionOrder": "v1"},
}


def test_round_trip_without_change_hashes_the_same() -> None:
    assert normalize_for_compare(SENT) == normalize_for_compare(RECEIVED)
    assert content_hash(SENT) == content_hash(RECEIVED)
    assert content_hash(SENT, ignore_positions=False) == \
        content_hash(RECEIVED, ignore_positions=False)


def test_normal_form() -> None:
    normal = normalize_for_compare(RECEIVED)
    assert list(normal) == ["name", "nodes", "connections", "settings"]
    assert [n["name"] for n in normal["nodes"]] == ["Call", "Set", "Webhook"]
    for node in normal["nodes"]:
        assert "id" not in node and "webhookId" not in node and "position" not in node
    assert normal["nodes"][2]["credentials"] == {"httpHeaderAuth": {"id": "CRED1"}}
    assert "position" in normalize_for_compare(RECEIVED, ignore_positions=False)["nodes"][0]


def _changed(edit: Any) -> dict[str, Any]:
    other = copy.deepcopy(RECEIVED)
    edit(other)
    return other


@pytest.mark.parametrize("edit", [
    lambda w: w["nodes"][0].update(disabled=True),
    lambda w: w["nodes"][1]["parameters"].update(path="other"),
    lambda w: w["nodes"][1]["credentials"]["httpHeaderAuth"].update(id="CRED2"),
    lambda w: w["nodes"][2].update(typeVersion=3.5),
    lambda w: w["nodes"].pop(),
    lambda w: w.update(name="renamed"),
    lambda w: w["connections"].clear(),
    lambda w: w["settings"].update(executionOrder="v0"),
    lambda w: w["settings"].update(callerPolicy="any"),
    lambda w: w["nodes"][2]["parameters"].update(f=1.5),
], ids=["disabled", "parameter", "credential-id", "typeVersion", "node-removed", "name",
        "connections", "setting-changed", "setting-added", "number"])
def test_owned_changes_change_the_hash(edit: Any) -> None:
    assert content_hash(_changed(edit)) != content_hash(RECEIVED)


@pytest.mark.parametrize("edit", [
    lambda w: w["nodes"][0].update(position=[999, 999]),
    lambda w: w["nodes"][0].update(id="new-id"),
    lambda w: w["nodes"][1]["credentials"]["httpHeaderAuth"].update(name="renamed"),
    lambda w: w.update(versionId="v-2", active=True, tags=[{"name": "t"}]),
    lambda w: w["settings"].update(notAnAllowedKey=1),
    lambda w: w["nodes"].reverse(),
], ids=["position", "node-id", "credential-name", "unowned", "unknown-setting", "order"])
def test_ignored_changes_keep_the_hash(edit: Any) -> None:
    assert content_hash(_changed(edit)) == content_hash(RECEIVED)


def test_positions_count_when_asked() -> None:
    moved = _changed(lambda w: w["nodes"][0].update(position=[999, 999]))
    assert content_hash(moved, ignore_positions=False) != \
        content_hash(RECEIVED, ignore_positions=False)


def test_hash_is_hex_sha256_and_tolerates_missing_fields() -> None:
    digest = content_hash({})
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert normalize_for_compare({}) == {"name": None, "nodes": [], "connections": {},
                                         "settings": compared_settings({})}


@pytest.mark.n8n
def test_live_round_trip_hashes_the_same(n8n_server: Any) -> None:
    import httpx

    client = httpx.Client(base_url=n8n_server.url.rstrip("/") + "/api/v1",
                          headers={"X-N8N-API-KEY": n8n_server.api_key}, timeout=30)
    sent = copy.deepcopy(SENT)
    sent["name"] = "render-normalize-round-trip"
    node = sent["nodes"][0]
    node["parameters"] = {"path": "render-normalize-probe", "httpMethod": "POST"}
    del node["credentials"]
    created = client.post("/workflows", json=sent)
    assert created.status_code == 200, created.text
    wid = created.json()["id"]
    try:
        got = client.get(f"/workflows/{wid}").json()
        assert content_hash(got) == content_hash(sent)
        body = {k: got[k] for k in ("name", "nodes", "connections", "settings")}
        assert client.put(f"/workflows/{wid}", json=body).status_code == 200
        again = client.get(f"/workflows/{wid}").json()
        assert content_hash(again) == content_hash(sent)
        # n8n keeps the ids it assigned on create (only key order may change).
        assert again["nodes"] == got["nodes"]
    finally:
        client.delete(f"/workflows/{wid}")

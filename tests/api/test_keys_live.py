"""Keys: isolation between instances, pause and archive revoke, rotation."""

from __future__ import annotations

import hashlib

import pytest

from reconciler.api.keys import KeyExists, UnknownInstance, issue_key
from tests.api.conftest import GLOBEX, OWNER_DEV, Api

pytestmark = pytest.mark.n8n


def h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_a_key_sees_nothing_of_another_instance(api: Api) -> None:
    acme, globex = api.key(OWNER_DEV), api.key(GLOBEX)
    mine = api.http.post("/api/v1/workflows/echo/trigger?wait=true", json={"message": "a"},
                         headers=h(acme)).json()["execution"]
    theirs = api.http.post("/api/v1/workflows/echo/trigger?wait=true", json={"message": "b"},
                           headers=h(globex)).json()["execution"]
    assert (mine["instance_id"], theirs["instance_id"]) == (OWNER_DEV, GLOBEX)
    other = api.http.get(f"/api/v1/executions/{mine['id']}", headers=h(globex))
    assert (other.status_code, other.json()["detail"]["code"]) == (404, "not_found")
    listed = api.http.get("/api/v1/executions", headers=h(globex)).json()["data"]
    assert [r["id"] for r in listed] == [theirs["id"]]
    skills = api.http.get("/api/v1/skills", headers=h(globex)).json()
    assert skills["instance_id"] == GLOBEX
    assert f"/webhook/echo/{GLOBEX}/echo" in skills["data"][0]["trigger"]["webhook_url"]


def test_missing_and_wrong_keys_are_refused(api: Api) -> None:
    key = api.key(OWNER_DEV)
    for sent, code in ((None, "missing_api_key"), ("rk_nope", "invalid_api_key"),
                       (key[:-2] + "xx", "invalid_api_key"), ("x" * 300, "invalid_api_key")):
        answer = api.http.get("/api/v1/executions", headers=h(sent) if sent else {})
        assert (answer.status_code, answer.json()["detail"]["code"]) == (401, code)


def test_only_the_hash_is_stored(api: Api) -> None:
    key = api.key(OWNER_DEV)
    row = api.platform.store.conn.execute(
        "SELECT key_hash FROM api_keys WHERE instance_id=?", (OWNER_DEV,)).fetchone()
    assert row[0] == hashlib.sha256(key.encode()).hexdigest()
    dump = "\n".join(api.platform.store.conn.iterdump())
    assert key not in dump and key.split("_", 2)[2] not in dump


def test_paused_instance_key_is_refused_until_resumed(api: Api) -> None:
    key = api.key(GLOBEX)
    assert api.http.get("/api/v1/executions", headers=h(key)).status_code == 200
    path = "instances/echo-globex.yaml"
    api.platform.edit_text(path, "environment: dev\n", "environment: dev\nactive: false\n")
    assert api.platform.reconcile().outcome == "applied"
    refused = api.http.post("/api/v1/workflows/echo/trigger", json={"message": "x"},
                            headers=h(key))
    assert (refused.status_code, refused.json()["detail"]["code"]) == (403, "instance_inactive")
    assert api.http.get("/api/v1/executions", headers=h(key)).status_code == 403
    api.platform.edit_text(path, "active: false\n", "")
    assert api.platform.reconcile().outcome == "applied"
    assert api.http.get("/api/v1/executions", headers=h(key)).status_code == 200


def test_archived_instance_key_is_refused(api: Api) -> None:
    key = api.key(GLOBEX)
    api.platform.edit_text("instances/echo-globex.yaml", "environment: dev\n",
                           "environment: dev\narchived: true\n")
    assert api.platform.reconcile().outcome == "applied"
    assert api.http.get("/api/v1/skills", headers=h(key)).status_code == 403


def test_rotation_kills_the_old_key(api: Api) -> None:
    old = api.key(OWNER_DEV)
    with pytest.raises(KeyExists):
        api.key(OWNER_DEV)
    new = api.key(OWNER_DEV, rotate=True)
    assert new != old and new.startswith("rk_")
    assert api.http.get("/api/v1/executions", headers=h(old)).status_code == 401
    assert api.http.get("/api/v1/executions", headers=h(new)).status_code == 200
    with pytest.raises(UnknownInstance):
        issue_key(api.platform.store, "no-such-instance")

"""The org error workflow, end to end: n8n reports a scheduled run's failure to the API
served by uvicorn on loopback, and the API records it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.adapters.secrets import hash_key_from
from reconciler.api.routes import create_api_app
from reconciler.render.error_workflow import (
    ORG_TOKEN_HEADER,
    callback_url,
    error_credential,
    error_workflow_body,
)
from tests.api.conftest import OWNER_DEV, Api

pytestmark = pytest.mark.n8n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(api: Api, n8n_server: ServerInfo) -> Iterator[str]:
    """The API on 127.0.0.1 (reachable by n8n), in a thread of this process."""
    app = create_api_app(api.platform.store.path, n8n_server.url, n8n_server.api_key)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def install_error_workflow(api: Api, base: str, org: str) -> str:
    client = api.platform.client
    key = hash_key_from(api.platform.store.path.resolve().parent)
    cred = client.create_credential(**error_credential(org, key))
    body = error_workflow_body(org, callback_url(base, org), credential_id=str(cred["id"]))
    created = str(client.create_workflow(body)["id"])
    client.publish_workflow(created)  # n8n 2.41.1 runs no unpublished error workflow
    return created


def live(api: Api, name: str) -> dict[str, Any]:
    return api.platform.live()[name]


def wait_for_rows(api: Api, sql: str, *args: Any, timeout: float = 45) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = api.platform.store.conn.execute(sql, args).fetchall()
        if rows:
            return rows
        time.sleep(0.5)
    return []


def test_scheduled_failure_is_recorded_through_the_org_error_workflow(
        api: Api, served: str) -> None:
    error_wf = install_error_workflow(api, served, "acme")
    tick = live(api, f"Tick [{OWNER_DEV}/tick]")
    for node in tick["nodes"]:
        if node["type"] == "n8n-nodes-base.scheduleTrigger":
            node["parameters"]["rule"] = {"interval": [{"field": "seconds",
                                                        "secondsInterval": 2}]}
    tick["settings"]["errorWorkflow"] = error_wf
    client = api.platform.client
    client.update_workflow(tick["id"], tick)
    try:
        rows = wait_for_rows(api, "SELECT id FROM executions WHERE workflow_id='tick' AND "
                             "trigger_source='error_workflow'")
    finally:
        client.unpublish_workflow(tick["id"])
    assert rows, "no failure recorded through the error workflow"
    key = api.key(OWNER_DEV)
    found = api.http.get("/api/v1/executions?workflow_id=tick&status=failed",
                         headers={"X-API-Key": key}).json()["data"]
    record = next(r for r in found if r["id"] == rows[0][0])
    assert record["trigger_source"] == "error_workflow"
    assert (record["failed_node"], record["error_class"]) == ("Tick work", "node_failure")
    run = api.http.get(f"/api/v1/executions/{record['id']}",
                       headers={"X-API-Key": key}).json()["run"]
    assert run["mode"] == "trigger" and run["error"]["message"].startswith("tick failed")


def test_api_run_reported_by_the_error_workflow_is_not_recorded_twice(
        api: Api, served: str) -> None:
    error_wf = install_error_workflow(api, served, "acme")
    fail = live(api, f"Fail [{OWNER_DEV}/fail]")
    fail["settings"]["errorWorkflow"] = error_wf
    api.platform.client.update_workflow(fail["id"], fail)
    api.platform.client.wait_for_webhook(f"echo/{OWNER_DEV}/fail")
    key = api.key(OWNER_DEV)
    answer = api.http.post(f"{served}/api/v1/workflows/fail/trigger", json={},
                           headers={"X-API-Key": key})
    record_id = answer.json()["execution"]["id"]
    rows = wait_for_rows(api, "SELECT id FROM executions WHERE id=? AND status='failed'",
                         record_id)
    assert rows
    time.sleep(2)  # the error workflow's report, if any, has arrived by now
    all_rows = api.platform.store.conn.execute(
        "SELECT id, trigger_source FROM executions WHERE workflow_id='fail'").fetchall()
    assert all_rows == [(record_id, "api")]


def test_reports_need_the_org_token_and_an_org_instance(api: Api, served: str) -> None:
    report = {"workflow": {"id": "x", "name": f"Tick [{OWNER_DEV}/tick]"},
              "execution": {"id": "999999", "lastNodeExecuted": "Tick work",
                            "error": {"message": "m"}}}
    url = f"{served}/api/v1/internal/errors/acme"
    assert httpx.post(url, json=report).status_code == 401
    assert httpx.post(url, json=report, headers={ORG_TOKEN_HEADER: "nope"}).status_code == 401
    key = hash_key_from(api.platform.store.path.resolve().parent)
    token = error_credential("acme", key)["data"]["value"]
    globex = httpx.post(f"{served}/api/v1/internal/errors/globex", json=report,
                        headers={ORG_TOKEN_HEADER: error_credential("globex", key)["data"]
                                 ["value"]})
    assert (globex.status_code, globex.json()["detail"]["code"]) == (404, "unknown_workflow")
    ok = httpx.post(url, json=report, headers={ORG_TOKEN_HEADER: token})
    assert ok.status_code == 200 and ok.json()["action"] == "recorded"

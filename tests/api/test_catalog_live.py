"""Install on real n8n: `reconciler install` writes a file that validates, the next
reconcile deploys it, the API's catalogue shows it, `uninstall` archives it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.api.keys import issue_key
from reconciler.api.routes import create_api_app
from tests.conftest import RunCli
from tests.engine.conftest import Platform, platform  # noqa: F401  (the fixture)

pytestmark = pytest.mark.n8n
NEW = "inbox-triage-dave-dev"


def test_install_validates_deploys_and_uninstall_archives(
        platform: Platform, n8n_server: ServerInfo, run_cli: RunCli) -> None:  # noqa: F811
    repo, state = str(platform.repo), str(platform.store.path)
    code, out = run_cli("install", "inbox-triage", "--for", "user:dave", "--env", "dev",
                        "--param", "MAX_EMAILS=5", "--into", repo, "--state", state)
    assert code == 0, out
    assert "gmail (USERCRED): the installing user's own credential" in out
    code, out = run_cli("validate", repo)
    assert code == 0, out
    platform.set_secret("user.dave.gmail", {"clientId": "cid-DAVE", "clientSecret": "cs-D"})
    outcome = platform.reconcile()
    assert outcome.outcome == "applied", outcome.error
    row = platform.instance(NEW)
    assert (row["state"], row["active"], row["owner_user"]) == ("active", 1, "dave")
    ids = {str(r[0]) for r in platform.store.conn.execute(
        "SELECT n8n_id FROM workflow_mappings WHERE instance_id=?", (NEW,))}
    live = {str(w["id"]): w for w in platform.client.list_workflows()}
    assert ids and ids <= set(live)  # deployed...
    assert all(live[i].get("activeVersionId") for i in ids)  # ...and published

    app = create_api_app(platform.store.path, n8n_server.url, n8n_server.api_key)
    with TestClient(app) as http:
        assert http.get("/api/v1/catalog").status_code == 401
        key = issue_key(platform.store, NEW)
        answer = http.get("/api/v1/catalog", headers={"X-API-Key": key})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["for"] == "user:dave"
        found = {e["use_case"]: e for e in body["data"]}
        assert NEW in found["inbox-triage"]["installed"]
        assert found["daily-digest"]["install_as"] == ["org:globex"]

    code, out = run_cli("uninstall", NEW, "--into", repo)
    assert code == 0, out
    outcome = platform.reconcile()
    assert outcome.outcome == "applied", outcome.error
    assert platform.instance(NEW)["state"] == "archived"
    after = {str(w["id"]): w for w in platform.client.list_workflows()}
    assert all(after[i]["isArchived"] and not after[i]["activeVersionId"] for i in ids)

"""Credits on real n8n: debits once per execution (retries, races, kills), 402 and
over_quota on exhaustion, the next period or a plan change brings instances back."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.api.keys import issue_key
from reconciler.api.routes import create_api_app
from reconciler.api.service import ApiContext, Service
from reconciler.store import ledger
from tests.api import echo_case
from tests.api.conftest import OWNER_DEV
from tests.engine.conftest import Platform, platform  # noqa: F401  (the fixture)

pytestmark = pytest.mark.n8n
ROOT = Path(__file__).resolve().parents[2]
COST = 40
CREDITS = 100  # two runs leave 20; the third spends it (balance -20)


class Credits:
    def __init__(self, platform: Platform, server: ServerInfo,  # noqa: F811
                 http: TestClient) -> None:
        self.platform, self.server, self.http = platform, server, http
        self.key = issue_key(platform.store, OWNER_DEV)

    def trigger(self, message: str = "hi") -> Any:
        return self.http.post("/api/v1/workflows/echo/trigger?wait=true",
                              json={"message": message}, headers={"X-API-Key": self.key})

    def service(self) -> Service:
        return Service(ApiContext(self.platform.store.path, self.server.url,
                                  self.server.api_key, hash_key=b"t" * 32))

    def rows(self) -> list[tuple[str, str, str, int]]:
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in
                self.platform.store.conn.execute(
                    "SELECT execution_id, account, instance_id, credits FROM ledger")]

    def echo_published(self) -> bool:
        found = [w for n, w in self.platform.live().items() if f"[{OWNER_DEV}/echo]" in n]
        assert found
        return all(w.get("activeVersionId") for w in found)


@pytest.fixture
def credits(platform: Platform, n8n_server: ServerInfo) -> Iterator[Credits]:  # noqa: F811
    echo_case.write(platform.repo)
    platform.edit_text("use-cases/echo/use-case.yaml", "    name: Echo\n",
                       f"    name: Echo\n    cost: {COST}\n")
    platform.edit_text("platform.yaml", "plan: pro  #", "plan: tiny  #")
    platform.edit_text("platform.yaml", "  - {id: solo,",
                       f"  - {{id: tiny, credits: {CREDITS}, seats: 5}}\n  - {{id: solo,")
    out = platform.reconcile()
    assert out.outcome == "applied", out.error
    app = create_api_app(platform.store.path, n8n_server.url, n8n_server.api_key)
    with TestClient(app) as http:
        yield Credits(platform, n8n_server, http)


def _spend(c: Credits) -> None:
    for n in range(CREDITS // COST + 1):
        answer = c.trigger(f"run {n}")
        assert answer.status_code == 200, answer.text
    assert sum(r[3] for r in c.rows()) == COST * (CREDITS // COST + 1)


def test_each_execution_is_debited_once_through_retries_and_races(credits: Credits) -> None:
    c = credits
    first = c.trigger("one")
    assert first.status_code == 200 and first.json()["execution"]["status"] == "success"
    services = [c.service() for _ in range(2)]
    results: list[Any] = []

    def race(service: Service) -> None:
        record, _ = service.trigger(service.instance(OWNER_DEV), "echo", {"message": "race"},
                                    wait=True)
        results.append(record)

    threads = [threading.Thread(target=race, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == ["success", "success"]
    # retries: every read path finishes and debits again; a second service settles
    headers = {"X-API-Key": c.key}
    listed = c.http.get("/api/v1/executions", headers=headers).json()["data"]
    for record in listed:
        assert c.http.get(f"/api/v1/executions/{record['id']}",
                          headers=headers).status_code == 200
    again = services[0]
    for record in results:  # a late second finish (an error report, a retried poll)
        again.records.finish(record, _outcome(again, record))
        assert ledger.debit(again.store, record.id) is False
    assert ledger.settle(again.store) == 0
    for s in services:
        s.close()
    rows = c.rows()
    assert len(rows) == len({r[0] for r in rows}) == 3
    assert {r[0] for r in rows} == {r["id"] for r in listed}
    assert {(r[1], r[2], r[3]) for r in rows} == {("org:acme", OWNER_DEV, COST)}
    usage = c.http.get("/api/v1/usage", headers=headers).json()
    assert (usage["used"], usage["balance"], usage["exhausted"]) == (120, -20, True)
    assert usage["organization"] == "acme" and usage["instance"] == {"credits": 120, "runs": 3}


def _outcome(service: Service, record: Any) -> Any:
    from reconciler.api.executions import outcome_of

    execution = service.tracker.execution_for(record)
    assert execution is not None
    return outcome_of(service.tracker.tree(execution), service.tracker.prices)


@pytest.mark.parametrize("point", ["finish", "debit"])
def test_a_kill_between_the_run_and_its_debit_is_settled_once(credits: Credits,
                                                              point: str) -> None:
    c = credits
    env = {**os.environ, "RECONCILER_N8N_URL": c.server.url,
           "RECONCILER_N8N_API_KEY": c.server.api_key}
    child = subprocess.run([sys.executable, "-m", "tests.credits.kill_child",
                            str(c.platform.store.path), OWNER_DEV, point],
                           cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    status = c.platform.store.conn.execute("SELECT status FROM executions").fetchall()
    assert [s[0] for s in status] == (["pending"] if point == "finish" else ["success"])
    assert c.rows() == []  # n8n ran it; the process died before the debit
    # the re-run (twice): reading executions brings the record up to date, reading the
    # balance (a trigger, /usage, `reconciler usage`, a reconcile) settles the debit
    headers = {"X-API-Key": c.key}
    for _ in range(2):
        listed = c.http.get("/api/v1/executions", headers=headers).json()["data"]
        assert [r["status"] for r in listed] == ["success"]
        usage = c.http.get("/api/v1/usage", headers=headers).json()
        assert (usage["used"], usage["runs"]) == (COST, 1)
    assert ledger.settle(c.platform.store) == 0
    assert c.platform.reconcile().outcome in ("applied", "no_changes")
    assert [(r[0], r[3]) for r in c.rows()] == [(listed[0]["id"], COST)]


def test_exhaustion_gives_402_then_over_quota_until_the_next_period(
        credits: Credits, monkeypatch: pytest.MonkeyPatch) -> None:
    c = credits
    _spend(c)
    refused = c.trigger("one too many")
    assert refused.status_code == 402, refused.text
    detail = refused.json()["detail"]
    assert detail["code"] == "credits_exhausted"
    assert (detail["organization"], detail["account"]) == ("acme", "org:acme")
    assert (detail["balance"], detail["period"]) == (-20, ledger.current_period())
    assert len(c.rows()) == 3  # a refused trigger starts nothing and costs nothing
    out = c.platform.reconcile()
    assert out.outcome == "applied", out.error
    assert c.platform.instance(OWNER_DEV)["state"] == "over_quota"
    assert not c.echo_published()
    notices = c.platform.store.conn.execute(
        "SELECT kind, version FROM notices WHERE instance_id=?", (OWNER_DEV,)).fetchall()
    assert ("over_quota", ledger.current_period()) in notices
    assert c.platform.instance("echo-globex")["state"] == "active"  # another org's
    assert c.trigger("still spent").status_code == 402
    assert c.http.get("/api/v1/executions", headers={"X-API-Key": c.key}).status_code == 200
    assert c.platform.reconcile().outcome == "no_changes"
    year, month = map(int, ledger.current_period().split("-"))
    nxt = f"{year + month // 12}-{month % 12 + 1:02}-01T00:00:01+00:00"
    monkeypatch.setenv(ledger.CLOCK_ENV, nxt)
    out = c.platform.reconcile()
    assert out.outcome == "applied", out.error
    assert c.platform.instance(OWNER_DEV)["state"] == "active"
    assert c.echo_published()
    assert c.trigger("new month").status_code == 200


def test_a_plan_change_reactivates_and_seat_overflow_is_refused(credits: Credits) -> None:
    c = credits
    _spend(c)
    assert c.platform.reconcile().outcome == "applied"
    assert c.platform.instance(OWNER_DEV)["state"] == "over_quota"
    c.platform.edit_text("platform.yaml", "plan: tiny  #", "plan: pro  #")
    out = c.platform.reconcile()
    assert out.outcome == "applied", out.error
    assert c.platform.instance(OWNER_DEV)["state"] == "active" and c.echo_published()
    assert c.trigger("more credits").status_code == 200
    c.platform.edit_text("platform.yaml", "plan: pro  #", "plan: free  #")  # 3 members, 2 seats
    out = c.platform.reconcile()
    assert out.outcome == "failed" and out.writes == 0
    assert out.error is not None and "plan 'free' has 2 seats" in out.error
    assert out.error.startswith("platform.yaml:15 [organizations[0].members]")
    assert c.platform.instance(OWNER_DEV)["state"] == "active"

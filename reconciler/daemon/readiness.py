"""/readyz: can the daemon work? Its state is writable, git answers, n8n answers.

A bad commit is not unreadiness: the daemon still works, and it must keep taking
the webhook that carries the fix. It is reported as a condition instead, with a
failing reconcile, next to the checks that decide readiness.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from reconciler.daemon.loop import Health
from reconciler.errors import StateError
from reconciler.store import pg

N8N_TIMEOUT = 2.0
STATE_TIMEOUT = 2.0

Check = tuple[bool, str]


def report(health: Health, state: Path, n8n_url: str, api_key: str,
           failing_grace: float) -> tuple[bool, dict[str, Any]]:
    """(ready, the JSON body): `checks` decide, `conditions` only inform."""
    checks = {"state": state_ok(state), "git": git_ok(health), "n8n": n8n_ok(n8n_url, api_key)}
    ready = all(ok for ok, _ in checks.values())
    body = {"ready": ready,
            "checks": {k: {"ok": ok, "detail": detail} for k, (ok, detail) in checks.items()},
            "conditions": {"role": health.role, "revision": revision(health),
                           "reconcile": reconcile(health, failing_grace)}}
    return ready, body


def state_ok(path: Path) -> Check:
    """Writable: a write transaction begins (and is rolled back at once)."""
    url = pg.postgres_url(path)
    if url is not None:
        try:
            pg.probe(url, STATE_TIMEOUT)
        except StateError as exc:
            return False, str(exc)
        return True, f"{pg.redacted(url)} writable"
    if not path.is_file():
        return False, f"{path}: no state file"
    try:
        conn = sqlite3.connect(str(path), timeout=STATE_TIMEOUT, isolation_level=None)
        try:
            conn.execute("SELECT count(*) FROM runs").fetchone()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return False, f"{path}: {exc}"
    return True, f"{path} writable"


def git_ok(health: Health) -> Check:
    if health.role == "follower":
        return True, "a follower: the leader fetches and reconciles"
    if health.fetch_error is not None:
        return False, health.fetch_error
    if health.fetched_at is None:
        return False, "no fetch yet"
    return True, f"last fetch {time.time() - health.fetched_at:.0f} s ago"


def n8n_ok(url: str, api_key: str) -> Check:
    """n8n answers; with a key, its API takes the key (a revoked key cannot work)."""
    try:
        if api_key:
            answer = httpx.get(f"{url}/api/v1/workflows", params={"limit": 1},
                               headers={"X-N8N-API-KEY": api_key}, timeout=N8N_TIMEOUT)
        else:
            answer = httpx.get(f"{url}/healthz", timeout=N8N_TIMEOUT)
    except httpx.HTTPError as exc:
        return False, f"n8n unreachable ({type(exc).__name__})"
    if answer.status_code in (401, 403):
        return False, f"n8n refused the API key ({answer.status_code})"
    return answer.status_code == 200, f"n8n answered {answer.status_code}"


def revision(health: Health) -> dict[str, Any]:
    if health.invalid_revision is None:
        return {"valid": True}
    return {"valid": False, "commit": health.invalid_revision,
            "problems": health.invalid_problems, "detail": health.invalid_detail,
            "note": "nothing of this commit is applied; the last good state stays live"}


def reconcile(health: Health, failing_grace: float) -> dict[str, Any]:
    found: dict[str, Any] = {"last_run": health.last_run_id,
                             "last_outcome": health.last_outcome}
    since = health.failing_since
    found["failing"] = since is not None
    if since is not None:
        failing = time.time() - since
        found["failing_for_s"] = round(failing)
        found["stuck"] = failing >= failing_grace
    return found

"""Two `reconciler run` replicas on one PostgreSQL state and the session's real n8n.

One leads (the lease), the other serves and waits; the leader is killed (`kill -9`)
or frozen (SIGSTOP) in the middle of its first apply; the follower takes over within
twice the lease time and converges: no duplicate workflow, and nothing written by
the old leader after the takeover.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import time
from collections import Counter
from typing import Any

import httpx
import psycopg
import pytest

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.store.pg import postgres_url
from tests.daemon.conftest import RECONCILER, Git, daemon_env, free_port, wait_for
from tests.engine.conftest import Platform

pytestmark = [pytest.mark.n8n, pytest.mark.postgres, pytest.mark.ha,
              pytest.mark.parametrize("platform", ["postgres"], indirect=True)]

LEASE = 3.0
SECRET = "ha-webhook-secret"


def query(platform: Platform, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    url = postgres_url(platform.store.path)
    assert url is not None
    with psycopg.connect(url, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute(sql, args).fetchall()]


def lease(platform: Platform) -> tuple[str, int] | None:
    rows = query(platform, "SELECT holder, token FROM leases WHERE name = 'leader'")
    return (str(rows[0][0]), int(rows[0][1])) if rows else None


def start(git: Git, env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [RECONCILER, "run", "--repo", git.url, "--listen", f"127.0.0.1:{port}",
         "--interval", "3600", "--lease", str(LEASE), "--log-format", "json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pair(n8n_server: ServerInfo, platform: Platform, git: Git,
         ) -> tuple[dict[int, subprocess.Popen[str]], dict[str, str]]:
    env = daemon_env(n8n_server, platform)
    env.update({"RECONCILER_WEBHOOK_SECRET": SECRET,
                "RECONCILER_STATE_DIR": str(platform.root / "local")})
    ports = [free_port(), free_port()]
    return {port: start(git, env, port) for port in ports}, env


def leader_port(platform: Platform, daemons: dict[int, subprocess.Popen[str]]) -> int:
    held = wait_for(lambda: lease(platform), 60, "a leader")
    return next(p for p in daemons if f"127.0.0.1:{p}" in held[0])


def steps(platform: Platform, run_id: int) -> int:
    return int(query(platform, "SELECT count(*) FROM run_steps WHERE run_id = %s",
                     run_id)[0][0])


def first_run(platform: Platform) -> int:
    rows = query(platform, "SELECT min(id) FROM runs")
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def finished(platform: Platform, after: int) -> list[tuple[Any, ...]]:
    return query(platform, "SELECT id, outcome, trigger, writes FROM runs WHERE id > %s "
                 "AND finished_at IS NOT NULL ORDER BY id", after)


def no_duplicates(platform: Platform) -> None:
    names = Counter(str(w["name"]) for w in platform.client.list_workflows())
    assert names and max(names.values()) == 1, [n for n, c in names.items() if c > 1]
    mapped = query(platform, "SELECT count(*) FROM workflow_mappings WHERE archived = 0")
    assert int(mapped[0][0]) == len(names)


def stop_all(daemons: dict[int, subprocess.Popen[str]]) -> dict[int, str]:
    logs = {}
    for port, process in daemons.items():
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.send_signal(signal.SIGTERM)
        try:
            _, logs[port] = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, logs[port] = process.communicate()
    return logs


def taken_over(platform: Platform, token: int) -> tuple[str, int]:
    """The lease once another holder took it (its fencing token grew)."""
    held: tuple[str, int] = wait_for(lambda: (h := lease(platform)) and h[1] > token and h,
                                     4 * LEASE, "the follower to take the lease")
    return held


def readyz(port: int) -> httpx.Response:
    """The replica's /readyz once it listens (it binds a moment after it starts: on a
    loaded machine, after the other replica took the lease)."""
    def answer() -> tuple[httpx.Response] | None:
        try:
            return (httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10),)
        except httpx.TransportError:
            return None

    found: tuple[httpx.Response] = wait_for(answer, 60, f"replica {port} to listen")
    return found[0]


def push(port: int, delivery: str) -> None:
    hook = json.dumps({"ref": "refs/heads/main"}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), hook, hashlib.sha256).hexdigest()
    answer = httpx.post(f"http://127.0.0.1:{port}/hooks/github", content=hook,
                        headers={"x-hub-signature-256": signature,
                                 "x-github-delivery": delivery}, timeout=10)
    assert answer.status_code == 202, answer.text


def converge(platform: Platform, old_run: int, hook_port: int) -> list[tuple[Any, ...]]:
    """The new leader's reconcile finishes; pushes (to `hook_port`) until one changes
    nothing. Every run after the old one, in order."""
    done = wait_for(lambda: [r for r in finished(platform, old_run)
                             if r[1] in ("applied", "no_changes")], 180,
                    "the new leader's reconcile")
    for attempt in range(3):
        last = finished(platform, old_run)[-1]
        if last[1] == "no_changes" and last[3] == 0:
            break
        push(hook_port, f"resync-{attempt}")
        seen = int(last[0])
        wait_for(lambda seen=seen: finished(platform, seen), 120, "one more reconcile")
    assert done
    return finished(platform, old_run)


def test_kill_9_mid_apply_the_follower_takes_over(
        n8n_server: ServerInfo, platform: Platform, git: Git) -> None:
    daemons, _ = pair(n8n_server, platform, git)
    try:
        lead = leader_port(platform, daemons)
        follower = next(p for p in daemons if p != lead)
        token = wait_for(lambda: lease(platform), 10, "the lease")[1]
        ready = readyz(follower)
        assert ready.status_code == 200, ready.text
        assert ready.json()["conditions"]["role"] == "follower"
        run = wait_for(lambda: first_run(platform), 60, "the first run")
        wait_for(lambda: steps(platform, run) >= 3, 120, "the first apply to be under way")
        daemons[lead].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        daemons[lead].wait(timeout=10)
        steps_at_kill = steps(platform, run)
        new = taken_over(platform, token)
        failover = time.monotonic() - killed_at
        assert f"127.0.0.1:{follower}" in new[0]
        assert failover < 2 * LEASE, failover
        after = converge(platform, run, follower)
        assert after[-1][1] == "no_changes" and after[-1][3] == 0, after
        old = query(platform, "SELECT outcome FROM runs WHERE id = %s", run)[0][0]
        assert old == "interrupted"
        assert steps(platform, run) == steps_at_kill, "no write from the old leader"
        no_duplicates(platform)
        print(f"\nfailover after kill -9: {failover:.2f} s (lease {LEASE} s)")
    finally:
        logs = stop_all(daemons)
    assert n8n_server.api_key not in "".join(logs.values())
    assert "leading" in logs[follower]


def test_a_frozen_leader_is_fenced_when_it_wakes(
        n8n_server: ServerInfo, platform: Platform, git: Git) -> None:
    daemons, _ = pair(n8n_server, platform, git)
    try:
        lead = leader_port(platform, daemons)
        follower = next(p for p in daemons if p != lead)
        token = wait_for(lambda: lease(platform), 10, "the lease")[1]
        run = wait_for(lambda: first_run(platform), 60, "the first run")
        wait_for(lambda: steps(platform, run) >= 3, 120, "the first apply to be under way")
        daemons[lead].send_signal(signal.SIGSTOP)
        frozen = steps(platform, run)
        new = taken_over(platform, token)
        assert f"127.0.0.1:{follower}" in new[0]
        daemons[lead].send_signal(signal.SIGCONT)  # it writes on: every write is refused
        # Pushes to the deposed one, a follower now: recorded, the leader reconciles.
        after = converge(platform, run, lead)
        assert after[-1][1] == "no_changes" and after[-1][3] == 0, after
        if len(after) > 1:  # the push went to the follower, the leader ran it
            assert str(after[-1][2]).endswith("(via a follower)"), after
        # At most the step in flight reached n8n; its record is refused with the rest.
        assert steps(platform, run) == frozen, "no write from the deposed leader"
        no_duplicates(platform)
        assert daemons[lead].poll() is None, "the deposed leader lives on as a follower"
        ready = readyz(lead).json()
        assert ready["conditions"]["role"] == "follower"
    finally:
        logs = stop_all(daemons)
    assert "no longer leading" in logs[lead]
    # Its reconcile, in flight when it froze, had its next write refused by the fence.
    assert "Deposed" in logs[lead] or "lost the leader lease" in logs[lead], logs[lead][-2000:]

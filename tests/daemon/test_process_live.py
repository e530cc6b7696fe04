"""`reconciler run` as a process: SIGTERM mid-run, one writer per state, convergence."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from reconciler.adapters.n8n_server import ServerInfo
from tests.daemon.conftest import RECONCILER, Git, daemon_env, free_port, runs, wait_for
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n


def steps_done(state: Path) -> int:
    conn = sqlite3.connect(str(state), timeout=10)
    try:
        return int(conn.execute("SELECT count(*) FROM run_steps").fetchone()[0])
    finally:
        conn.close()


def once(git: Git, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RECONCILER, "run", "--repo", git.url, "--once", *extra], env=env,
                          capture_output=True, text=True, timeout=180)


def start(git: Git, env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [RECONCILER, "run", "--repo", git.url, "--listen", f"127.0.0.1:{port}",
         "--interval", "3600", "--log-format", "json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "daemon stopped" in err
    return err


def test_sigterm_mid_run_then_convergence_after_restart(
        n8n_server: ServerInfo, platform: Platform, git: Git) -> None:
    env = daemon_env(n8n_server, platform)
    state = platform.store.path
    first = start(git, env, free_port())
    try:
        wait_for(lambda: steps_done(state) >= 3, 60, "the first reconcile to be under way")
        err = stop(first)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert "stopping after the current step" in err
    assert n8n_server.api_key not in err
    assert runs(state)[0]["outcome"] == "stopped", runs(state)[0]

    restarted = once(git, env)
    assert restarted.returncode == 0, restarted.stderr
    assert runs(state)[-1]["outcome"] == "applied"
    again = once(git, env)
    assert again.returncode == 0, again.stderr
    last = runs(state)[-1]
    assert last["outcome"] == "no_changes" and last["writes"] == 0
    names = [str(w["name"]) for w in platform.client.list_workflows()]
    assert len(names) == len(set(names)), "no duplicate after the interrupted run"


def test_second_daemon_on_the_same_state(n8n_server: ServerInfo, platform: Platform,
                                         git: Git) -> None:
    env = daemon_env(n8n_server, platform)
    state = platform.store.path
    port = free_port()
    first = start(git, env, port)
    try:
        wait_for(lambda: any(r["finished_at"] for r in runs(state)) if state.exists() else 0,
                 60, "the first reconcile")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {"ok": True}
        second = once(git, env)
        assert second.returncode == 3  # the environment: another writer holds the lock
        assert "another reconciler process" in second.stderr
        assert "--wait-lock" in second.stderr and str(state) in second.stderr

        waiting = subprocess.Popen(
            [RECONCILER, "run", "--repo", git.url, "--once", "--wait-lock"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert waiting.poll() is None, "it waits for the lock"
        stop(first)
        _, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert runs(state)[-1]["trigger"] == "daemon:once"


def test_once_exits_1_on_bad_input(n8n_server: ServerInfo, platform: Platform,
                                   git: Git) -> None:
    (platform.repo / "instances" / "inbox-triage-alice.yaml").write_text(
        "use_case: inbox-triage\nowner: [\n", encoding="utf-8")
    git.commit("broken instance")
    done = once(git, daemon_env(n8n_server, platform))
    assert done.returncode == 1
    record = runs(platform.store.path)[-1]
    # held back: only that instance; everything else deploys in the same run
    assert record["outcome"] == "held" and record["writes"] > 0
    assert "instances/inbox-triage-alice.yaml:" in record["error"]
    assert "instances/inbox-triage-alice.yaml:" in done.stderr

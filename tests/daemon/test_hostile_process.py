"""`reconciler run` as a process under hostile conditions: its port or lock taken
(exit 1, nothing written to n8n), and kill -9 mid-apply (the run is counted step by
step and marked interrupted at the next start)."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.store.lock import StateLock
from tests.daemon.conftest import RECONCILER, Git, daemon_env, free_port, runs, wait_for
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n


def serve(git: Git, env: dict[str, str], port: int, timeout: float = 60
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RECONCILER, "run", "--repo", git.url, "--listen",
                           f"127.0.0.1:{port}", "--interval", "3600"], env=env,
                          capture_output=True, text=True, timeout=timeout)


def untouched(platform: Platform) -> None:
    assert platform.client.list_workflows() == []
    assert platform.client.list_credentials() == []
    assert runs(platform.store.path) == []


def test_taken_port_exits_1_before_any_write(n8n_server: ServerInfo, platform: Platform,
                                            git: Git) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        done = serve(git, daemon_env(n8n_server, platform), port)
    assert done.returncode == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    untouched(platform)


def test_held_lock_exits_3_before_any_write(n8n_server: ServerInfo, platform: Platform,
                                           git: Git) -> None:
    lock = StateLock(platform.store.path)
    lock.acquire()
    try:
        done = serve(git, daemon_env(n8n_server, platform), free_port())
    finally:
        lock.release()
    assert done.returncode == 3, done.stderr  # the environment: another writer holds the lock
    assert "another reconciler process" in done.stderr
    untouched(platform)


def counts(state: Path) -> tuple[int, int, int]:
    """(steps done, writes recorded on the last run, 1 while it is unfinished)."""
    conn = sqlite3.connect(str(state), timeout=10)
    try:
        steps = int(conn.execute("SELECT count(*) FROM run_steps").fetchone()[0])
        row = conn.execute("SELECT writes, finished_at IS NULL FROM runs ORDER BY id DESC "
                           "LIMIT 1").fetchone()
    finally:
        conn.close()
    return (steps, *row) if row else (steps, 0, 0)


def mid_run(state: Path) -> bool:
    _, writes, unfinished = counts(state)
    return writes > 0 and unfinished == 1


def test_kill_9_mid_apply_is_counted_and_marked_interrupted(
        n8n_server: ServerInfo, platform: Platform, git: Git) -> None:
    env = daemon_env(n8n_server, platform)
    state = platform.store.path
    process = subprocess.Popen(
        [RECONCILER, "run", "--repo", git.url, "--listen", f"127.0.0.1:{free_port()}",
         "--interval", "3600"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # the open run's row shows n8n writes while it is still running
        wait_for(lambda: mid_run(state), 120, "writes counted mid-run")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    killed = runs(state)[0]
    assert killed["finished_at"] is None and killed["outcome"] is None
    assert killed["writes"] > 0, "writes were counted step by step"
    written = len(platform.client.list_workflows())

    done = subprocess.run([RECONCILER, "run", "--repo", git.url, "--once"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    first, last = runs(state)[0], runs(state)[-1]
    assert first["outcome"] == "interrupted" and first["finished_at"] is not None
    assert first["writes"] >= killed["writes"] > 0
    assert "ended before" in first["error"]
    assert last["outcome"] == "applied"
    assert written <= len(platform.client.list_workflows())
    history = subprocess.run([RECONCILER, "history"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert "interrupted" in history.stdout, history.stdout + history.stderr

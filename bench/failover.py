"""Failover time of `reconciler run` replicas on one PostgreSQL state.

Two replicas on a PostgreSQL the script starts (tests/postgres.py); each round kills
the leader with SIGKILL halfway through a renewal period, times until the other holds
the lease (its token grew), then starts a fresh replica. No n8n is needed: the lease
does not depend on it (the leaders' reconciles fail against an unreachable n8n).

    .venv/bin/python bench/failover.py [LEASE_SECONDS [ROUNDS]] [--quick]

`--quick` (the suite runs it): a 2 s lease, one round.
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import psycopg
import pygit2

from reconciler.daemon.demo import commit_all
from tests import postgres as p

QUICK = "--quick" in sys.argv[1:]
ARGS = [a for a in sys.argv[1:] if a != "--quick"]
LEASE = float(ARGS[0]) if ARGS else (2.0 if QUICK else 3.0)
ROUNDS = int(ARGS[1]) if len(ARGS) > 1 else (1 if QUICK else 5)
ROOT = Path(tempfile.mkdtemp())
REPO = ROOT / "repo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(env: dict[str, str]) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    return port, subprocess.Popen(
        [str(Path(sys.executable).with_name("reconciler")), "run", "--repo", f"file://{REPO}",
         "--listen", f"127.0.0.1:{port}", "--lease", str(LEASE), "--interval", "3600"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def lease(url: str) -> tuple[str, int] | None:
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            rows = conn.execute("SELECT holder, token FROM leases").fetchall()
        except psycopg.errors.UndefinedTable:
            return None  # the replicas have not migrated yet
    return (str(rows[0][0]), int(rows[0][1])) if rows else None


def one_round(url: str, env: dict[str, str], procs: dict[int, subprocess.Popen[bytes]]) -> float:
    while True:
        held = lease(url)
        alive = [port for port, proc in procs.items() if proc.poll() is None]
        if held is not None and any(f":{port}" in held[0] for port in alive):
            break
        time.sleep(0.05)
    leader = next(port for port in procs if f":{port}" in held[0])
    time.sleep(LEASE * 0.5)  # somewhere in a renewal period
    procs[leader].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    procs.pop(leader).wait()
    while (now := lease(url)) is None or now[1] == held[1]:
        time.sleep(0.02)
    took = time.monotonic() - killed
    port, proc = start(env)
    procs[port] = proc
    time.sleep(2)
    return took


def main() -> None:
    server = p.up()
    atexit.register(p.down, server)
    url = p.fresh_database(server)
    shutil.copytree(Path(__file__).resolve().parents[1] / "example-repo", REPO)
    pygit2.init_repository(str(REPO), initial_head="main")
    commit_all(pygit2.Repository(str(REPO)), "example")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env.update(RECONCILER_STATE=url, RECONCILER_HASH_KEY="k" * 32,
               RECONCILER_N8N_URL="http://127.0.0.1:9", RECONCILER_N8N_API_KEY="unused",
               RECONCILER_STATE_DIR=str(ROOT / "local"))
    procs = dict([start(env), start(env)])
    try:
        times = [one_round(url, env, procs) for _ in range(ROUNDS)]
    finally:
        for proc in procs.values():
            proc.kill()
        shutil.rmtree(ROOT, ignore_errors=True)
    print(f"lease {LEASE} s: failover " + ", ".join(f"{t:.2f}" for t in times)
          + f" s; max {max(times):.2f} (bound {LEASE * 4 / 3:.2f}, required < {2 * LEASE:.1f})")


if __name__ == "__main__":
    main()

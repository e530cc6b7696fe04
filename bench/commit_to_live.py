"""Commit-to-live time with the webhook, on real git and a real n8n.

One round: commit a new version of a use case whose webhook answers its version,
POST a signed GitHub push to the daemon, and poll n8n's production webhook until it
answers with the new version. Printed per round: webhook -> run started, the run,
run finished -> webhook answering, and the total.

    .venv/bin/python bench/commit_to_live.py [--rounds 5] [--quick]

Uses RECONCILER_N8N_URL/RECONCILER_N8N_API_KEY if set (a scratch n8n: the bench
deploys to it), else starts a managed n8n in a temporary folder and stops it after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pygit2

from reconciler.adapters import n8n_server
from reconciler.daemon.demo import commit_all
from reconciler.daemon.hooks import github_signature

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook-secret"
USE_CASE = """\
process:
  title: Echo
  subtitle: Answers its version
  description: A webhook that answers the version it was deployed from.
  tags: [bench]
  icon: zap
  type: organizational
  visibility: {level: public}
  owner: {user: alice, org: acme}
workflows:
  - id: echo
    file: workflows/echo.json
    name: Echo
    triggers:
      - {type: http, method: POST, path: echo}
    integrations: []
    output_schema:
      answer: {type: text}
    cost: 1
parameters: {}
integrations: []
"""
SKILL = """\
---
name: echo
description: Ask the echo process which version answers.
workflowTemplateId: echo
---
# Echo

POST an empty JSON body; the answer names the deployed version.
"""


def workflow(answer: str) -> dict[str, Any]:
    return {
        "name": "Echo",
        "nodes": [
            {"id": "6a1f8c3e-0b7d-4e57-9d1a-2f3c4b5a6d70", "name": "Echo request",
             "type": "n8n-nodes-base.webhook", "typeVersion": 2.1, "position": [0, 0],
             "webhookId": "0c9e2b4d-3f6a-4b8c-a1d2-e3f405162738",
             "parameters": {"httpMethod": "POST", "responseMode": "lastNode", "options": {},
                            "path": "{{PROCDATA_PROCESS_ID_ATADCORP}}/"
                                    "{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}/echo"}},
            {"id": "7b2e9d4f-1c8e-4f68-8e2b-3a4d5c6b7e81", "name": "Answer",
             "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [220, 0],
             "parameters": {"mode": "raw", "jsonOutput": json.dumps({"answer": answer}),
                            "options": {}}},
        ],
        "connections": {"Echo request": {"main": [[{"node": "Answer", "type": "main",
                                                    "index": 0}]]}},
        "settings": {"executionOrder": "v1",
                     "errorWorkflow": "{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}"},
    }


def write_version(repo: Path, patch: int) -> str:
    version = f"1.0.{patch}"
    base = repo / "use-cases" / "echo"
    (base / "workflows").mkdir(parents=True, exist_ok=True)
    (base / "skills" / "echo").mkdir(parents=True, exist_ok=True)
    (base / "use-case.yaml").write_text(USE_CASE, encoding="utf-8")
    (base / "skills" / "echo" / "SKILL.md").write_text(SKILL, encoding="utf-8")
    (base / "version.json").write_text(json.dumps({"version": version}) + "\n",
                                       encoding="utf-8")
    (base / "workflows" / "echo.json").write_text(
        json.dumps(workflow(f"version {version}"), indent=2) + "\n", encoding="utf-8")
    return version


def make_repo(path: Path) -> pygit2.Repository:
    path.mkdir(parents=True)
    shutil.copy(ROOT / "example-repo" / "platform.yaml", path / "platform.yaml")
    repo = pygit2.init_repository(str(path), initial_head="main")
    write_version(path, 0)
    commit_all(repo, "echo 1.0.0")
    return repo


@contextlib.contextmanager
def n8n(work: Path) -> Iterator[tuple[str, str]]:
    url, key = os.environ.get("RECONCILER_N8N_URL"), os.environ.get("RECONCILER_N8N_API_KEY")
    if url and key:
        yield url.rstrip("/"), key
        return
    data = work / "n8n"
    info = n8n_server.up(data)
    try:
        yield info.url, info.api_key
    finally:
        n8n_server.down(data)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def last_run(state: Path) -> dict[str, Any] | None:
    if not state.exists():
        return None
    conn = sqlite3.connect(str(state), timeout=10)
    try:
        row = conn.execute("SELECT id, started_at, finished_at, outcome, summary, writes FROM "
                           "runs ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    if row is None:
        return None
    return {"id": row[0], "started": row[1], "finished": row[2], "outcome": row[3],
            "summary": json.loads(row[4] or "{}"), "writes": row[5]}


def wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {what}")


def webhook_path(url: str, key: str) -> str:
    with httpx.Client(base_url=url, headers={"X-N8N-API-KEY": key}) as api:
        for wf in api.get("/api/v1/workflows", params={"limit": 250}).json()["data"]:
            if wf["name"].endswith("[echo.owner-dev/echo]"):
                node = next(n for n in wf["nodes"] if n["type"].endswith(".webhook"))
                return str(node["parameters"]["path"])
    raise SystemExit("the echo workflow was not deployed")


def answers(url: str, path: str, expected: str) -> bool:
    try:
        reply = httpx.post(f"{url}/webhook/{path}", json={}, timeout=5)
    except httpx.HTTPError:
        return False
    return reply.status_code == 200 and expected in reply.text


def stamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def round_trip(repo: pygit2.Repository, work: Path, state: Path, hook: str, url: str,
               path: str, patch: int) -> dict[str, float]:
    version = write_version(work / "repo", patch)
    commit_all(repo, f"echo {version}")
    before = (last_run(state) or {}).get("id", 0)
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    t0 = time.time()
    sent = httpx.post(hook, content=body, timeout=5, headers={
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": github_signature(SECRET.encode(), body)})
    assert sent.status_code == 202, sent.text
    run = wait(lambda: (r := last_run(state)) and r["id"] > before and r["finished"] and r,
               60, "the reconcile")
    if run["outcome"] != "applied":
        raise SystemExit(f"run {run['id']}: {run['outcome']}")
    wait(lambda: answers(url, path, f"version {version}"), 60, "the new answer")
    t_live = time.time()
    return {"to_start": stamp(run["started"]) - t0,
            "run": stamp(run["finished"]) - stamp(run["started"]),
            "to_live": t_live - stamp(run["finished"]), "total": t_live - t0,
            "writes": float(run["writes"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one round")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    with tempfile.TemporaryDirectory(prefix="bench-commit-to-live-") as tmp:
        work = Path(tmp)
        repo = make_repo(work / "repo")
        with n8n(work) as (url, key):
            return measure(repo, work, url, key, args.rounds)


def measure(repo: pygit2.Repository, work: Path, url: str, key: str, rounds: int) -> int:
    state, port = work / "state" / "reconciler.sqlite", free_port()
    env = {**os.environ, "RECONCILER_N8N_URL": url, "RECONCILER_N8N_API_KEY": key,
           "RECONCILER_STATE": str(state), "RECONCILER_WEBHOOK_SECRET": SECRET,
           "RECONCILER_SECRETS_DIR": str(work / "secrets")}
    (work / "secrets").mkdir()
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("reconciler")), "run", "--repo",
         f"file://{work / 'repo'}", "--interval", "3600", "--listen", f"127.0.0.1:{port}"],
        env=env, stderr=(work / "daemon.log").open("wb"))
    try:
        try:
            wait(lambda: (r := last_run(state)) and r["finished"], 600, "the first reconcile")
        except SystemExit:
            sys.stderr.write((work / "daemon.log").read_text(errors="replace")[-3000:])
            raise
        path = webhook_path(url, key)
        wait(lambda: answers(url, path, "version 1.0.0"), 60, "the first answer")
        hook = f"http://127.0.0.1:{port}/hooks/github"
        rows = [round_trip(repo, work, state, hook, url, path, n) for n in range(1, rounds + 1)]
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    report(rows)
    return 0


def report(rows: list[dict[str, float]]) -> None:
    print("commit -> webhook POST -> daemon reconciles -> production webhook answers "
          "the new version")
    print(f"{'round':>5} {'to start':>9} {'reconcile':>10} {'to live':>8} {'total':>8} "
          f"{'writes':>6}")
    for i, r in enumerate(rows, start=1):
        print(f"{i:>5} {r['to_start']:>8.3f}s {r['run']:>9.3f}s {r['to_live']:>7.3f}s "
              f"{r['total']:>7.3f}s {int(r['writes']):>6}")
    totals = [r["total"] for r in rows]
    print(f"total: median {statistics.median(totals):.3f} s, min {min(totals):.3f} s, "
          f"max {max(totals):.3f} s over {len(rows)} rounds")


if __name__ == "__main__":
    sys.exit(main())

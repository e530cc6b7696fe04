"""Side by side with n8n-gitops 0.4.1 (PyPI) on one real n8n, through a counting proxy.

n8n-gitops is installed in its own virtual environment under
~/.cache/n8n-reconciler/bench/ (outside the checkout). One n8n is started in a
temporary folder, behind `counting_proxy.py`; both tools run as their CLIs (start-up
included) against the proxy. Interleaved rounds at each size: the reconciler's first
deploy, one change, no change, then n8n-gitops's, with n8n emptied between tools.

The same N workflows on both sides: a webhook answering with a Set node. The
reconciler deploys N use cases (the owner's dev environment of each, one workflow);
n8n-gitops deploys a manifest of N active workflows. One change edits one workflow
(for the reconciler with its version bumped, as templates are immutable).

    .venv/bin/python bench/vs_n8n_gitops.py [--sizes 100,200] [--rounds 3] [--quick]

The reconciler applies with RECONCILER_APPLY_WORKERS=4 (BENCH_APPLY_WORKERS=1 for
the sequential default); n8n-gitops has no such setting (one request at a time).

Last line: first_deploy_ratio=X one_change_ratio=Y one_change_write_ratio=Z
(n8n-gitops's time or writes over the reconciler's: first deploy at the largest size,
one change at the largest size where n8n-gitops still works.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from reconciler.adapters import n8n_server
from reconciler.adapters.n8n_client import N8nClient
from reconciler.errors import ReconcilerError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from counting_proxy import CountingProxy  # a sibling module
from scale_repo import generate, workflow

PEER = "n8n-gitops==0.4.1"
PEER_VENV = Path.home() / ".cache" / "n8n-reconciler" / "bench" / "n8n-gitops-0.4.1"
RECONCILER = Path(sys.executable).with_name("reconciler")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
WORKERS = int(os.environ.get("BENCH_APPLY_WORKERS", "4"))  # the reconciler's apply pool


def peer_cli() -> Path:
    cli = PEER_VENV / "bin" / "n8n-gitops"
    if not cli.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", PEER], check=True)
    return cli


def peer_repo(root: Path, n: int) -> None:
    (root / "n8n" / "manifests").mkdir(parents=True)
    (root / "n8n" / "workflows").mkdir()
    names = [f"Peer {i}" for i in range(n)]
    manifest = {"externalize_code": False,
                "workflows": [{"name": name, "active": True} for name in names]}
    (root / "n8n" / "manifests" / "workflows.yaml").write_text(json.dumps(manifest))
    for i, name in enumerate(names):
        body = workflow(i)
        body["name"] = name
        body["nodes"][0]["parameters"]["path"] = f"peer/{i}/run"
        body["nodes"][1]["parameters"]["assignments"]["assignments"][0]["value"] = "hello"
        body["settings"] = {"executionOrder": "v1"}
        (root / "n8n" / "workflows" / f"Peer_{i}.json").write_text(json.dumps(body, indent=2))


def change_peer(root: Path) -> None:
    path = root / "n8n" / "workflows" / "Peer_0.json"
    path.write_text(path.read_text().replace('"lastNode"', '"onReceived"'))


def change_ours(root: Path) -> None:
    path = root / "use-cases" / "uc0" / "workflows" / "main.json"
    path.write_text(path.read_text().replace('"lastNode"', '"onReceived"'))
    (root / "use-cases" / "uc0" / "version.json").write_text('{"version": "1.0.1"}\n')


class Side:
    """One tool: how to deploy its repository and which live workflows are its own."""

    def __init__(self, name: str, work: Path, n: int, proxy: CountingProxy, key: str) -> None:
        self.name, self.work, self.n, self.proxy, self.key = name, work, n, proxy, key
        self.repo = work / f"{name}-repo"
        if name == "reconciler":
            generate(self.repo, n, 0)
        else:
            peer_repo(self.repo, n)

    def command(self) -> tuple[list[str], dict[str, str]]:
        if self.name == "reconciler":
            env = {**os.environ, "RECONCILER_N8N_URL": self.proxy.url,
                   "RECONCILER_N8N_API_KEY": self.key,
                   "RECONCILER_STATE": str(self.work / "state.sqlite"),
                   "RECONCILER_SECRETS_DIR": str(self.work / "secrets"),
                   "RECONCILER_APPLY_WORKERS": str(WORKERS)}
            env.pop("RECONCILER_API_URL", None)
            return [str(RECONCILER), "apply", "--yes", "--path", str(self.repo)], env
        return [str(peer_cli()), "deploy", "--api-url", self.proxy.url, "--api-key", self.key,
                "--repo-root", str(self.repo), "--silent"], dict(os.environ)

    def deploy(self) -> tuple[float, Counter[str], bool]:
        args, env = self.command()
        self.proxy.take()
        start = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False,
                              timeout=3600)
        return time.perf_counter() - start, self.proxy.take(), done.returncode == 0

    def change(self) -> None:
        (change_ours if self.name == "reconciler" else change_peer)(self.repo)

    def mine(self, live: list[dict[str, Any]]) -> dict[str, list[str]]:
        prefix = "Bench " if self.name == "reconciler" else "Peer "
        found: dict[str, list[str]] = {}
        for wf in live:
            if str(wf.get("name", "")).startswith(prefix) and not wf.get("isArchived"):
                found.setdefault(str(wf["name"]), []).append(str(wf["id"]))
        return found


def empty(client: N8nClient) -> None:
    """Every workflow gone (not counted: straight to n8n, not through the proxy)."""
    def drop(wf: dict[str, Any]) -> None:
        wid = str(wf["id"])
        for call in (client.unpublish_workflow, client.archive_workflow,
                     client.delete_workflow):
            with contextlib.suppress(ReconcilerError):  # not published, archived already
                call(wid)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(drop, list(client.list_workflows())))


def one_side(side: Side, client: N8nClient) -> dict[str, Any]:
    (side.work / "secrets").mkdir(exist_ok=True)
    (side.work / "state.sqlite").unlink(missing_ok=True)
    first = side.deploy()
    before = side.mine(list(client.list_workflows()))
    side.change()
    changed = side.deploy()
    after = side.mine(list(client.list_workflows()))
    same = side.deploy()
    kept = (first[2] and changed[2] and len(before) == side.n
            and all(len(ids) == 1 for ids in after.values()) and before == after)
    return {"first": first, "change": changed, "none": same, "ids_kept": kept}


def row(size: int, tool: str, phase: str, runs: list[tuple[float, Counter[str], bool]]) -> str:
    seconds = statistics.median(r[0] for r in runs)
    counts = runs[-1][1]
    ok = all(r[2] for r in runs)
    methods = " ".join(f"{m}={counts[m]}" for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
                       if counts[m])
    writes = sum(counts[m] for m in WRITES)
    return (f"{size:>5} {tool:<11} {phase:<12} {seconds:>8.2f} {writes:>7} "
            f"{'ok' if ok else 'FAILED':<7} {methods}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,200")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="5 workflows, one round")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.rounds = "5", 1
    sizes = [int(s) for s in args.sizes.split(",")]
    peer_cli()
    with tempfile.TemporaryDirectory(prefix="bench-vs-n8n-gitops-") as tmp:
        root = Path(tmp)
        info = n8n_server.up(root / "n8n", log=lambda line: None)
        try:
            results = measure(root, info, sizes, args.rounds)
        finally:
            n8n_server.down(root / "n8n", log=lambda line: None)
    report(results, sizes)


Results = dict[tuple[int, str], list[dict[str, Any]]]


def measure(root: Path, info: n8n_server.ServerInfo, sizes: list[int], rounds: int) -> Results:
    results: Results = {}
    with CountingProxy(info.url) as proxy, N8nClient(info.url, info.api_key) as client:
        for size in sizes:
            for r in range(rounds):
                for tool in ("reconciler", "n8n-gitops"):
                    work = root / f"{tool}-{size}-{r}"
                    work.mkdir()
                    side = Side(tool, work, size, proxy, info.api_key)
                    results.setdefault((size, tool), []).append(one_side(side, client))
                    empty(client)
    return results


def report(results: Results, sizes: list[int]) -> None:
    print(f"{'size':>5} {'tool':<11} {'phase':<12} {'median s':>8} {'writes':>7} "
          f"{'outcome':<7} requests by method (last round)")
    for (size, tool), rounds in results.items():
        for phase, label in (("first", "first deploy"), ("change", "one change"),
                             ("none", "no change")):
            print(row(size, tool, label, [r[phase] for r in rounds]))
        print(f"{size:>5} {tool:<11} ids preserved: {all(r['ids_kept'] for r in rounds)}")

    def med(size: int, tool: str, phase: str) -> float:
        return statistics.median(r[phase][0] for r in results[(size, tool)])

    def writes(size: int, tool: str, phase: str) -> int:
        return sum(results[(size, tool)][-1][phase][1][m] for m in WRITES)

    big = sizes[-1]
    works = [s for s in sizes if all(r["change"][2] and r["ids_kept"]
                                     for r in results[(s, "n8n-gitops")])] or [sizes[0]]
    at = works[-1]
    first = med(big, "n8n-gitops", "first") / med(big, "reconciler", "first")
    change = med(at, "n8n-gitops", "change") / med(at, "reconciler", "change")
    write_ratio = writes(at, "n8n-gitops", "change") / max(1, writes(at, "reconciler", "change"))
    print(f"(one change compared at {at} workflows, the largest where n8n-gitops redeploys;"
          f" the reconciler applied with RECONCILER_APPLY_WORKERS={WORKERS})")
    print(f"first_deploy_ratio={first:.2f} one_change_ratio={change:.2f} "
          f"one_change_write_ratio={write_ratio:.2f}")


if __name__ == "__main__":
    main()

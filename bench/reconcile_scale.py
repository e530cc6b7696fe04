"""Reconcile at scale against a real n8n: 100 use cases, 1,000 instances.

Generates a repository, starts a managed n8n in a temporary folder, then measures:
the pure plan time, the first apply, a reconcile with nothing to do, and one changed
workflow published to the instances that follow it. Prints n8n reads and writes for
each, and times as ratios to the no-op reconcile (one run, one machine).

    .venv/bin/python bench/reconcile_scale.py [--use-cases 100] [--instances 1000] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.adapters import n8n_server
from reconciler.adapters.n8n_client import N8nClient
from reconciler.adapters.secrets import DirSecretSource
from reconciler.apply.engine import Engine
from reconciler.apply.observe import observe
from reconciler.load.repository import load
from reconciler.load.source import FolderSource
from reconciler.plan.inputs import PlanInput
from reconciler.plan.planner import make_plan
from reconciler.store.db import Store
from reconciler.store.state import snapshot

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_repo import generate  # a sibling module, not a package


def timed(label: str, fn: Any, client: N8nClient, rows: list[tuple[str, float, int, int]]) -> Any:
    client.counter.reset()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    counts = client.counter.snapshot()
    rows.append((label, seconds, counts["reads"], counts["writes"]))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--use-cases", type=int, default=100)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="3 use cases, 6 instances")
    args = parser.parse_args()
    if args.quick:
        args.use_cases, args.instances = 3, 6
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        root = Path(tmp)
        repo = root / "repo"
        generate(repo, args.use_cases, args.instances)
        info = n8n_server.up(root / "n8n", log=lambda line: None)
        try:
            run(root, repo, info, args)
        finally:
            n8n_server.down(root / "n8n", log=lambda line: None)


def run(root: Path, repo: Path, info: n8n_server.ServerInfo, args: argparse.Namespace) -> None:
    rows: list[tuple[str, float, int, int]] = []
    (root / "secrets").mkdir()
    with N8nClient(info.url, info.api_key, max_concurrency=8) as client:
        store = Store(root / "state.sqlite")
        engine = Engine(store, client, DirSecretSource(root / "secrets"), b"b" * 32, info.url)
        declared = load(FolderSource(repo))
        pubs = frozenset((f"uc{u}", "1.0.0") for u in range(args.use_cases))
        first = timed("first apply", lambda: engine.reconcile(declared, publications=pubs),
                      client, rows)
        assert first.outcome == "applied", first.error
        noop = timed("no-op reconcile", lambda: engine.reconcile(declared, publications=pubs),
                     client, rows)
        assert noop.outcome == "no_changes", noop.plan
        observed = observe(client)
        inp = PlanInput(declared=declared, state=snapshot(store), observed=observed,
                        publications=pubs, n8n_base_url=info.url)
        start = time.perf_counter()
        make_plan(inp)
        rows.append(("pure plan (no I/O)", time.perf_counter() - start, 0, 0))
        path = repo / "use-cases" / "uc0" / "workflows" / "main.json"
        path.write_text(path.read_text().replace('"lastNode"', '"onReceived"'))
        (repo / "use-cases" / "uc0" / "version.json").write_text('{"version": "1.1.0"}\n')
        changed = load(FolderSource(repo))
        pubs2 = pubs | {("uc0", "1.1.0")}
        one = timed("one changed workflow",
                    lambda: engine.reconcile(changed, publications=pubs2), client, rows)
        assert one.outcome == "applied", one.error
    base = rows[1][1]
    print(f"{args.use_cases} use cases, {args.instances} declared instances "
          f"(+{2 * args.use_cases} owner environments)")
    print(f"{'measure':<24}{'seconds':>10}{'x no-op':>10}{'reads':>8}{'writes':>8}")
    for label, seconds, reads, writes in rows:
        print(f"{label:<24}{seconds:>10.2f}{seconds / base:>10.1f}{reads:>8}{writes:>8}")


if __name__ == "__main__":
    main()

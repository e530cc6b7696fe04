"""Plan at scale: the pure plan at 1,000 / 3,000 / 10,000 instances, and a no-op
reconcile against a real n8n next to the bare paged list reads it cannot do without.

The pure plan is the offline plan (`plan --offline`) of a generated repository against
the state its first apply leaves (made from the first plan's steps, no n8n): every
instance is compared, nothing changes. The growth exponent is the slope of
log(time) over log(instances) from the smallest to the largest size. The no-op
reconcile (observe, plan, no writes) is timed against a real n8n holding the
instances of the live size, after a real first apply; the floor is what any tool
must do to know the live state: list every workflow (paged, 250 a page) and the
credentials, nothing else. Peak RSS is the process's, after the largest plan.

    .venv/bin/python bench/plan_scale.py [--sizes 1000,3000,10000] [--live 1000] [--quick]

Last line: plan_1k_s=… plan_10k_s=… exponent=… noop_over_floor=… peak_rss_mb=…
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

from reconciler.adapters import n8n_server
from reconciler.adapters.n8n_client import N8nClient
from reconciler.adapters.secrets import DirSecretSource
from reconciler.apply.engine import Engine
from reconciler.daemon.offline import recorded_observation, recorded_secrets
from reconciler.load.repository import load
from reconciler.load.source import FolderSource
from reconciler.model.platform import PlatformState
from reconciler.plan.inputs import Observed, PlanInput
from reconciler.plan.planner import make_plan
from reconciler.store.db import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_repo import applied_state, generate, publications  # a sibling module

PER_USE_CASE = 10  # instances per use case


def pure_plan(root: Path, instances: int, repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds, best of `repeat` offline no-op plans of a generated repository.

    CPU time is what the exponent is computed from: on a shared machine the wall time
    of one run also measures the neighbours."""
    use_cases = max(1, instances // PER_USE_CASE)
    repo = root / f"repo-{instances}"
    generate(repo, use_cases, instances)
    declared = load(FolderSource(repo))
    pubs = publications(use_cases)
    first = make_plan(PlanInput(declared=declared, state=PlatformState(version=0),
                                observed=Observed(workflows={}, credential_ids=frozenset()),
                                publications=pubs))
    state = applied_state(first, declared)
    inp = PlanInput(declared=declared, state=state, observed=recorded_observation(state),
                    publications=pubs, secrets=recorded_secrets(state))
    best = cpu = math.inf
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        plan = make_plan(inp)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
        assert not plan.steps, f"not a no-op plan: {plan.steps[:3]}"
    return best, cpu


def floor_and_noop(root: Path, instances: int, rounds: int) -> tuple[float, float, int]:
    """(best bare list reads, best no-op reconcile, its writes) on a real n8n."""
    use_cases = max(1, instances // PER_USE_CASE)
    repo = root / f"live-{instances}"
    generate(repo, use_cases, instances)
    info = n8n_server.up(root / "n8n", log=lambda line: None)
    try:
        (root / "secrets").mkdir(exist_ok=True)
        with N8nClient(info.url, info.api_key, max_concurrency=8) as client:
            store = Store(root / "state.sqlite")
            engine = Engine(store, client, DirSecretSource(root / "secrets"), b"b" * 32,
                            info.url)
            declared = load(FolderSource(repo))
            pubs = publications(use_cases)
            first = engine.reconcile(declared, publications=pubs)
            assert first.outcome == "applied", first.error
            floor = noop = math.inf
            writes = 0
            for _ in range(rounds):  # interleaved, so both see the same machine load
                start = time.perf_counter()
                list(client.list_workflows())
                client.list_credentials()
                floor = min(floor, time.perf_counter() - start)
                client.counter.reset()
                start = time.perf_counter()
                result = engine.reconcile(declared, publications=pubs)
                noop = min(noop, time.perf_counter() - start)
                assert result.outcome == "no_changes", result.plan
                writes = max(writes, client.counter.snapshot()["writes"])
            return floor, noop, writes
    finally:
        n8n_server.down(root / "n8n", log=lambda line: None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--live", type=int, default=1000,
                        help="instances of the no-op reconcile on real n8n (0: skip)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100/300 instances, 10 live")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.live, args.repeat = "100,300", 10, 1
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="reconciler-plan-scale-") as tmp:
        root = Path(tmp)
        times = {n: pure_plan(root, n, args.repeat) for n in sizes}
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        floor = noop = math.nan
        writes = 0
        if args.live:
            floor, noop, writes = floor_and_noop(root, args.live, max(3, args.repeat))
    print(f"{'instances':>10}{'wall s':>10}{'CPU s':>10}{'CPU ms/instance':>17}")
    for n, (seconds, cpu) in times.items():
        print(f"{n:>10}{seconds:>10.3f}{cpu:>10.3f}{cpu * 1000 / n:>17.3f}")
    if args.live:
        print(f"no-op reconcile at {args.live} instances: {noop:.3f} s, {writes} writes; "
              f"bare list reads {floor:.3f} s")
    lo, hi = sizes[0], sizes[-1]
    cpu_lo, cpu_hi = times[lo][1], times[hi][1]
    exponent = math.log(cpu_hi / cpu_lo) / math.log(hi / lo) if hi != lo else 1.0
    one_k = times.get(1000, times[lo])[0]
    ten_k = times.get(10000, times[hi])[0]
    print(f"plan_1k_s={one_k:.3f} plan_10k_s={ten_k:.3f} exponent={exponent:.2f} "
          f"noop_over_floor={noop / floor:.2f} peak_rss_mb={rss_mb:.0f}")


if __name__ == "__main__":
    main()

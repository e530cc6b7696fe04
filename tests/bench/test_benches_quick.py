"""Every bench runs in its --quick mode, so none can rot unnoticed.

The benches start their own n8n (in a temporary folder) and print figures; here only
that they run to the end and print their summary line is checked, not the figures
(timed tests on a shared machine would be flaky).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.n8n

BENCH = Path(__file__).resolve().parents[2] / "bench"
# Modules the benches share, not benches.
HELPERS = {"scale_repo.py", "counting_proxy.py"}
BENCHES = sorted(p.name for p in BENCH.glob("*.py") if p.name not in HELPERS)
LAST_LINE = {
    "plan_scale.py": r"^plan_1k_s=[\d.]+ plan_10k_s=[\d.]+ exponent=-?[\d.]+ "
                     r"noop_over_floor=[\d.]+ peak_rss_mb=\d+$",
    "vs_n8n_gitops.py": r"^first_deploy_ratio=[\d.]+ one_change_ratio=[\d.]+ "
                        r"one_change_write_ratio=[\d.]+$",
}


def test_every_bench_is_listed() -> None:
    assert {"plan_scale.py", "reconcile_scale.py", "commit_to_live.py"} <= set(BENCHES)


@pytest.mark.parametrize("name", BENCHES)
def test_bench_runs_quick(name: str) -> None:
    done = subprocess.run([sys.executable, str(BENCH / name), "--quick"], capture_output=True,
                          text=True, timeout=1200, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines, f"{name} printed nothing"
    if name in LAST_LINE:
        assert re.match(LAST_LINE[name], lines[-1]), lines[-1]

"""The /metrics exposition: the names, per-instance series, n8n request histograms, and
`promtool check metrics` clean (promtool comes from scripts/setup)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from reconciler.adapters.n8n_client import N8nClient
from reconciler.daemon.metrics import Metrics
from reconciler.errors import N8nNotFound
from reconciler.store.db import Store, now


def _state(path: Path) -> Path:
    store = Store(path)
    rows = [("lead-enrichment-globex", "lead-enrichment", "prod", "1.3.0", "active"),
            ("inbox-triage-carol-dev", "inbox-triage", "dev", "1.0.0", "active"),
            ("inbox-triage-dave", "inbox-triage", "prod", None, "missing_integration")]
    with store.transaction() as c:
        for iid, uc, env, version, state in rows:
            c.execute("INSERT INTO instances (id, use_case, owner_org, environment, automatic,"
                      " version, pinned, active, state, sharing, parameters, created_at,"
                      " updated_at) VALUES (?, ?, 'acme', ?, 0, ?, 0, 1, ?, '{}', '{}', ?, ?)",
                      (iid, uc, env, version, state, now(), now()))
        c.execute("INSERT INTO runs (started_at, finished_at, trigger, outcome, summary) "
                  "VALUES (?, ?, 'cli', 'applied', ?)",
                  (now(), now(), json.dumps({"drift": ["inbox-triage-carol-dev/triage"]})))
    store.close()
    return path


def _promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: run `bash scripts/setup` (Debian's prometheus package)"
    return found


@pytest.mark.n8n
def test_metrics_are_named_by_the_conventions(tmp_path: Path, n8n_client: N8nClient) -> None:
    metrics = Metrics()
    n8n_client.list_workflows()
    with pytest.raises(N8nNotFound):
        n8n_client.get_workflow("no-such-workflow")
    metrics.refresh_instances(_state(tmp_path / "state.sqlite"))
    text = generate_latest(metrics.registry).decode()

    check = subprocess.run([_promtool(), "check", "metrics"], input=text, text=True,
                           capture_output=True, check=False)
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr

    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ("reconciler_build_info", "reconciler_instance_info",
                 "reconciler_instance_synced", "reconciler_instance_drifted",
                 "reconciler_n8n_request_duration_seconds", "reconciler_reconciles",
                 "reconciler_n8n_requests", "process_cpu_seconds", "python_info"):
        assert name in families, name
    info = {s.labels["instance"]: s.labels
            for s in families["reconciler_instance_info"].samples}
    assert info["lead-enrichment-globex"] == {
        "instance": "lead-enrichment-globex", "use_case": "lead-enrichment",
        "environment": "prod", "version": "1.3.0", "state": "active"}
    synced = {s.labels["instance"]: s.value for s in families["reconciler_instance_synced"].samples}
    assert synced == {"lead-enrichment-globex": 1, "inbox-triage-carol-dev": 1,
                      "inbox-triage-dave": 0}
    drifted = {s.labels["instance"]: s.value
               for s in families["reconciler_instance_drifted"].samples}
    assert drifted["inbox-triage-carol-dev"] == 1 and drifted["lead-enrichment-globex"] == 0
    codes = {(s.labels["method"], s.labels["code"])
             for s in families["reconciler_n8n_request_duration_seconds"].samples
             if s.name.endswith("_count")}
    assert ("GET", "200") in codes and ("GET", "404") in codes

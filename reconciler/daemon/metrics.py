"""Prometheus metrics of one daemon, in its own registry (tests run several daemons).

Names follow Prometheus conventions (`promtool check metrics` is clean): base units,
`_total` counters, `_info` series set to 1 whose labels carry the facts (Argo CD's
`argocd_app_info`, Flux's `gotk_resource_info`).
"""

from __future__ import annotations

import contextlib
import json
import platform
import sqlite3
from importlib import metadata
from pathlib import Path
from typing import Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

from reconciler.adapters.n8n_client import observe_requests
from reconciler.apply.engine import RunOutcome
from reconciler.daemon.credit_metrics import CreditGauges, credit_gauges
from reconciler.errors import StateError
from reconciler.store import pg
from reconciler.store.db import Connection

_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900)
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_UNSYNCED = ("deploy_failed", "missing_integration")


def _version() -> str:
    try:
        return metadata.version("n8n-reconciler")
    except metadata.PackageNotFoundError:
        return "0"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            r.register(collector)  # process_*, python_info, python_gc_*
        Gauge("reconciler_build_info", "The running reconciler's version (always 1)",
              ["version", "python_version"], registry=r).labels(
                  _version(), platform.python_version()).set(1)
        self.duration = Histogram("reconciler_reconcile_duration_seconds",
                                  "Duration of one reconcile", buckets=_BUCKETS, registry=r)
        self.outcomes = Counter("reconciler_reconciles", "Reconciles by outcome",
                                ["outcome"], registry=r)
        self.n8n_requests = Counter("reconciler_n8n_requests", "n8n API requests by kind",
                                    ["kind"], registry=r)
        self.n8n_duration = Histogram(
            "reconciler_n8n_request_duration_seconds",
            "Duration of n8n API requests by method and HTTP status code (code 0: no answer)",
            ["method", "code"], buckets=_REQUEST_BUCKETS, registry=r)
        self.drift = Gauge("reconciler_drift_workflows",
                           "Workflows found drifted in the last reconcile", registry=r)
        self.instances = Gauge("reconciler_instances", "Instances by state", ["state"],
                               registry=r)
        self.instance_info = Gauge(
            "reconciler_instance_info", "One series per instance (always 1)",
            ["instance", "use_case", "environment", "version", "state"], registry=r)
        self.instance_synced = Gauge(
            "reconciler_instance_synced",
            "1 when the instance matches the repository, 0 when its last deployment or "
            "step failed or it misses a secret", ["instance"], registry=r)
        self.instance_drifted = Gauge(
            "reconciler_instance_drifted",
            "1 when the last reconcile found hand edits in the instance's workflows",
            ["instance"], registry=r)
        self.fetch_failures = Counter("reconciler_git_fetch_failures",
                                      "Failed fetches of the repository", registry=r)
        self.last_success = Gauge("reconciler_last_success_timestamp_seconds",
                                  "Unix time of the last successful reconcile", registry=r)
        self.revision_invalid = Gauge("reconciler_revision_invalid",
                                      "1 while the tracked commit does not load or validate",
                                      registry=r)
        self.tags_deleted = Counter("reconciler_release_tags_deleted",
                                    "Release tags seen deleted (never unpublished)", registry=r)
        self.credits = credit_gauges(r)
        self.smoke_tests = Counter("reconciler_smoke_tests", "Smoke test results by use case "
                                   "and outcome (passed, failed)", ["use_case", "outcome"],
                                   registry=r)
        self.smoke_passing = Gauge("reconciler_smoke_passing", "1 when the newest smoke test "
                                   "run on the owner's dev instance passed", ["use_case"],
                                   registry=r)
        self.smoke_duration = Histogram("reconciler_smoke_test_duration_seconds",
                                        "Duration of one smoke test call", buckets=_BUCKETS,
                                        registry=r)
        observe_requests(self)

    def observe_request(self, method: str, status: int | None, seconds: float) -> None:
        """Called by the n8n client after every attempt (retries included)."""
        self.n8n_duration.labels(method.upper(), str(status or 0)).observe(seconds)

    def record(self, out: RunOutcome, seconds: float) -> None:
        self.duration.observe(seconds)
        self.outcomes.labels(out.outcome).inc()
        self.n8n_requests.labels("read").inc(out.reads)
        self.n8n_requests.labels("write").inc(out.writes)
        self.drift.set(len(out.summary.get("drift", []) or []))

    def refresh_instances(self, state: Path) -> None:
        """Instance series, read on a connection of its own (the writer keeps its own)."""
        url = pg.postgres_url(state)
        if url is not None:
            # Unreachable for now: /readyz says so, and the series keep their values.
            with contextlib.suppress(StateError):
                self._set_instances(_pg_instance_rows(url, self.credits))
            return
        try:
            conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5)
            try:
                rows = instance_rows(conn)
                self.credits.refresh(conn)
            finally:
                conn.close()
        except sqlite3.Error:
            return
        self._set_instances(rows)

    def _set_instances(self, rows: list[dict[str, Any]]) -> None:
        counts: dict[str, int] = {}
        for gauge in (self.instances, self.instance_info, self.instance_synced,
                      self.instance_drifted):
            gauge.clear()
        for row in rows:
            counts[row["state"]] = counts.get(row["state"], 0) + 1
            self.instance_info.labels(row["id"], row["use_case"], row["environment"],
                                      row["version"] or "", row["state"]).set(1)
            self.instance_synced.labels(row["id"]).set(int(row["synced"]))
            self.instance_drifted.labels(row["id"]).set(int(row["drifted"]))
        for name, count in counts.items():
            self.instances.labels(name).set(count)


def _pg_instance_rows(url: str, credits: CreditGauges) -> list[dict[str, Any]]:
    conn = pg.PgConnection(url, connect_timeout=5)
    try:
        credits.refresh(conn)
        return instance_rows(conn)
    finally:
        conn.close()


def instance_rows(conn: Connection) -> list[dict[str, Any]]:
    """Each instance with its sync and drift status as of the last finished run."""
    last = conn.execute("SELECT id, summary FROM runs WHERE finished_at IS NOT NULL "
                        "ORDER BY id DESC LIMIT 1").fetchone()
    failed: set[str] = set()
    drifted: set[str] = set()
    if last is not None:
        failed = {str(r[0]) for r in conn.execute(
            "SELECT DISTINCT instance_id FROM run_steps WHERE run_id=? AND outcome='failed' "
            "AND instance_id IS NOT NULL", (last[0],))}
        summary = json.loads(last[1] or "{}")
        drifted = {str(t).split("/", 1)[0] for t in summary.get("drift", []) or []}
    deploy_failed = {str(r[0]) for r in conn.execute(
        "SELECT instance_id FROM deployments d WHERE id = (SELECT max(id) FROM deployments "
        "WHERE instance_id = d.instance_id) AND status = 'failed'")}
    rows = []
    for iid, use_case, env, version, state in conn.execute(
            "SELECT id, use_case, environment, version, state FROM instances ORDER BY id"):
        synced = state not in _UNSYNCED and iid not in failed | deploy_failed
        rows.append({"id": iid, "use_case": use_case, "environment": env, "version": version,
                     "state": state, "synced": synced, "drifted": iid in drifted})
    return rows

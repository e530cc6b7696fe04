"""Prometheus metrics of one daemon, in its own registry (tests run several daemons)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from reconciler.apply.engine import RunOutcome

_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.duration = Histogram("reconciler_reconcile_duration_seconds",
                                  "Duration of one reconcile", buckets=_BUCKETS, registry=r)
        self.outcomes = Counter("reconciler_reconciles", "Reconciles by outcome",
                                ["outcome"], registry=r)
        self.n8n_requests = Counter("reconciler_n8n_requests", "n8n API requests by kind",
                                    ["kind"], registry=r)
        self.drift = Gauge("reconciler_drift_workflows",
                           "Workflows found drifted in the last reconcile", registry=r)
        self.instances = Gauge("reconciler_instances", "Instances by state", ["state"],
                               registry=r)
        self.fetch_failures = Counter("reconciler_git_fetch_failures",
                                      "Failed fetches of the repository", registry=r)
        self.last_success = Gauge("reconciler_last_success_timestamp_seconds",
                                  "Unix time of the last successful reconcile", registry=r)
        self.revision_invalid = Gauge("reconciler_revision_invalid",
                                      "1 while the tracked commit does not load or validate",
                                      registry=r)
        self.tags_deleted = Counter("reconciler_release_tags_deleted",
                                    "Release tags seen deleted (never unpublished)", registry=r)

    def record(self, out: RunOutcome, seconds: float) -> None:
        self.duration.observe(seconds)
        self.outcomes.labels(out.outcome).inc()
        self.n8n_requests.labels("read").inc(out.reads)
        self.n8n_requests.labels("write").inc(out.writes)
        self.drift.set(len(out.summary.get("drift", []) or []))

    def refresh_instances(self, state: Path) -> None:
        """Instances by state, read on a connection of its own (the writer keeps its own)."""
        try:
            conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5)
            try:
                rows = conn.execute("SELECT state, count(*) FROM instances GROUP BY state")
                counts = {str(s): int(n) for s, n in rows}
            finally:
                conn.close()
        except sqlite3.Error:
            return
        self.instances.clear()
        for name, count in counts.items():
            self.instances.labels(name).set(count)

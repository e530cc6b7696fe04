"""The daemon's side of smoke tests: run the due ones after a reconcile, count them,
and ask for another reconcile when a release waiting for them can now go out."""

from __future__ import annotations

from reconciler.api.smoke_due import SmokeSettings, run_due
from reconciler.apply.runtime import n8n_from_env
from reconciler.daemon.logs import log
from reconciler.daemon.metrics import Metrics
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.load.releases import Releases
from reconciler.model.repository import DeclaredState
from reconciler.store.db import Store


def after_reconcile(store: Store, hash_key: bytes | None, declared: DeclaredState,
                    releases: Releases, metrics: Metrics) -> bool:
    """Run the due smoke tests; True when a tag waits for a version that now passed."""
    try:
        url, key = n8n_from_env()
    except ConfigError:
        return False  # no n8n to call (a test daemon with a fake client)
    try:
        batches = run_due(SmokeSettings(store.path, url, key, hash_key), declared,
                          trigger="daemon")
    except ReconcilerError as exc:
        log().error("smoke tests could not run", extra={"fields": {"error": str(exc)}})
        return False
    unblocked = False
    for batch in batches:
        for result in batch.results:
            metrics.smoke_tests.labels(batch.use_case, "passed" if result.passed
                                       else "failed").inc()
            metrics.smoke_duration.observe(result.duration_ms / 1000)
        metrics.smoke_passing.labels(batch.use_case).set(int(batch.passed))
        log().info("smoke tests ran", extra={"fields": {
            "use_case": batch.use_case, "version": batch.version, "passed": batch.passed,
            "tests": len(batch.results)}})
        unblocked |= batch.passed and (batch.use_case, batch.version) in releases.publications
    return unblocked

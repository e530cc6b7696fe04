"""The daemon's reconcile loop: poll git, decide whether to reconcile, retry with backoff.

One reconcile at a time (a lock), driven by one apscheduler job; a webhook or a
failed run moves that job's next run time instead of starting a second thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from reconciler.apply.engine import Engine
from reconciler.daemon.config import DaemonConfig
from reconciler.daemon.gitwatch import GitWatcher, Seen
from reconciler.daemon.logs import log
from reconciler.daemon.metrics import Metrics
from reconciler.daemon.records import (
    N8N_URL_KEY,
    last_tags,
    record_failure,
    save_tags,
    set_meta,
)
from reconciler.daemon.revision_cache import RevisionCache
from reconciler.daemon.smoke import after_reconcile
from reconciler.errors import GitError, InvalidInput, Problem
from reconciler.load.releases import TAG_RE, Releases, read_releases
from reconciler.load.repository import load_partial
from reconciler.load.source import GitSource
from reconciler.model.repository import DeclaredState

JOB_ID = "reconcile"
GOOD = ("applied", "no_changes")
# Some units were held back by the gate, everything else applied: the daemon goes on
# (resyncs, drift) and reports the held units until a commit fixes them.
HELD = "held"


@dataclass
class Health:
    """What /readyz and the logs report; written by the loop thread only."""

    started_at: float = field(default_factory=time.time)
    last_run_id: int | None = None
    last_outcome: str | None = None
    last_success: float | None = None
    failing_since: float | None = None
    failures: int = 0
    waiting_for_fix: bool = False  # the repository does not load: wait for a new commit
    fetched_at: float | None = None  # the last good fetch (or read of a local path)
    fetch_error: str | None = None  # why the last fetch failed; None once one succeeds
    invalid_revision: str | None = None  # the commit that does not load or validate
    invalid_problems: int = 0
    invalid_detail: str = ""
    role: str = "single"  # a PostgreSQL state's replicas: "leader" or "follower" (ha.py)


@dataclass(frozen=True)
class Tick:
    run_id: int | None
    outcome: str
    reason: str


class Daemon:
    def __init__(self, config: DaemonConfig, engine: Engine, watcher: GitWatcher,
                 metrics: Metrics | None = None) -> None:
        self.config = config
        self.engine = engine
        self.store = engine.store
        self.watcher = watcher
        self.metrics = metrics or Metrics()
        self.health = Health()
        self.scheduler: BackgroundScheduler | None = None
        self._run_lock = threading.Lock()
        self._pending: str | None = None  # a reason to reconcile now (webhook)
        self._attempted: Seen | None = None
        self._last_reconcile = 0.0
        self._retry_at: float | None = None
        # Replicas on a PostgreSQL state: only the lease holder polls and reconciles.
        self.may_reconcile: Callable[[], bool] = lambda: True
        self.revisions = RevisionCache()  # same commit, same tags: nothing is parsed again

    # --- scheduling ------------------------------------------------------------------

    def start(self) -> None:
        """Poll every interval (with jitter); the first poll runs at once."""
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(self._scheduled, IntervalTrigger(seconds=self.config.interval,
                                                           jitter=self.config.jitter or None),
                          id=JOB_ID, max_instances=1, coalesce=True, misfire_grace_time=None,
                          next_run_time=datetime.now(UTC))
        scheduler.start()
        self.scheduler = scheduler

    def shutdown(self) -> None:
        """Stop the engine between steps and wait for the job in flight."""
        self.engine.stop.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None

    def request(self, reason: str) -> None:
        """Reconcile as soon as possible (a webhook): wakes the job now."""
        self._pending = reason
        self._wake(0)

    def rerun_wanted(self) -> bool:
        """Whether the last reconcile asked for another (smoke tests released a tag)."""
        return self._pending == "smoke"

    def _wake(self, delay: float) -> None:
        scheduler = self.scheduler
        if scheduler is None or not scheduler.running:
            return
        at = datetime.now(UTC) + timedelta(seconds=delay)
        job = scheduler.get_job(JOB_ID)
        if job is not None and (job.next_run_time is None or at < job.next_run_time):
            job.modify(next_run_time=at)

    def _scheduled(self) -> None:
        self.tick("schedule")
        if self._pending is not None:
            self._wake(0)  # a webhook arrived while we were busy
        elif self._retry_at is not None:
            self._wake(max(0.0, self._retry_at - time.time()))

    # --- one poll ----------------------------------------------------------------------

    def tick(self, reason: str = "schedule", force: bool = False) -> Tick | None:
        """Fetch, and reconcile when git moved, a resync or retry is due, or asked to."""
        with self._run_lock:
            if self.engine.stop.is_set():
                return None
            asked, self._pending = self._pending, None
            try:
                return self._tick(asked or reason, force or asked is not None)
            except Exception as exc:  # a bug must not kill the daemon; type only, no text
                log().exception("reconcile crashed", extra={"fields": {
                    "error": type(exc).__name__}})
                self._failed(None, "crashed", permanent=False)
                return Tick(None, "crashed", reason)

    def _tick(self, reason: str, force: bool) -> Tick | None:
        if not self.may_reconcile():
            return None
        try:
            seen = self.watcher.poll()
        except GitError as exc:
            self.health.fetch_error = str(exc)
            self.metrics.fetch_failures.inc()
            log().error("cannot read the repository", extra={"fields": {"error": str(exc)}})
            run_id = record_failure(self.store, trigger=f"daemon:{reason}", revision=None,
                                    error=f"git: {exc}")
            self._failed(run_id, "failed", permanent=False)
            return Tick(run_id, "failed", reason)
        self.health.fetched_at, self.health.fetch_error = time.time(), None
        why = reason if force else self._why(seen)
        if why is None:
            return None
        return self._reconcile(seen, why)

    def _why(self, seen: Seen) -> str | None:
        now = time.time()
        if self._attempted is None:
            return "startup"
        if seen.branch != self._attempted.branch:
            return "git:branch"
        if seen.tags != self._attempted.tags:
            return "git:tags"
        if self.health.waiting_for_fix:
            return None  # nothing to retry until git moves
        if self._retry_at is not None and now >= self._retry_at:
            return "retry"
        if now - self._last_reconcile >= self.config.resync:
            return "resync"
        return None

    # --- one reconcile -------------------------------------------------------------------

    def _reconcile(self, seen: Seen, why: str) -> Tick:
        trigger = f"daemon:{why}"
        extra: dict[str, Any] = {"daemon": {"branch": self.config.branch, "commit": seen.branch,
                                            "reason": why}}
        deleted = self._deleted_tags(seen)
        if deleted:
            extra["tags_deleted"] = deleted
            extra["warnings"] = [f"tag deleted: {t} (its version stays published; publish "
                                 "another version to move on)" for t in deleted]
            self.metrics.tags_deleted.inc(len(deleted))
            log().warning("release tag deleted; nothing is unpublished",
                          extra={"fields": {"tags": ",".join(deleted)}})
        self._attempted = seen
        self._last_reconcile = time.time()
        loaded = self._load(seen, trigger, extra)
        if isinstance(loaded, Tick):
            save_tags(self.store, seen.tags)
            return loaded
        declared, releases = loaded
        started = time.perf_counter()
        out = self.engine.reconcile(declared, trigger=trigger,
                                    publications=frozenset(releases.publications),
                                    releases=releases.contents,
                                    release_problems=releases.problems, extra_summary=extra)
        seconds = time.perf_counter() - started
        self.metrics.record(out, seconds)
        save_tags(self.store, seen.tags)
        set_meta(self.store, N8N_URL_KEY, self.engine.base_url)
        self.metrics.refresh_instances(self.store.path)
        if after_reconcile(self.store, self.engine.hash_key, declared, releases, self.metrics):
            self._pending = "smoke"  # a held release passed its tests: publish it now
        log().info("reconciled", extra={"fields": {
            "run": out.run_id, "outcome": out.outcome, "reason": why,
            "commit": seen.branch[:12], "reads": out.reads, "writes": out.writes,
            "seconds": round(seconds, 3)}})
        if out.outcome in GOOD or out.outcome == HELD:
            self._succeeded(out.run_id, out.outcome)
            held = [p for k, _, ps in (out.plan.held if out.plan else ()) for p in ps
                    if k != "release"]  # a release waiting for its tests is no bad commit
            self._revision_valid(seen.branch if held else None, held)
            if out.outcome == HELD:
                log().error("held back by the gate", extra={"fields": {
                    "run": out.run_id, "error": out.error or ""}})
        elif out.outcome != "stopped":
            log().error("reconcile failed", extra={"fields": {"run": out.run_id,
                                                              "error": out.error or ""}})
            self._failed(out.run_id, out.outcome, permanent=False)
        return Tick(out.run_id, out.outcome, why)

    def _load(self, seen: Seen, trigger: str,
              extra: dict[str, Any]) -> tuple[DeclaredState, Releases] | Tick:
        """The branch head and the release tags, or a failed run naming every problem."""
        repo = self.watcher.repository()
        label = f"{self.watcher.label}@{self.config.branch}"
        try:  # a partial load: the gate holds back what did not load, the rest goes on
            declared = self.revisions.state(seen.branch) or load_partial(
                GitSource(repo, seen.branch, label=label))
            releases = self.revisions.releases_for(seen.tags) or read_releases(repo)
        except InvalidInput as exc:
            return self._bad_input(seen, trigger, exc.problems, extra)
        except GitError as exc:
            return self._bad_input(seen, trigger, [Problem(label, str(exc), rule="git")], extra)
        self.revisions.keep_state(seen.branch, declared)
        self.revisions.keep_releases(seen.tags, releases)
        return declared, releases

    def _bad_input(self, seen: Seen, trigger: str, problems: Sequence[Problem],
                   extra: dict[str, Any]) -> Tick:
        listed = list(problems)
        error = (f"{len(listed)} problem(s) at {seen.branch[:12]}; nothing applied, the last "
                 "good state stays live: " + "; ".join(str(p) for p in listed[:20]))
        run_id = record_failure(self.store, trigger=trigger, revision=seen.branch, error=error,
                                problems=listed, extra=extra)
        self.metrics.outcomes.labels("failed").inc()
        self._revision_valid(seen.branch, listed)
        for problem in listed:
            log().error("invalid input", extra={"fields": {"problem": str(problem)}})
        self._failed(run_id, "failed", permanent=True)
        return Tick(run_id, "failed", trigger.removeprefix("daemon:"))

    def _revision_valid(self, invalid: str | None, problems: Sequence[Problem]) -> None:
        """Reported by /readyz and the `reconciler_revision_invalid` gauge, never as
        unreadiness: the webhook carrying the fix must still get through."""
        h = self.health
        h.invalid_revision, h.invalid_problems = invalid, len(problems)
        h.invalid_detail = "; ".join(str(p) for p in problems[:5])
        self.metrics.revision_invalid.set(0 if invalid is None else 1)

    def _deleted_tags(self, seen: Seen) -> list[str]:
        before = last_tags(self.store)
        if before is None:
            return []
        return sorted(t for t in before if t not in seen.tags and TAG_RE.match(t))

    # --- outcomes ----------------------------------------------------------------------

    def _succeeded(self, run_id: int | None, outcome: str) -> None:
        h = self.health
        h.last_run_id, h.last_outcome = run_id, outcome
        h.last_success, h.failing_since, h.failures = time.time(), None, 0
        h.waiting_for_fix = False
        self._retry_at = None
        self.metrics.last_success.set(h.last_success)

    def _failed(self, run_id: int | None, outcome: str, *, permanent: bool) -> None:
        h = self.health
        h.last_run_id, h.last_outcome = run_id, outcome
        h.failures += 1
        h.failing_since = h.failing_since or time.time()
        h.waiting_for_fix = permanent
        if permanent:
            self._retry_at = None
            return
        delay = min(self.config.backoff_base * 2 ** (h.failures - 1), self.config.backoff_max)
        self._retry_at = time.time() + delay
        log().info("will retry", extra={"fields": {"in_seconds": round(delay, 1),
                                                   "failures": h.failures}})

    def status(self) -> dict[str, Any]:
        h = self.health
        return {"last_run": h.last_run_id, "last_outcome": h.last_outcome,
                "last_success": h.last_success, "failing_since": h.failing_since,
                "failures": h.failures, "waiting_for_fix": h.waiting_for_fix,
                "commit": self._attempted.branch if self._attempted else None}

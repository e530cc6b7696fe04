"""Replicas of `reconciler run` on one PostgreSQL state: exactly one leads.

Every replica serves health, metrics, the read API and the dashboard; only the one
holding the leader lease (store/lease.py) polls git and reconciles. A replica tries
to take or renew the lease every third of its time-to-live, so a killed leader is
replaced within `ttl + ttl/3` (under twice the lease time). The leader's store runs
the lease's fencing check in every write transaction: once deposed, a write of
its reconcile is refused, and the reconcile ends at its next step.

A push webhook that reaches a follower is recorded in the state; the leader picks
it up at its next renewal and reconciles.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from reconciler.adapters.secrets import HASH_KEY_ENV
from reconciler.daemon.config import DaemonConfig
from reconciler.daemon.logs import log
from reconciler.daemon.loop import Daemon
from reconciler.errors import StateError, UsageError
from reconciler.store import pg
from reconciler.store.db import local_dir
from reconciler.store.lease import Lease, LeaseHeld, holder_id

WAKE_KEY = "reconcile_requested"  # meta: a follower got a push webhook


def replicated(config: DaemonConfig) -> str | None:
    """The PostgreSQL URL when the state is shared by replicas, else None (SQLite)."""
    return pg.postgres_url(config.state_file)


def check_environment(environ: dict[str, str] | None = None) -> None:
    """Replicas must digest secrets alike, or a failover rewrites every credential."""
    env = os.environ if environ is None else environ
    if not env.get(HASH_KEY_ENV):
        raise UsageError(f"a PostgreSQL state is shared by replicas: set {HASH_KEY_ENV} "
                         "(the same value on every replica, at least 16 characters)")


def repos_dir(config: DaemonConfig) -> Path:
    """This replica's git cache: replicas on one machine never share one."""
    port = "once" if config.once else config.host_port[1]
    return local_dir(config.state_file) / f"repos-{port}"


class Leadership:
    def __init__(self, daemon: Daemon, lease: Lease, *, wake: bool = True) -> None:
        self.daemon = daemon
        self.wake = wake  # `run --once` reconciles right after taking the lease anyway
        self.lease = lease
        self.leading = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = 0.0
        daemon.may_reconcile = self.leading.is_set
        daemon.health.role = "follower"

    # --- the lease thread --------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="lease", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self.step()
            if self._stop.wait(self.lease.ttl / 3):
                return

    def step(self) -> None:
        try:
            if self.leading.is_set():
                if self.lease.renew():
                    self._renewed = time.monotonic()
                    self._forwarded()
                else:
                    self._demote("another replica holds the lease")
            elif (token := self.lease.acquire()) is not None:
                self._promote(token)
        except StateError as exc:
            log().warning("cannot reach the lease", extra={"fields": {"error": str(exc)}})
            if self.leading.is_set() and time.monotonic() - self._renewed >= self.lease.ttl:
                self._demote("the lease expired unrenewed")

    def _promote(self, token: int) -> None:
        self._renewed = time.monotonic()
        self.daemon.store.lead(self.lease.fence(token), self.lease.ttl)
        count = self.daemon.store.mark_interrupted()  # the deposed leader's, fenced off now
        self.leading.set()
        self.daemon.health.role = "leader"
        log().info("leading", extra={"fields": {"token": token, "holder": self.lease.holder,
                                                 "interrupted_runs": count}})
        if self.wake:
            self.daemon.request("leader")

    def _demote(self, why: str) -> None:
        # The fence keeps the old token: a write still in flight is refused.
        self.leading.clear()
        self.daemon.health.role = "follower"
        log().warning("no longer leading", extra={"fields": {"reason": why}})

    # --- webhooks ----------------------------------------------------------------------

    def request(self, reason: str) -> None:
        """A webhook: the leader reconciles now; a follower records it for the leader."""
        if self.leading.is_set():
            self.daemon.request(reason)
            return
        try:
            self.lease.set_meta(WAKE_KEY, reason)
        except StateError as exc:
            log().warning("cannot record the webhook for the leader",
                          extra={"fields": {"error": str(exc)}})

    def _forwarded(self) -> None:
        reason = self.lease.take_meta(WAKE_KEY)
        if reason is not None:
            self.daemon.request(f"{reason} (via a follower)")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.leading.is_set():
            self.leading.clear()
            self.lease.release()
        self.lease.close()


@contextlib.contextmanager
def replica(daemon: Daemon, config: DaemonConfig, url: str) -> Iterator[Leadership]:
    """`run`: a replica competing for the lease; `run --once`: hold it for one reconcile."""
    lease = Lease(url, holder_id(f"{config.listen}" if not config.once else "once"),
                  config.lease)
    if config.lease < 1:
        raise UsageError("lease must be at least 1 second")
    leadership = Leadership(daemon, lease, wake=not config.once)
    try:
        if config.once:
            _hold_once(leadership, config.wait_lock)
        else:
            leadership.start()
        yield leadership
    finally:
        leadership.stop()


def _hold_once(leadership: Leadership, wait: bool) -> None:
    while True:
        leadership.step()
        if leadership.leading.is_set():
            leadership.start()  # renews while the reconcile runs
            return
        if not wait:
            held = leadership.lease.current()
            who = f" ({held.holder}, {held.expires_in:.0f} s left)" if held else ""
            raise LeaseHeld(f"another reconciler process{who} leads on "
                            f"{leadership.lease.label}; stop it first, or pass "
                            "--wait-lock to wait for it")
        time.sleep(leadership.lease.ttl / 3)

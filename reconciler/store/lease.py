"""One writer on a PostgreSQL state: a leader lease with a fencing token.

The lease is one row (`leases`, name `leader`): who holds it, until when, and a token
that grows by one at every change of holder. Time is the database's clock, so the
replicas' clocks may disagree. The holder renews it; anyone may take it once it has
expired. Every write transaction of the holder's reconcile runs `fence`, which reads
the row under a share lock: a deposed holder (its token is no longer the row's) gets
its write refused, and a takeover waits for a write transaction in flight to end.
The holder's store asks the server to end any transaction it leaves idle for a lease
time (`Store.lead`), so a frozen holder delays a takeover by one lease time at most.

With SQLite the file lock (`lock.py`) stays: this module is PostgreSQL only.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass

from reconciler.errors import ExitCode, ReconcilerError, StateError
from reconciler.store.db import Connection
from reconciler.store.pg import PgConnection, redacted

NAME = "leader"
_NOW = "extract(epoch from clock_timestamp())"


class Deposed(StateError):
    """A write of a holder that lost the lease: refused, nothing of it is stored."""

    exit_code = ExitCode.CONFIG


class LeaseHeld(ReconcilerError):
    """Another process holds the lease (a running daemon leads)."""

    exit_code = ExitCode.CONFIG


@dataclass(frozen=True)
class Holder:
    holder: str
    token: int
    expires_in: float


def holder_id(tag: str = "") -> str:
    """Names the process in the lease row: host, pid and what it is (no secret)."""
    return f"{socket.gethostname()}:{os.getpid()}" + (f":{tag}" if tag else "")


class Lease:
    """The lease seen by one process, on a connection of its own (a renewal never waits
    behind the reconcile's statements)."""

    def __init__(self, url: str, holder: str, ttl: float) -> None:
        self.url = url
        self.holder = holder
        self.ttl = ttl
        self.token: int | None = None
        self._conn: PgConnection | None = None
        self._lock = threading.Lock()

    def _session(self) -> PgConnection:
        if self._conn is None:
            # A lock wait (behind a holder's write) never outlasts a lease time: the
            # thread tries again at its next turn instead of hanging.
            wait = str(max(1000, int(self.ttl * 1000)))
            self._conn = PgConnection(self.url, connect_timeout=max(1.0, self.ttl / 3),
                                      settings={"lock_timeout": wait})
        return self._conn

    def _run(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        """One statement; a broken connection is dropped and made anew next time."""
        with self._lock:
            try:
                return [tuple(r) for r in self._session().raw(sql, args)]
            except StateError:
                if self._conn is not None:
                    with contextlib.suppress(Exception):
                        self._conn.close()
                self._conn = None
                raise

    def acquire(self) -> int | None:
        """Take the lease if it is free or expired; the new token, else None."""
        rows = self._run(
            f"INSERT INTO leases (name, holder, token, expires_at, renewed_at) "
            f"VALUES (%s, %s, 1, {_NOW} + %s, {_NOW}) ON CONFLICT (name) DO UPDATE SET "
            "holder = EXCLUDED.holder, token = leases.token + 1, "
            "expires_at = EXCLUDED.expires_at, renewed_at = EXCLUDED.renewed_at "
            f"WHERE leases.expires_at < {_NOW} RETURNING token", NAME, self.holder, self.ttl)
        self.token = int(str(rows[0][0])) if rows else None
        return self.token

    def renew(self) -> bool:
        """Extend the lease; False once another holder has it (this one is deposed)."""
        if self.token is None:
            return False
        rows = self._run(
            f"UPDATE leases SET expires_at = {_NOW} + %s, renewed_at = {_NOW} "
            "WHERE name = %s AND holder = %s AND token = %s RETURNING token",
            self.ttl, NAME, self.holder, self.token)
        if not rows:
            self.token = None
        return bool(rows)

    def release(self) -> None:
        """Give the lease up at once (a clean stop): a follower takes over at its next try."""
        if self.token is None:
            return
        with contextlib.suppress(StateError):
            self._run(f"UPDATE leases SET expires_at = {_NOW} - 1 WHERE name = %s AND "
                      "holder = %s AND token = %s", NAME, self.holder, self.token)
        self.token = None

    def current(self) -> Holder | None:
        rows = self._run(f"SELECT holder, token, expires_at - {_NOW} FROM leases "
                         "WHERE name = %s", NAME)
        if not rows:
            return None
        holder, token, left = rows[0]
        return Holder(str(holder), int(str(token)), float(str(left)))

    @property
    def label(self) -> str:
        return redacted(self.url)

    def set_meta(self, key: str, value: str) -> None:
        """A note for the leader (a follower's webhook), outside any fenced transaction."""
        self._run("INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO "
                  "UPDATE SET value = EXCLUDED.value", key, value)

    def take_meta(self, key: str) -> str | None:
        rows = self._run("DELETE FROM meta WHERE key = %s RETURNING value", key)
        return str(rows[0][0]) if rows else None

    def fence(self, token: int) -> FenceCheck:
        return FenceCheck(self.holder, token)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class FenceCheck:
    """`Store.fence` of a leader: runs inside each write transaction, on its connection."""

    def __init__(self, holder: str, token: int) -> None:
        self.holder = holder
        self.token = token

    def __call__(self, conn: Connection) -> None:
        row = conn.execute("SELECT holder, token FROM leases WHERE name = ? FOR SHARE",
                           (NAME,)).fetchone()
        if row is None or str(row[0]) != self.holder or int(row[1]) != self.token:
            raise Deposed(f"this process lost the leader lease (token {self.token}; now "
                          f"{row[1] if row else 'none'}): its write is refused, the new "
                          "leader reconciles")


class HeldLease:
    """The lease held by a one-off writer (`reconciler apply`), renewed by a thread."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.lease.ttl / 3):
            with contextlib.suppress(StateError):  # the next try reconnects
                self.lease.renew()

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.lease.release()
        self.lease.close()


def hold(url: str, wait: bool, tag: str = "apply", ttl: float = 15.0) -> HeldLease:
    """Take the leader lease for a one-off writer, or raise LeaseHeld (wait: retry)."""
    lease = Lease(url, holder_id(tag), ttl)
    while lease.acquire() is None:
        if not wait:
            held = lease.current()
            lease.close()
            who = f" ({held.holder}, {held.expires_in:.0f} s left)" if held else ""
            raise LeaseHeld(f"another reconciler process{who} leads on {lease.label}; stop "
                            "it first, or pass --wait-lock to wait for it")
        time.sleep(ttl / 3)
    return HeldLease(lease)

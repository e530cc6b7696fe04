"""The leader lease on a real PostgreSQL: one holder, takeover after expiry, fencing."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from reconciler.errors import StateError
from reconciler.store.db import Store
from reconciler.store.lease import Deposed, Lease, LeaseHeld, hold
from reconciler.store.lock import StateLock
from reconciler.store.state import StateWriter, snapshot

pytestmark = pytest.mark.postgres


def test_one_holder_then_takeover_after_expiry_with_a_new_token(pg_url: str) -> None:
    Store(pg_url).close()  # the migrations make the table
    first, second = Lease(pg_url, "a", 1.0), Lease(pg_url, "b", 1.0)
    try:
        assert first.acquire() == 1
        assert second.acquire() is None
        assert first.renew()
        time.sleep(1.2)
        assert second.acquire() == 2
        assert not first.renew() and first.token is None
        held = second.current()
        assert held is not None and (held.holder, held.token) == ("b", 2)
        second.release()
        assert first.acquire() == 3  # a released lease is free at once
    finally:
        first.close()
        second.close()


def test_a_deposed_leader_writes_nothing(pg_url: str) -> None:
    store = Store(pg_url)
    old, new = Lease(pg_url, "old", 1.0), Lease(pg_url, "new", 1.0)
    try:
        token = old.acquire()
        assert token is not None
        store.fence = old.fence(token)
        writer = StateWriter(store)
        writer.bump_version()  # the holder writes
        time.sleep(1.2)
        assert new.acquire() == token + 1
        with pytest.raises(Deposed, match="lost the leader lease"):
            writer.bump_version()
        assert snapshot(store).version == 1
    finally:
        old.close()
        new.close()
        store.close()


def test_a_holder_frozen_mid_transaction_delays_a_takeover_one_lease_time_at_most(
        pg_url: str) -> None:
    """SIGSTOP inside a write transaction: its share lock on the lease row is ended by
    the server after a lease time, the takeover goes through, the frozen write is lost."""
    store = Store(pg_url)
    old, new = Lease(pg_url, "old", 1.0), Lease(pg_url, "new", 1.0)
    try:
        token = old.acquire()
        assert token is not None
        store.lead(old.fence(token), old.ttl)
        frozen = store.transaction()
        conn = frozen.__enter__()  # fenced: holds the lease row under a share lock
        conn.execute("UPDATE meta SET value = value WHERE key = 'none'")
        started = time.monotonic()
        taken = None
        while taken is None and time.monotonic() - started < 10:
            with contextlib.suppress(StateError):  # a lock wait cut at a lease time
                taken = new.acquire()
            time.sleep(0.1)
        assert taken == token + 1, "the frozen holder kept the lease row locked"
        assert time.monotonic() - started < 4 * old.ttl
        with pytest.raises(StateError):  # it wakes: its session was ended
            conn.execute("UPDATE meta SET value = value WHERE key = 'none'")
        with contextlib.suppress(StateError):
            frozen.__exit__(None, None, None)
        with pytest.raises(Deposed):  # a new session: the fence refuses it
            StateWriter(store).bump_version()
    finally:
        old.close()
        new.close()
        store.close()


def test_a_followers_note_reaches_the_leader_once(pg_url: str) -> None:
    Store(pg_url).close()
    lease = Lease(pg_url, "f", 5.0)
    try:
        lease.set_meta("reconcile_requested", "webhook:github")
        assert lease.take_meta("reconcile_requested") == "webhook:github"
        assert lease.take_meta("reconcile_requested") is None
    finally:
        lease.close()


def test_a_one_off_writer_holds_the_lease_or_is_told_who_does(pg_url: str) -> None:
    Store(pg_url).close()
    held = hold(pg_url, wait=False, ttl=2.0)
    try:
        with pytest.raises(LeaseHeld, match="--wait-lock"):
            StateLock(Path(pg_url)).acquire()
        time.sleep(2.5)  # the holder's thread renews: still held
        with pytest.raises(LeaseHeld):
            hold(pg_url, wait=False)
    finally:
        held.release()
    lock = StateLock(Path(pg_url))
    lock.acquire()
    lock.release()


def test_a_broken_connection_is_made_anew_between_transactions(pg_url: str) -> None:
    """A restarted server or a failover: the statement that met the break fails, the
    next one works (a leader holding the lease must not be left unable to write)."""
    store = Store(pg_url)
    try:
        assert store.pg is not None
        pid = store.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        other = Store(pg_url)
        other.conn.execute("SELECT pg_terminate_backend(?)", (pid,)).fetchone()
        other.close()
        with pytest.raises(StateError):
            StateWriter(store).bump_version()
        StateWriter(store).bump_version()
        assert snapshot(store).version == 1
    finally:
        store.close()

"""One writer per state file: an exclusive flock on `<state>.lock`, held for the run.

On a PostgreSQL state the one writer is the leader lease's holder instead (lease.py).

The kernel drops the lock when the process dies, so a crashed daemon never leaves a
stale lock behind; the pid written into the file is only there to name the holder.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from reconciler.errors import ExitCode, ReconcilerError
from reconciler.store.lease import HeldLease, hold
from reconciler.store.pg import postgres_url


class LockHeld(ReconcilerError):
    """Another process writes this state file."""

    exit_code = ExitCode.CONFIG


def lock_path(state: Path) -> Path:
    return state.with_name(state.name + ".lock")


class StateLock:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.path = lock_path(state)
        self._file: IO[str] | None = None
        self._url = postgres_url(state)
        self._lease: HeldLease | None = None

    def acquire(self, wait: bool = False) -> None:
        if self._url is not None:
            self._lease = hold(self._url, wait)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = _holder(handle)
            handle.close()
            raise LockHeld(f"another reconciler process{holder} already writes {self.state} "
                           f"(lock {self.path}); stop it first, or pass --wait-lock "
                           "to wait for it") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    text = handle.read().strip()
    return f" (pid {text})" if text.isdigit() else ""

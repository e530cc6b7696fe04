"""A writer's WAL survives other processes opening and closing the state.

Closing any descriptor of a database file drops every POSIX lock the process holds on
it, SQLite's own included; a reader in another process then takes itself for the last
connection and deletes the -wal the writer still uses, and the writer's commits are
lost. The store narrows file modes by path for that reason.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reconciler.store.db import Store

READ = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "print(c.execute(\"SELECT count(*) FROM meta WHERE key LIKE 'probe%'\").fetchone()[0]); "
        "c.close()")


def _count(path: Path) -> int:
    done = subprocess.run([sys.executable, "-c", READ, str(path)], capture_output=True,
                          text=True, check=True, timeout=60)
    return int(done.stdout.strip())


def test_commits_stay_visible_while_readers_come_and_go(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    writer = Store(path)
    Store(path).close()  # a second store in this process, as the daemon's API opens
    for n in range(1, 4):
        assert _count(path) == n - 1
        with writer.transaction() as c:
            c.execute("INSERT INTO meta (key, value) VALUES (?, 'x')", (f"probe{n}",))
    assert _count(path) == 3
    writer.close()
    assert _count(path) == 3

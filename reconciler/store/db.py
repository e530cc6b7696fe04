"""The platform state in SQLite (sqlite-utils), with versioned schema migrations.

Migrations are append-only SQL scripts; `user_version` records how many ran. The
file is opened in WAL mode so `status` and `report` can read while the daemon writes.
No secret value is ever stored: credentials keep a keyed digest of their data.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from reconciler.errors import StateError

DEFAULT_STATE = "reconciler.sqlite"
FILE_MODE = 0o600  # the state names tenants, instances and digests: its owner only
SIDE_FILES = ("-wal", "-shm", "-journal")
INTERRUPTED = ("the process ended before this run finished (killed or crashed); "
               "the next run converges from what it had done")

MIGRATIONS: list[str] = [
    # 1: the platform model
    """
    CREATE TABLE organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL);
    CREATE TABLE memberships (org TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL,
        PRIMARY KEY (org, user));
    CREATE TABLE teams (org TEXT NOT NULL, id TEXT NOT NULL, name TEXT,
        members TEXT NOT NULL, PRIMARY KEY (org, id));
    CREATE TABLE processes (
        use_case TEXT PRIMARY KEY, title TEXT NOT NULL, type TEXT NOT NULL,
        visibility TEXT NOT NULL, owner_user TEXT NOT NULL, owner_org TEXT NOT NULL,
        active_env TEXT NOT NULL DEFAULT 'dev', removed INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE templates (
        id TEXT PRIMARY KEY, use_case TEXT NOT NULL, version TEXT NOT NULL,
        fingerprint TEXT NOT NULL, status TEXT NOT NULL, revision TEXT,
        config TEXT NOT NULL, workflows TEXT NOT NULL, skills TEXT NOT NULL,
        file_digests TEXT NOT NULL, created_at TEXT NOT NULL,
        published_at TEXT, deprecated_at TEXT,
        UNIQUE (use_case, version));
    CREATE TABLE instances (
        id TEXT PRIMARY KEY, use_case TEXT NOT NULL, owner_user TEXT, owner_org TEXT NOT NULL,
        environment TEXT NOT NULL, automatic INTEGER NOT NULL, version TEXT,
        pinned INTEGER NOT NULL, active INTEGER NOT NULL, state TEXT NOT NULL,
        state_detail TEXT, sharing TEXT NOT NULL, parameters TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE deployments (
        id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL,
        template_id TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
        run_id INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE INDEX deployments_instance ON deployments (instance_id, id);
    CREATE TABLE workflow_mappings (
        instance_id TEXT NOT NULL, workflow_id TEXT NOT NULL, n8n_id TEXT NOT NULL,
        content_hash TEXT NOT NULL, version_id TEXT, published_version_id TEXT,
        deployment_id INTEGER, archived INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (instance_id, workflow_id));
    CREATE TABLE credentials (
        key TEXT PRIMARY KEY, n8n_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
        digest TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, kind TEXT NOT NULL,
        version TEXT NOT NULL DEFAULT '', message TEXT NOT NULL, created_at TEXT NOT NULL,
        dismissed INTEGER NOT NULL DEFAULT 0, UNIQUE (instance_id, kind, version));
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT,
        trigger TEXT NOT NULL, revision TEXT, outcome TEXT, reads INTEGER NOT NULL DEFAULT 0,
        writes INTEGER NOT NULL DEFAULT 0, plan TEXT, summary TEXT, error TEXT);
    CREATE TABLE run_steps (
        run_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,
        instance_id TEXT, target TEXT NOT NULL, detail TEXT NOT NULL, outcome TEXT NOT NULL,
        error TEXT, started_at TEXT NOT NULL, duration_ms REAL NOT NULL,
        PRIMARY KEY (run_id, seq));
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: the agents' API: one key per instance (its hash only) and execution records
    """
    CREATE TABLE api_keys (
        instance_id TEXT PRIMARY KEY, key_id TEXT NOT NULL UNIQUE, key_hash TEXT NOT NULL,
        created_at TEXT NOT NULL, rotated_at TEXT);
    CREATE TABLE executions (
        id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, workflow_id TEXT NOT NULL,
        n8n_workflow_id TEXT, n8n_execution_id TEXT, status TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, duration_ms INTEGER,
        error_class TEXT, error_name TEXT, failed_node TEXT, last_node TEXT,
        tokens TEXT, cost REAL, trigger_source TEXT NOT NULL, payload_hash TEXT,
        updated_at TEXT NOT NULL);
    CREATE INDEX executions_instance ON executions (instance_id, id);
    CREATE UNIQUE INDEX executions_n8n ON executions (instance_id, n8n_execution_id)
        WHERE n8n_execution_id IS NOT NULL;
    """,
    # 3: smoke tests: each test's result per run of a use case's tests on an instance
    """
    CREATE TABLE smoke_results (
        id INTEGER PRIMARY KEY AUTOINCREMENT, batch TEXT NOT NULL, instance_id TEXT NOT NULL,
        use_case TEXT NOT NULL, version TEXT NOT NULL, test TEXT NOT NULL,
        workflow_id TEXT NOT NULL, passed INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
        diff TEXT, failures TEXT NOT NULL, execution_id TEXT, n8n_execution_id TEXT,
        subject TEXT NOT NULL, trigger TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX smoke_results_instance ON smoke_results (instance_id, id);
    """,
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def state_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("RECONCILER_STATE") or DEFAULT_STATE)


class Store:
    """One SQLite file; every write goes through `transaction()`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        memory = str(path) == ":memory:"  # a throwaway state: no file at all
        try:
            if not memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                _private(self.path)
            conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            if not memory:
                _restrict_side_files(self.path)
        except (sqlite3.Error, OSError) as exc:
            raise StateError(f"{self.path}: cannot open the state file: {exc}") from None
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._migrate()

    def _migrate(self) -> None:
        version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StateError(f"{self.path}: schema version {version} is newer than this "
                             f"program ({len(MIGRATIONS)}); upgrade n8n-reconciler")
        for index in range(version, len(MIGRATIONS)):
            with self.transaction():
                for statement in _statements(MIGRATIONS[index]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {index + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StateError(f"{self.path}: {exc}") from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def mark_interrupted(self) -> int:
        """Runs a dead process left unfinished become `interrupted`; how many.

        Call it holding the state lock: no other writer is alive then, so every run
        without `finished_at` belongs to a process that is gone.
        """
        with self.transaction() as c:
            cur = c.execute("UPDATE runs SET finished_at=?, outcome='interrupted', "
                            "error=coalesce(error, ?) WHERE finished_at IS NULL",
                            (now(), INTERRUPTED))
        return int(cur.rowcount)

    def close(self) -> None:
        self.conn.close()


def _private(path: Path) -> None:
    """Create the file 0600 before SQLite does (its -wal and -shm copy this mode);
    narrow an existing, wider one (a file another user owns stays as it is)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        fd = os.open(path, os.O_RDONLY)  # a reader may not write it; fchmod needs no more
    try:
        _narrow(fd)
    finally:
        os.close(fd)


def _restrict_side_files(path: Path) -> None:
    for suffix in SIDE_FILES:
        try:
            fd = os.open(f"{path}{suffix}", os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            _narrow(fd)
        finally:
            os.close(fd)


def _narrow(fd: int) -> None:
    mode = os.fstat(fd).st_mode & 0o777
    if mode & ~FILE_MODE:
        with contextlib.suppress(PermissionError):  # not ours: a reader run by another user
            os.fchmod(fd, mode & FILE_MODE)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]

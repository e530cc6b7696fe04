"""The platform state in SQLite (the default) or PostgreSQL, with versioned migrations.

Migrations are append-only SQL scripts in SQLite's dialect; `user_version` (SQLite)
or the `reconciler_schema` row (PostgreSQL, see `pg.py`) records how many ran. A
SQLite file is opened in WAL mode so `status` and `report` can read while the daemon
writes. No secret value is ever stored: credentials keep a keyed digest of their data.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from reconciler.errors import StateError
from reconciler.store import pg

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
    # 3: credits: the plans of platform.yaml as last applied, and the append-only ledger
    # (one debit per execution id, whatever retries, crashes or races happen)
    """
    CREATE TABLE accounts (
        id TEXT PRIMARY KEY, plan TEXT NOT NULL, credits INTEGER NOT NULL,
        seats INTEGER NOT NULL);
    CREATE TABLE ledger (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, execution_id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL, instance_id TEXT NOT NULL, workflow_id TEXT NOT NULL,
        period TEXT NOT NULL, credits INTEGER NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX ledger_period ON ledger (account, period);
    """,
    # 4: highly available daemons: the leader lease and its fencing token (store/lease.py)
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, token INTEGER NOT NULL,
        expires_at REAL NOT NULL, renewed_at REAL NOT NULL);
    """,
    # 5: smoke tests: each test's result per run of a use case's tests on an instance
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


class Cursor(Protocol):
    """What the call sites read from a statement: sqlite3.Cursor, or pg.PgCursor."""

    @property
    def description(self) -> Any: ...
    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int | None: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The one method the call sites use, in SQLite's dialect on either backend."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...
    def close(self) -> None: ...


# Called inside every write transaction before the caller's statements: raises to
# refuse the write (a deposed leader's fencing token, see daemon/lease.py).
Fence = Callable[[Connection], None]


def _ms(seconds: float) -> int:
    return max(1000, int(seconds * 1000))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def state_path(explicit: str | None = None) -> Path:
    """The state location: a SQLite file, or a `postgresql://` URL (see `pg.postgres_url`)."""
    return Path(explicit or os.environ.get("RECONCILER_STATE") or DEFAULT_STATE)


def state_exists(location: str | Path) -> bool:
    """A SQLite file that exists, or any PostgreSQL URL (the server says the rest)."""
    return pg.postgres_url(location) is not None or Path(location).is_file()


def state_label(location: str | Path) -> str:
    """The location as messages may show it: a URL loses its password."""
    url = pg.postgres_url(location)
    return str(location) if url is None else pg.redacted(url)


def local_dir(location: str | Path) -> Path:
    """The SQLite file's folder; for PostgreSQL `$RECONCILER_STATE_DIR`, else a folder of
    this machine's named after the database (never holding its password)."""
    url = pg.postgres_url(location)
    if url is None:
        return Path(location).resolve().parent
    configured = os.environ.get("RECONCILER_STATE_DIR")
    if configured:
        return Path(configured)
    digest = hashlib.sha256(pg.redacted(url).encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "n8n-reconciler" / f"postgresql-{digest}"


class Store:
    """One SQLite file or one PostgreSQL database; every write goes through `transaction()`."""

    conn: Connection

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.fence: Fence | None = None
        self._db: sqlite_utils.Database | None = None
        self._tx = threading.RLock()
        url = pg.postgres_url(path)
        self.pg: pg.PgConnection | None = None
        if url is not None:
            self.pg = pg.PgConnection(url)
            self.conn = self.pg
            self._migrate_pg(self.pg)
            return
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
        self._db = sqlite_utils.Database(conn)
        self._migrate()

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils on a SQLite state; portable code uses `rows` and `conn` instead."""
        if self._db is None:
            raise StateError(f"{self.label}: sqlite-utils works on SQLite only")
        return self._db

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of `table` as a dict (either backend)."""
        cur = self.conn.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def tables(self) -> list[str]:
        """The state's tables, sorted (the backend's own bookkeeping left out)."""
        if self.pg is not None:
            sql = ("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                   f"current_schema() AND table_name <> '{pg.SCHEMA_TABLE}'")
        else:
            sql = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        return sorted(str(r[0]) for r in self.conn.execute(sql))

    @property
    def local_dir(self) -> Path:
        """Where this process keeps files beside the state (hash key, repository cache)."""
        return local_dir(self.path)

    @property
    def label(self) -> str:
        return self.pg.label if self.pg is not None else str(self.path)

    def schema_version(self) -> int:
        if self.pg is not None:
            return pg.schema_version(self.pg)
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate_pg(self, conn: pg.PgConnection) -> None:
        pg.migrate(conn, MIGRATIONS, _statements)

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

    def lead(self, fence: Fence, ttl: float) -> None:
        """Write as the lease's holder: every write transaction runs `fence`. On
        PostgreSQL the server also ends a transaction of this process left idle for a
        lease time: a frozen holder's share lock on the lease row must not stall the
        takeover (it would until the process woke)."""
        self.fence = fence
        if self.pg is not None:
            self.pg.configure("idle_in_transaction_session_timeout", str(_ms(ttl)))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        if self.pg is not None:
            with self.pg.lock, self._pg_transaction(self.pg) as conn:
                yield conn
            return
        # One connection: threads of a concurrent apply take turns (RLock: a step may
        # nest a read in its own transaction).
        with self._tx:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StateError(f"{self.path}: {exc}") from None
            try:
                if self.fence is not None:
                    self.fence(self.conn)
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    @contextmanager
    def _pg_transaction(self, conn: pg.PgConnection) -> Iterator[Connection]:
        conn.raw("BEGIN")
        try:
            conn.raw("SELECT pg_advisory_xact_lock(%s)", (pg.WRITE_LOCK,))
            if self.fence is not None:
                self.fence(conn)
            yield conn
        except BaseException:
            with contextlib.suppress(StateError):  # a lost connection has nothing to undo
                conn.raw("ROLLBACK")
            raise
        else:
            conn.raw("COMMIT")

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
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        _narrow(path)


def _restrict_side_files(path: Path) -> None:
    for suffix in SIDE_FILES:
        _narrow(Path(f"{path}{suffix}"))


def _narrow(path: Path) -> None:
    # By path, never by opening the file: closing any descriptor of a database file
    # drops every POSIX lock this process holds on it, SQLite's own included. Another
    # process then takes itself for the last connection and deletes the -wal that this
    # one still writes to: its writes are lost (seen with a reader polling the state).
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return
    if mode & ~FILE_MODE:
        with contextlib.suppress(PermissionError):  # not ours: a reader run by another user
            os.chmod(path, mode & FILE_MODE)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]

"""A real PostgreSQL for the test session: Debian's server, initdb into a temporary
folder, started by `pg_ctl` on a free loopback port, stopped at the end.

PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user
the Debian package creates (`runuser`), in a folder that user owns. Each test gets
a database of its own (`fresh_database`), so tests never see each other's rows.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

PG_USER = "postgres"  # the OS user (as root) and the database superuser
_counter = itertools.count(1)


class PostgresMissing(RuntimeError):
    """No PostgreSQL binaries: `bash scripts/setup` installs Debian's package."""


@dataclass(frozen=True)
class PgServer:
    data_dir: Path
    port: int
    bindir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"


def bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parts[-3]))
    if not versions:
        raise PostgresMissing("no pg_ctl: run `bash scripts/setup` (installs Debian's "
                              "postgresql package)")
    return Path(versions[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *args] if os.geteuid() == 0 else args


def up() -> PgServer:
    binaries = bindir()
    data_dir = Path(tempfile.mkdtemp(prefix="reconciler-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data_dir, PG_USER, PG_USER)
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data_dir / "data"),
                                    "-U", PG_USER, "-A", "trust", "-E", "UTF8",
                                    "--no-sync"]), **run)  # type: ignore[call-overload]
    port = _free_port()
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {data_dir} -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
    subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data_dir / "data"),
                                    "-l", str(data_dir / "server.log"), "-o", options,
                                    "-w", "-t", "60", "start"]), **run)  # type: ignore[call-overload]
    return PgServer(data_dir, port, binaries)


def down(server: PgServer) -> None:
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        subprocess.run(_as_server_user([str(server.bindir / "pg_ctl"), "-D",
                                        str(server.data_dir / "data"), "-m", "immediate",
                                        "-w", "stop"]), capture_output=True, timeout=60)
    shutil.rmtree(server.data_dir, ignore_errors=True)


def fresh_database(server: PgServer) -> str:
    """A new, empty database; its URL."""
    name = f"t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url(name)

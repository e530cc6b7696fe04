"""Root fixtures: a real n8n server for the whole session, and a client per test.

Tests that use them carry `@pytest.mark.n8n`. The server is installed on first use
(minutes, once per machine: see reconciler.adapters.n8n_server), started in a
temporary data folder on free loopback ports, and stopped when the session ends.
If it cannot be installed or started, the tests that need it FAIL: a machine that
cannot run n8n must not look green.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from reconciler.adapters import n8n_server as server
from reconciler.adapters.n8n_client import N8nClient
from reconciler.cli.main import entry
from reconciler.errors import ReconcilerError
from tests import postgres

_SERVER_FIXTURES = {"n8n_server", "n8n_client"}
_PG_FIXTURES = {"postgres_server", "pg_url"}
RunCli = Callable[..., tuple[int, str]]


def _progress(line: str) -> None:
    # Straight to the terminal: a first install takes minutes and pytest would
    # otherwise hold the progress lines back until the fixture ends.
    stream = sys.__stderr__
    if stream is not None:
        print(line, file=stream, flush=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Keeps `-m "not n8n"` honest: a test cannot reach the real server unmarked.
    unmarked = [
        item.nodeid
        for item in items
        if _SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("n8n") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests using n8n_server/n8n_client must be marked @pytest.mark.n8n: "
            + ", ".join(unmarked)
        )
    _postgres_marked(items)


def _postgres_marked(items: list[pytest.Item]) -> None:
    # A state test parametrized on both backends carries the marker on its postgres case.
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        if backend == "postgres" and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)
    unmarked = [item.nodeid for item in items
                if _PG_FIXTURES & set(getattr(item, "fixturenames", ()))
                and item.get_closest_marker("postgres") is None]
    if unmarked:
        raise pytest.UsageError("tests using postgres_server/pg_url must be marked "
                                "@pytest.mark.postgres: " + ", ".join(unmarked))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PgServer]:
    """Debian's PostgreSQL, initdb'd and started once per session on a free port."""
    try:
        server = postgres.up()
    except (postgres.PostgresMissing, OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        pytest.fail(f"PostgreSQL could not be started: {exc} {detail}", pytrace=False)
    try:
        yield server
    finally:
        postgres.down(server)


@pytest.fixture
def pg_url(postgres_server: postgres.PgServer) -> str:
    """A fresh, empty database of the session's server."""
    return postgres.fresh_database(postgres_server)


@pytest.fixture(scope="session")
def n8n_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.ServerInfo]:
    """A running n8n: `.url`, `.api_key` (and `.data_dir`, `.pid`, `.log_file`)."""
    data_dir = tmp_path_factory.mktemp("n8n-server")
    try:
        info = server.up(data_dir, log=_progress)
    except ReconcilerError as exc:
        with contextlib.suppress(ReconcilerError):
            server.down(data_dir, log=_progress)
        pytest.fail(f"n8n could not be installed or started: {exc}", pytrace=False)
    try:
        yield info
    finally:
        server.down(data_dir, log=_progress)


@pytest.fixture
def n8n_client(n8n_server: server.ServerInfo) -> Iterator[N8nClient]:
    """A fresh client (fresh counters) on the session's server."""
    with N8nClient(n8n_server.url, n8n_server.api_key) as client:
        yield client


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """Run `reconciler ARGS...` in-process; returns (exit code, stdout + stderr)."""

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = entry(list(args))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run

"""Root fixtures: a real n8n server for the whole session, and a client per test.

Tests that use them carry `@pytest.mark.n8n`. The server is installed on first use
(minutes, once per machine: see reconciler.adapters.n8n_server), started in a
temporary data folder on free loopback ports, and stopped when the session ends.
If it cannot be installed or started, the tests that need it FAIL: a machine that
cannot run n8n must not look green.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import pytest

from reconciler.adapters import n8n_server as server
from reconciler.adapters.n8n_client import N8nClient
from reconciler.cli.main import entry
from reconciler.errors import ReconcilerError

_SERVER_FIXTURES = {"n8n_server", "n8n_client"}
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

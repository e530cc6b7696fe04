"""Hostile input, parts that need no n8n: state file modes, the delivery memory, the
body limit's ASGI behaviour and its settings."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from reconciler.api.limits import BodyLimit, max_payload_from_env
from reconciler.daemon.config import resolve
from reconciler.daemon.dedup import GITLAB_HEADERS, Deliveries, delivery_id
from reconciler.errors import UsageError
from reconciler.store.db import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 0: the modes must not depend on the caller's umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_state_wal_and_shm_are_created_0600(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "new" / "state.sqlite"
    store = Store(path)
    try:
        with store.transaction() as c:
            c.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
        for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm"):
            assert (path.parent / name).exists(), name
            assert mode(path.parent / name) == 0o600, name
    finally:
        store.close()


def test_wider_existing_files_are_narrowed_on_open(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "state.sqlite"
    Store(path).close()
    wal = Path(f"{path}-wal")
    wal.write_bytes(b"")  # an empty WAL is valid: nothing to replay
    for file in (path, wal):
        os.chmod(file, 0o666)
    store = Store(path)
    try:
        assert mode(path) == 0o600
        assert mode(wal) == 0o600
        assert mode(Path(f"{path}-shm")) == 0o600
    finally:
        store.close()


def test_unfinished_runs_become_interrupted(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite")
    try:
        with store.transaction() as c:
            c.execute("INSERT INTO runs (started_at, trigger, writes) VALUES ('t', 'cli', 4)")
            c.execute("INSERT INTO runs (started_at, finished_at, trigger, outcome) "
                      "VALUES ('t', 't', 'cli', 'applied')")
        assert store.mark_interrupted() == 1
        rows = store.conn.execute("SELECT outcome, writes, finished_at IS NOT NULL, error "
                                  "FROM runs ORDER BY id").fetchall()
        assert rows[0][:3] == ("interrupted", 4, 1) and "ended before" in rows[0][3]
        assert rows[1][0] == "applied"
        assert store.mark_interrupted() == 0
    finally:
        store.close()


def test_deliveries_window_and_bounded_memory() -> None:
    clock = [0.0]
    seen = Deliveries(window=600, max_ids=3, clock=lambda: clock[0])
    assert not seen.replay("a")
    assert seen.replay("a")
    clock[0] = 601.0
    assert not seen.replay("a"), "forgotten after the window"
    for key in "bcde":
        seen.replay(key)
    assert len(seen) == 3, "never more than max_ids"
    assert not seen.replay("a"), "the oldest went first"
    assert not Deliveries(window=0).replay("x") and not Deliveries(window=0).replay("x")


def test_gitlab_delivery_id_prefers_the_retry_stable_key() -> None:
    headers = {"x-gitlab-event-uuid": "event", "idempotency-key": "retry-stable"}
    assert delivery_id(headers, GITLAB_HEADERS) == "retry-stable"
    assert delivery_id({"x-gitlab-webhook-uuid": "w"}, GITLAB_HEADERS) == "w"
    assert delivery_id({"x-gitlab-event-uuid": "x" * 500}, GITLAB_HEADERS) is None


def _echo_app(limit: int) -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodyLimit, limit_for=lambda _path: limit)

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    @app.post("/json")
    def parsed(payload: dict[str, str]) -> dict[str, int]:
        return {"keys": len(payload)}

    return app


def test_streamed_body_is_cut_at_the_limit_whatever_the_handler() -> None:
    client = TestClient(_echo_app(100))
    assert client.post("/raw", content=b"x" * 100).json() == {"read": 100}
    for path in ("/raw", "/json"):  # a raw read, and FastAPI's own body parsing
        cut = client.post(path, content=iter([b'{"a": "', b"x" * 200, b'"}']))
        assert cut.status_code == 413, cut.text
        assert cut.json()["detail"]["code"] == "payload_too_large"
    declared = client.post("/raw", content=b"y" * 101)
    assert declared.status_code == 413


def test_limit_settings() -> None:
    assert max_payload_from_env({}) == 1024 * 1024
    assert max_payload_from_env({"RECONCILER_MAX_PAYLOAD_BYTES": "2048"}) == 2048
    with pytest.raises(UsageError, match="RECONCILER_MAX_PAYLOAD_BYTES"):
        max_payload_from_env({"RECONCILER_MAX_PAYLOAD_BYTES": "1MB"})
    config = resolve({}, {"RECONCILER_MAX_HOOK_BYTES": "512",
                          "RECONCILER_MAX_PAYLOAD_BYTES": "4096",
                          "RECONCILER_DEDUP_WINDOW": "60"})
    assert (config.max_hook_bytes, config.max_payload_bytes, config.dedup_window) == (
        512, 4096, 60.0)
    with pytest.raises(UsageError, match="max_hook_bytes"):
        resolve({}, {"RECONCILER_MAX_HOOK_BYTES": "-1"})

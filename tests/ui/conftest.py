"""The dashboard on the daemon's app: tokens, a client from loopback, synthetic states."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from reconciler.daemon.app import DaemonContext, create_app
from reconciler.daemon.loop import Health
from reconciler.daemon.metrics import Metrics
from reconciler.ui.auth import viewer_entry
from tests.ui import browser as browsers
from tests.ui import synthetic

ADMIN = "admin-token-for-tests"
VIEWERS = {"org0": "viewer-token-org0", "org2": "viewer-token-org2",
           "acme": "viewer-token-acme", "globex": "viewer-token-globex"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def set_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_UI_TOKEN", ADMIN)
    monkeypatch.setenv("RECONCILER_UI_VIEWER_TOKENS",
                       ",".join(viewer_entry(org, tok) for org, tok in VIEWERS.items()))
    monkeypatch.delenv("RECONCILER_UI_ALLOW_REMOTE", raising=False)


@pytest.fixture
def ui_env(monkeypatch: pytest.MonkeyPatch) -> None:
    set_tokens(monkeypatch)


def make_app(state: Path, n8n_url: str = "http://127.0.0.1:9", api_key: str = "",
             requests: list[str] | None = None,
             on_request: Callable[[str], None] | None = None) -> FastAPI:
    """The daemon's app on `state`; "reconcile now" lands in `requests` or `on_request`."""
    asked = requests if requests is not None else []
    ctx = DaemonContext(state_path=state, n8n_url=n8n_url, branch="main",
                        failing_grace=900.0, health=Health(), metrics=Metrics(),
                        request_reconcile=on_request or asked.append, n8n_api_key=api_key,
                        hash_key=b"t" * 32)
    return create_app(ctx)


@pytest.fixture(scope="module")
def big_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 instances over 10 organizations (the benchmark's size), built once."""
    path = tmp_path_factory.mktemp("ui-big") / "state.sqlite"
    synthetic.build(path, orgs=10, per_org=100).close()
    return path


@pytest.fixture(scope="module")
def big_client(big_state: Path) -> Iterator[TestClient]:
    """One app on the big state for the module (making an app takes seconds here)."""
    with pytest.MonkeyPatch.context() as patch:
        set_tokens(patch)
        app = make_app(big_state)
    with TestClient(app, client=("127.0.0.1", 50000), follow_redirects=False) as client:
        yield client


@pytest.fixture
def client_for(ui_env: None) -> Iterator[Callable[..., TestClient]]:
    made: list[TestClient] = []

    def make(state: Path, **kw: object) -> TestClient:
        client = TestClient(make_app(state, **kw),  # type: ignore[arg-type]
                            client=("127.0.0.1", 50000), follow_redirects=False)
        client.__enter__()
        made.append(client)
        return client

    yield make
    for client in made:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright (installed by scripts/browser-setup)."""
    yield from browsers.launch()

"""The API against the session's real n8n: the test platform with the echo use case."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.api.keys import issue_key
from reconciler.api.routes import create_api_app
from tests.api import echo_case
from tests.engine.conftest import Platform, platform  # noqa: F401  (the fixture)

OWNER_DEV = "echo.owner-dev"
GLOBEX = "echo-globex"


@dataclass
class Api:
    platform: Platform
    http: TestClient

    def key(self, instance_id: str, *, rotate: bool = False) -> str:
        return issue_key(self.platform.store, instance_id, rotate=rotate)


@pytest.fixture
def api(platform: Platform, n8n_server: ServerInfo) -> Iterator[Api]:  # noqa: F811
    echo_case.write(platform.repo)
    out = platform.reconcile()
    assert out.outcome == "applied", out.error
    app = create_api_app(platform.store.path, n8n_server.url, n8n_server.api_key)
    with TestClient(app) as http:
        yield Api(platform, http)

"""An isolated platform per test: a copy of example-repo, its own SQLite state and
secrets folder, and the session's real n8n wiped of workflows and credentials."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.adapters.n8n_client import N8nClient
from reconciler.adapters.n8n_server import ServerInfo
from reconciler.adapters.secrets import DirSecretSource
from reconciler.apply.engine import Engine, RunOutcome
from reconciler.errors import ReconcilerError
from reconciler.load.repository import load_partial
from reconciler.load.source import FolderSource
from reconciler.model.repository import DeclaredState
from reconciler.store.db import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"

SECRETS = {
    "system.platform.anthropic": {"apiKey": "sk-ant-SYSTEM-0001"},
    "org.acme.anthropic": {"apiKey": "sk-ant-ACME-0002"},
    "org.acme.slack": {"accessToken": "xoxb-ACME-0003"},
    "org.globex.slack": {"accessToken": "xoxb-GLOBEX-0004"},
    "user.alice.gmail": {"clientId": "cid-ALICE", "clientSecret": "cs-ALICE-0005"},
    "user.bob.gmail": {"clientId": "cid-BOB", "clientSecret": "cs-BOB-0006"},
    "user.carol.gmail": {"clientId": "cid-CAROL", "clientSecret": "cs-CAROL-0007"},
}


def wipe(client: N8nClient) -> None:
    """Remove every workflow and credential: each test starts from an empty n8n."""
    for wf in client.list_workflows():
        with contextlib.suppress(ReconcilerError):
            if wf.get("activeVersionId"):
                client.unpublish_workflow(str(wf["id"]))
            client.archive_workflow(str(wf["id"]))
            client.delete_workflow(str(wf["id"]))
    for cred in client.list_credentials():
        with contextlib.suppress(ReconcilerError):
            client.delete_credential(str(cred["id"]))


@dataclass
class Platform:
    root: Path
    client: N8nClient
    store: Store
    secrets_dir: Path
    base_url: str
    publications: set[tuple[str, str]] = field(default_factory=set)

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    def engine(self, client: N8nClient | None = None) -> Engine:
        return Engine(store=self.store, client=client or self.client,
                      secrets=DirSecretSource(self.secrets_dir), hash_key=b"t" * 32,
                      base_url=self.base_url)

    def declared(self) -> DeclaredState:
        return load_partial(FolderSource(self.repo))

    def reconcile(self, client: N8nClient | None = None, **kw: Any) -> RunOutcome:
        return self.engine(client).reconcile(self.declared(),
                                             publications=frozenset(self.publications), **kw)

    def set_secret(self, name: str, data: dict[str, Any] | None) -> None:
        path = self.secrets_dir / name
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(json.dumps(data), encoding="utf-8")

    def edit_json(self, rel: str, change: Callable[[Any], None]) -> None:
        path = self.repo / rel
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    def edit_text(self, rel: str, old: str, new: str) -> None:
        path = self.repo / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def bump(self, use_case: str, version: str) -> None:
        (self.repo / "use-cases" / use_case / "version.json").write_text(
            json.dumps({"version": version}) + "\n", encoding="utf-8")

    def live(self) -> dict[str, dict[str, Any]]:
        """Live workflows by name."""
        return {str(w["name"]): w for w in self.client.list_workflows()}

    def state_bytes(self) -> bytes:
        """Everything the state stores: the SQLite file's bytes, or every row."""
        if self.store.pg is None:
            self.store.conn.execute("PRAGMA wal_checkpoint(FULL)")
            return self.store.path.read_bytes()
        rows = {t: self.store.rows(t) for t in self.store.tables()}
        return json.dumps(rows, default=str, ensure_ascii=False).encode()

    def instance(self, instance_id: str) -> dict[str, Any]:
        cur = self.store.conn.execute("SELECT * FROM instances WHERE id=?", (instance_id,))
        row = cur.fetchone()
        assert row is not None, instance_id
        return dict(zip([d[0] for d in cur.description], row, strict=True))


def _state_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """SQLite by default; "postgres" (an indirect parameter, or RECONCILER_TEST_BACKEND
    for the whole suite) puts the state in a fresh PostgreSQL database."""
    backend = getattr(request, "param", os.environ.get("RECONCILER_TEST_BACKEND", "sqlite"))
    if backend == "postgres":
        return Path(request.getfixturevalue("pg_url"))
    return tmp_path / "state.sqlite"


@pytest.fixture
def platform(n8n_server: ServerInfo, tmp_path: Path,
             request: pytest.FixtureRequest) -> Iterator[Platform]:
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    with N8nClient(n8n_server.url, n8n_server.api_key) as client:
        wipe(client)
        store = Store(_state_location(request, tmp_path))
        env = Platform(tmp_path, client, store, secrets_dir, n8n_server.url)
        for name, data in SECRETS.items():
            env.set_secret(name, data)
        try:
            yield env
        finally:
            store.close()

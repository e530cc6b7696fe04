"""The daemon on real git and the session's real n8n.

`platform` (tests/engine) gives a wiped n8n, a state file and secrets; here its repo
folder becomes a real git repository, watched through a file:// URL, and a Daemon
runs in-process on it (subprocess tests start `reconciler run` instead).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.daemon.config import DaemonConfig
from reconciler.daemon.demo import commit_all
from reconciler.daemon.gitwatch import GitWatcher
from reconciler.daemon.loop import Daemon
from tests.engine.conftest import Platform
from tests.engine.conftest import platform as platform

RECONCILER = str(Path(sys.executable).with_name("reconciler"))
HASH_KEY = "t" * 32  # the same key as Platform.engine(), so in- and out-of-process agree


@dataclass
class Git:
    """The watched repository: Platform.repo, committed with pygit2."""

    path: Path

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    @property
    def repo(self) -> pygit2.Repository:
        return pygit2.Repository(str(self.path))

    def commit(self, message: str = "change") -> str:
        made = commit_all(self.repo, message)
        assert made is not None, "nothing to commit"
        return made

    def tag(self, name: str, target: str = "HEAD") -> None:
        repo = self.repo
        repo.references.create(f"refs/tags/{name}", repo.revparse_single(target).id)

    def delete_tag(self, name: str) -> None:
        self.repo.references.delete(f"refs/tags/{name}")

    def branch(self, name: str) -> None:
        repo = self.repo
        repo.branches.local.create(name, repo.head.peel(pygit2.Commit))

    def checkout(self, name: str) -> None:
        repo = self.repo
        ref = repo.lookup_branch(name)
        repo.checkout(ref, strategy=pygit2.enums.CheckoutStrategy.FORCE)


def make_config(platform: Platform, git: Git, **kw: Any) -> DaemonConfig:
    values: dict[str, Any] = {"repo": git.url, "state": str(platform.store.path),
                              "interval": 3600.0, "jitter": 0.0, "resync": 3600.0,
                              "backoff_base": 0.5, "backoff_max": 2.0}
    values.update(kw)
    return DaemonConfig(**values)


@pytest.fixture
def git(platform: Platform) -> Git:
    pygit2.init_repository(str(platform.repo), initial_head="main")
    found = Git(platform.repo)
    found.commit("example-repo")
    return found


@pytest.fixture
def make_daemon(platform: Platform, git: Git,
                tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    made: list[Daemon] = []

    def make(**kw: Any) -> Daemon:
        config = make_config(platform, git, **kw)
        watcher = GitWatcher(git.url, config.branch, tmp_path / "mirrors")
        daemon = Daemon(config, platform.engine(), watcher)
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        daemon.shutdown()


def daemon_env(server: ServerInfo, platform: Platform) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env.update({"RECONCILER_N8N_URL": server.url, "RECONCILER_N8N_API_KEY": server.api_key,
                "RECONCILER_STATE": str(platform.store.path),
                "RECONCILER_SECRETS_DIR": str(platform.secrets_dir),
                "RECONCILER_HASH_KEY": HASH_KEY})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def runs(state: Path) -> list[dict[str, Any]]:
    """Every run, read on a connection of its own (the daemon writes on another)."""
    conn = sqlite3.connect(str(state), timeout=10)
    try:
        cur = conn.execute("SELECT id, trigger, outcome, reads, writes, summary, error, "
                           "finished_at FROM runs ORDER BY id")
        names = [d[0] for d in cur.description]
        found = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()
    for run in found:
        run["summary"] = json.loads(run["summary"] or "{}")
    return found


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")

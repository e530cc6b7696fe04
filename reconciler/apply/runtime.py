"""What the CLI and the daemon share: the state file, the n8n connection, the declared state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.adapters import git
from reconciler.adapters.secrets import hash_key_from, secret_sources_from_env
from reconciler.errors import ConfigError
from reconciler.load.releases import Releases, read_releases
from reconciler.load.repository import load_partial
from reconciler.load.source import FolderSource, GitSource
from reconciler.model.repository import DeclaredState
from reconciler.store.db import Store, state_exists, state_path

if TYPE_CHECKING:  # imported when used: `plan --offline` needs neither httpx nor the applier
    from reconciler.apply.engine import Engine


def open_store(path: str | None = None, *, create: bool = True) -> Store:
    """The state file; read-only commands pass `create=False` and never make one."""
    file = state_path(path)
    if not create and not state_exists(file):
        raise ConfigError(f"no state file at {file}: pass --state FILE or set "
                          "RECONCILER_STATE to the daemon's state file")
    return Store(file)


def n8n_from_env() -> tuple[str, str]:
    url = os.environ.get("RECONCILER_N8N_URL")
    key = os.environ.get("RECONCILER_N8N_API_KEY")
    if not url or not key:
        raise ConfigError("set RECONCILER_N8N_URL and RECONCILER_N8N_API_KEY "
                         "(`reconciler n8n up` prints them for a local n8n)")
    return url.rstrip("/"), key


def make_engine(store: Store, hash_key: bytes | None = None) -> Engine:
    from reconciler.adapters.n8n_client import N8nClient
    from reconciler.apply.engine import Engine

    url, key = n8n_from_env()
    return Engine(store=store, client=N8nClient(url, key),
                  secrets=secret_sources_from_env(os.environ),
                  hash_key=hash_key or hash_key_from(store.local_dir),
                  base_url=url, error_callback=os.environ.get("RECONCILER_API_URL") or None,
                  apply_workers=apply_workers())


def apply_workers() -> int:
    """RECONCILER_APPLY_WORKERS: instance groups applied at once (default 1, sequential)."""
    text = os.environ.get("RECONCILER_APPLY_WORKERS", "1").strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= 32:
        raise ConfigError(f"RECONCILER_APPLY_WORKERS must be a number from 1 to 32, "
                          f"not {text!r}")
    return int(text)


@dataclass
class Declared:
    state: DeclaredState
    releases: Releases
    location: str
    ref: str | None


def load_declared(repo: str | None, ref: str | None, path: str | None = None) -> Declared:
    """The branch's head (dev) and, from git, the release tags (prod). What does not
    load is carried in the state for the gate to hold back, not raised."""
    if repo is None:
        folder = path or "."
        return Declared(load_partial(FolderSource(folder)), Releases(), folder, None)
    repository = git.open_repository(repo)
    state = load_partial(GitSource(repository, ref or "HEAD",
                                   label=f"{repo}@{ref or 'HEAD'}"))
    return Declared(state, read_releases(repository), repo, ref or "HEAD")

"""`reconciler doctor`: check what the daemon needs, and say what to fix.

Never prints a secret: the API key, tokens and secret values are only used, and
secrets are counted, not read.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler.adapters.secrets import DIR_ENV, ENV_PREFIX
from reconciler.daemon.config import DaemonConfig
from reconciler.daemon.gitwatch import GitWatcher
from reconciler.errors import GitError, StateError
from reconciler.store import pg
from reconciler.store.db import MIGRATIONS
from reconciler.store.lock import lock_path

TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_git(config: DaemonConfig) -> Check:
    if not config.repo:
        return Check("git", False, "no repository named", "pass --repo URL or set RECONCILER_REPO")
    with tempfile.TemporaryDirectory(prefix="reconciler-doctor-") as tmp:
        watcher = GitWatcher(config.repo, config.branch, Path(tmp),
                             token_env=config.git_token_env, username=config.git_username,
                             ssh_key=config.ssh_key)
        try:
            seen = watcher.poll()
        except GitError as exc:
            return Check("git", False, str(exc),
                         f"check the URL, the branch and the credentials (https: a token in "
                         f"${config.git_token_env}; ssh: an agent or --ssh-key)")
    return Check("git", True, f"{watcher.label} branch {config.branch} at "
                              f"{seen.branch[:12]}, {len(seen.tags)} tag(s)")


def check_n8n(environ: Mapping[str, str]) -> list[Check]:
    url = environ.get("RECONCILER_N8N_URL", "").rstrip("/")
    key = environ.get("RECONCILER_N8N_API_KEY", "")
    if not url or not key:
        return [Check("n8n", False, "RECONCILER_N8N_URL or RECONCILER_N8N_API_KEY is not set",
                      "set both (`reconciler n8n up` prints them for a local n8n)")]
    try:
        health = httpx.get(f"{url}/healthz", timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return [Check("n8n", False, f"{url} unreachable ({type(exc).__name__})",
                      "start n8n or fix RECONCILER_N8N_URL")]
    checks = [Check("n8n", health.status_code == 200, f"{url}/healthz answered "
                    f"{health.status_code}", "" if health.status_code == 200 else "check n8n")]
    for scope in ("workflows", "credentials"):
        checks.append(_scope(url, key, scope))
    return checks


def _scope(url: str, key: str, path: str) -> Check:
    try:
        answer = httpx.get(f"{url}/api/v1/{path}", params={"limit": 1}, timeout=TIMEOUT,
                           headers={"X-N8N-API-KEY": key, "Accept": "application/json"})
    except httpx.HTTPError as exc:
        return Check(f"n8n {path}", False, f"GET /api/v1/{path} failed "
                                           f"({type(exc).__name__})", "check n8n")
    status = answer.status_code
    if status == 200:
        return Check(f"n8n {path}", True, f"the API key may list {path}")
    fixes = {401: "the API key is wrong or expired: make a new one in n8n (Settings > n8n API)",
             403: f"the API key lacks the {path} scopes: give it read and write on {path}",
             404: f"this n8n has no /{path} endpoint: use n8n 2.x"}
    return Check(f"n8n {path}", False, f"GET /api/v1/{path} answered {status}",
                 fixes.get(status, "check n8n's log"))


def check_secrets(environ: Mapping[str, str]) -> Check:
    in_env = sum(1 for name in environ if name.startswith(ENV_PREFIX))
    folder = environ.get(DIR_ENV)
    if not folder:
        ok = in_env > 0
        return Check("secrets", ok, f"{in_env} secret(s) in {ENV_PREFIX}* variables, "
                                    f"no {DIR_ENV}", "" if ok else
                     f"set {DIR_ENV} to a folder of <kind>.<owner>.<name> files, or "
                     f"{ENV_PREFIX}<KIND>__<OWNER>__<NAME> variables")
    path = Path(folder)
    if not path.is_dir():
        return Check("secrets", False, f"{DIR_ENV}={folder} is not a folder",
                     "create it or fix the variable")
    if not os.access(path, os.R_OK | os.X_OK):
        return Check("secrets", False, f"{folder} is not readable by this user",
                     "fix its permissions")
    files = [p for p in path.iterdir() if not p.name.startswith(".")]
    unreadable = [p.name for p in files if not os.access(p, os.R_OK)]
    if unreadable:
        return Check("secrets", False, f"{len(unreadable)} unreadable file(s) in {folder}: "
                     + ", ".join(sorted(unreadable)[:5]), "fix their permissions")
    return Check("secrets", True, f"{len(files)} secret file(s) in {folder}, {in_env} in "
                                  "variables")


def check_state(state: Path) -> Check:
    url = pg.postgres_url(state)
    if url is not None:
        return _check_pg(url)
    if not state.exists():
        parent = state.parent if str(state.parent) else Path(".")
        ok = os.access(parent, os.W_OK)
        return Check("state", ok, f"{state} does not exist yet" + (
            "; it is created on the first run" if ok else f" and {parent} is not writable"),
            "" if ok else f"make {parent} writable or pass --state")
    try:
        conn = sqlite3.connect(str(state), timeout=5)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return Check("state", False, f"{state}: {exc}",
                     "restore a backup, or free the file (another writer?)")
    if version > len(MIGRATIONS):
        return Check("state", False, f"{state} has schema {version}, newer than this program "
                     f"({len(MIGRATIONS)})", "upgrade n8n-reconciler")
    pending = len(MIGRATIONS) - version
    held = " (a daemon holds its lock)" if _locked(state) else ""
    return Check("state", True, f"{state} schema {version}, writable{held}"
                 + (f", {pending} migration(s) to run on next start" if pending else ""))


def _check_pg(url: str) -> Check:
    label = pg.redacted(url)
    try:
        version = pg.probe(url, 5)
    except StateError as exc:
        return Check("state", False, str(exc), "start PostgreSQL, or fix RECONCILER_STATE")
    if version > len(MIGRATIONS):
        return Check("state", False, f"{label} has schema {version}, newer than this program "
                     f"({len(MIGRATIONS)})", "upgrade n8n-reconciler")
    pending = len(MIGRATIONS) - version
    return Check("state", True, f"{label} schema {version}, writable"
                 + (f", {pending} migration(s) to run on next start" if pending else ""))


def _locked(state: Path) -> bool:
    import fcntl

    path = lock_path(state)
    if not path.exists():
        return False
    with open(path, encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def run_checks(config: DaemonConfig, environ: Mapping[str, str]) -> list[Check]:
    steps: list[Callable[[], list[Check]]] = [
        lambda: [check_git(config)],
        lambda: check_n8n(environ),
        lambda: [check_secrets(environ)],
        lambda: [check_state(config.state_file)],
    ]
    return [check for step in steps for check in step()]


def render(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<16} {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"     {'':<16} fix: {c.fix}")
    failed = sum(1 for c in checks if not c.ok)
    lines.append("all good" if not failed else f"{failed} problem(s) to fix")
    return "\n".join(lines)

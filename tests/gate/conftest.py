"""One good deploy per test module, then each broken case on a branch of its own.

The good repository is example-repo plus the echo use case (a webhook that answers
without outside services), committed to a bare git repository with its release
tags, and applied once through the CLI onto the session's real n8n. A case commits
its mutation on a new branch whose parent is the good commit, runs the CLI (or a
daemon) against that branch, and leaves: its branch and tags are deleted, and if
anything leaked into n8n or SQLite the good commit is applied again so the next
case starts from the baseline.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest

from reconciler.adapters.n8n_client import N8nClient
from reconciler.adapters.n8n_server import ServerInfo
from reconciler.cli.main import entry
from tests.api import echo_case
from tests.engine.conftest import EXAMPLE, SECRETS, wipe
from tests.load.conftest import commit, folder_files

HASH_KEY = "g" * 32
TAGS = ("daily-digest@1.0.0", "inbox-triage@2.1.0", "lead-enrichment@1.2.0", "echo@1.0.0")
STATE_TABLES_SKIPPED = ("runs", "run_steps")  # the run log: written by every run, by design
# Changed by n8n itself, without a write of ours (triggerCount settles after a
# publish, as n8n finishes activating the triggers): not part of a dump.
VOLATILE = ("updatedAt", "triggerCount")


def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Gate:
    root: Path
    bare: Path
    good: str  # the good commit
    state: Path
    client: N8nClient
    env: dict[str, str]
    expected: tuple[str, str] = ("", "")  # the baseline's fingerprint
    seen: tuple[str, str] | None = None  # the fingerprint a test last took
    dumps: tuple[dict[str, list[Any]], dict[str, list[dict[str, Any]]]] | None = None
    baseline_dumps: tuple[dict[str, list[Any]], dict[str, list[dict[str, Any]]]] | None = None

    @property
    def repo(self) -> pygit2.Repository:
        return pygit2.Repository(str(self.bare))

    def cli(self, *args: str) -> tuple[int, str]:
        return _cli(*args)

    def checkout(self, ref: str = "main") -> Path:
        """A fresh folder holding the files of `ref` (the good commit by default)."""
        target = self.root / "work"
        if target.exists():
            shutil.rmtree(target)
        repo = self.repo
        tree = repo.revparse_single(ref).peel(pygit2.Commit).tree
        _write_tree(repo, tree, target)
        return target

    def branch(self, name: str, folder: Path, parent: str | None = None) -> str:
        """Commit `folder` as a new branch `name` on top of `parent` (the good commit)."""
        repo = self.repo
        ref = f"refs/heads/{name}"
        if ref in repo.references:
            repo.references.delete(ref)
        repo.references.create(ref, pygit2.Oid(hex=parent or self.good))
        return commit(repo, folder_files(folder), message=name, branch=name)

    def tag(self, name: str, target: str) -> None:
        self.repo.references.create(f"refs/tags/{name}", pygit2.Oid(hex=target), force=True)

    def forget(self, branches: list[str], tags: list[str]) -> None:
        repo = self.repo
        for ref in [f"refs/heads/{b}" for b in branches] + [f"refs/tags/{t}" for t in tags]:
            if ref in repo.references:
                repo.references.delete(ref)

    def state_dump(self) -> dict[str, list[Any]]:
        conn = sqlite3.connect(str(self.state), timeout=30)
        try:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            return {name: sorted((list(row) for row in conn.execute(f"SELECT * FROM {name}")),
                                 key=lambda r: json.dumps(r, default=str))
                    for name in names if name not in STATE_TABLES_SKIPPED}
        finally:
            conn.close()

    def n8n_dump(self) -> dict[str, list[dict[str, Any]]]:
        def clean(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            kept = [{k: v for k, v in item.items() if k not in VOLATILE} for item in items]
            return sorted(kept, key=lambda item: str(item.get("id")))
        return {"workflows": clean(self.client.list_workflows()),
                "credentials": clean(self.client.list_credentials())}

    def fingerprint(self) -> tuple[str, str]:
        """sha256 of every state table but the run log, and of n8n's lists."""
        self.dumps = (self.state_dump(), self.n8n_dump())
        self.seen = (_sha(self.dumps[0]), _sha(self.dumps[1]))
        return self.seen

    def changes(self, before: tuple[dict[str, list[Any]], dict[str, list[dict[str, Any]]]],
                ) -> list[str]:
        """What differs from `before` in the last fingerprint: tables, and n8n objects."""
        assert self.dumps is not None
        state, n8n = self.dumps
        found = [f"table {name}" for name in sorted(set(state) | set(before[0]))
                 if state.get(name) != before[0].get(name)]
        for kind in ("workflows", "credentials"):
            old = {str(o["id"]): o for o in before[1][kind]}
            new = {str(o["id"]): o for o in n8n[kind]}
            for key in sorted(set(old) | set(new)):
                a, b = old.get(key, {}), new.get(key, {})
                if a != b:
                    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                    found.append(f"{kind[:-1]} {(b or a).get('name')}: {', '.join(keys)}")
        return found

    def restore(self) -> None:
        """Apply the good commit again (only needed after a case leaked).

        A leak n8n cannot undo by a plain apply (a conflicting webhook left behind)
        would fail every later case too: then n8n and the state start over.
        """
        code, output = self.deploy()
        if code != 0:
            wipe(self.client)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.state}{suffix}").unlink(missing_ok=True)
            code, output = self.deploy()
        assert code == 0, output

    def deploy(self) -> tuple[int, str]:
        return self.cli("apply", "--yes", "--repo", str(self.bare), "--ref", "main")


def _cli(*args: str) -> tuple[int, str]:
    """`reconciler ARGS` in-process, its output captured (a module-scoped run_cli)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = entry(list(args))
    return code, out.getvalue()


def _write_tree(repo: pygit2.Repository, tree: pygit2.Tree, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for item in tree:
        obj = repo[item.id]
        if item.type_str == "tree":
            _write_tree(repo, obj, target / item.name)
        else:
            (target / item.name).write_bytes(obj.data)


def good_files(root: Path) -> Path:
    """example-repo plus the echo use case, in `root/good`: a valid repository."""
    folder = root / "good"
    shutil.copytree(EXAMPLE, folder)
    echo_case.write(folder)
    # The scheduled echo workflow runs in its declared time zone (SCHEDULE-TIMEZONE).
    tick = folder / "use-cases" / "echo" / "workflows" / "tick.json"
    data = json.loads(tick.read_text(encoding="utf-8"))
    data["settings"]["timezone"] = "UTC"
    tick.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def gate(n8n_server: ServerInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    root = tmp_path_factory.mktemp("gate")
    folder = good_files(root)
    bare = root / "origin.git"
    repo = pygit2.init_repository(str(bare), bare=True, initial_head="main")
    good = commit(repo, folder_files(folder), message="good")
    valid = _cli("validate", str(folder))
    assert valid == (0, "valid: no problems found\n"), valid
    secrets = root / "secrets"
    secrets.mkdir()
    for name, data in SECRETS.items():
        (secrets / name).write_text(json.dumps(data), encoding="utf-8")
    env = {"RECONCILER_N8N_URL": n8n_server.url, "RECONCILER_N8N_API_KEY": n8n_server.api_key,
           "RECONCILER_STATE": str(root / "state.sqlite"),
           "RECONCILER_SECRETS_DIR": str(secrets), "RECONCILER_HASH_KEY": HASH_KEY}
    with pytest.MonkeyPatch.context() as mp, \
            N8nClient(n8n_server.url, n8n_server.api_key) as client:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("RECONCILER_API_URL", raising=False)
        wipe(client)
        found = Gate(root, bare, good, root / "state.sqlite", client, env)
        for tag in TAGS:
            found.tag(tag, good)
        code, output = found.deploy()
        assert code == 0, output
        found.expected = found.fingerprint()
        found.baseline_dumps = found.dumps
        yield found


@pytest.fixture
def baseline(gate: Gate) -> Iterator[tuple[str, str]]:
    """The baseline fingerprint; after the test, the baseline again if a case leaked.

    The fingerprint the test took last stands for the state it left, so a case
    that changed nothing costs no extra reads.
    """
    gate.seen = None
    yield gate.expected
    if (gate.seen or gate.fingerprint()) != gate.expected:
        gate.restore()
        gate.expected = gate.fingerprint()
        gate.baseline_dumps = gate.dumps


Mutation = Callable[[Path], None]

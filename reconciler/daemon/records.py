"""What the daemon keeps in SQLite besides the engine's own rows: `meta` key-values
and runs that failed before the engine could start (git unreadable, bad input)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.errors import Problem
from reconciler.store.db import Store, now

TAGS_KEY = "daemon.tags"  # release tag -> commit, as last reconciled
N8N_URL_KEY = "daemon.n8n_url"  # the n8n base URL, for `plan --offline` in CI


def get_meta(store: Store, key: str) -> str | None:
    row = store.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(store: Store, key: str, value: str) -> None:
    with store.transaction() as c:
        c.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) "
                  "DO UPDATE SET value=excluded.value", (key, value))


def last_tags(store: Store) -> dict[str, str] | None:
    text = get_meta(store, TAGS_KEY)
    if text is None:
        return None
    data = json.loads(text)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def save_tags(store: Store, tags: dict[str, str]) -> None:
    set_meta(store, TAGS_KEY, json.dumps(tags, sort_keys=True))


def record_failure(store: Store, *, trigger: str, revision: str | None, error: str,
                   problems: Sequence[Problem] = (),
                   extra: dict[str, Any] | None = None) -> int:
    """A failed run that applied nothing, with every problem located (file:line)."""
    summary: dict[str, Any] = {"duration_s": 0, "applied_nothing": True,
                               "problems": [str(p) for p in problems], **(extra or {})}
    stamp = now()
    with store.transaction() as c:
        cur = c.execute(
            "INSERT INTO runs (started_at, finished_at, trigger, revision, outcome, summary,"
            " error) VALUES (?, ?, ?, ?, 'failed', ?, ?)",
            (stamp, stamp, trigger, revision, json.dumps(summary, sort_keys=True), error))
        run_id = cur.lastrowid
    assert run_id is not None
    return int(run_id)

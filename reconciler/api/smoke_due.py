"""Which smoke tests are due after a reconcile, and running them.

After each deployment of a use case's owner dev instance (its content changed) or a
change of its tests, the tests run once on it. The daemon calls `run_due` after
every reconcile; a batch that passed for a version a tag waits for unblocks that tag
on the next reconcile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.api.service import Service
from reconciler.api.smoke import run_tests, subject
from reconciler.model.repository import DeclaredState, UseCase, owner_instance_id
from reconciler.store.db import Store
from reconciler.store.smoke import Batch, latest_batch


@dataclass
class SmokeSettings:
    """What the runner needs (the fields of the API's settings)."""

    store_path: str | Path
    n8n_url: str
    n8n_api_key: str = field(repr=False)
    hash_key: bytes | None = field(default=None, repr=False)
    prices: Any = None


def due(store: Store, declared: DeclaredState) -> list[tuple[str, UseCase]]:
    """(owner dev instance, use case) whose tests have not run on what it runs now."""
    out = []
    for slug, uc in sorted(declared.use_cases.items()):
        if not uc.tests:
            continue
        dev = owner_instance_id(slug, "dev")
        row = store.conn.execute("SELECT version, active FROM instances WHERE id=?",
                                 (dev,)).fetchone()
        if row is None or not row[0] or not row[1]:
            continue  # nothing live on dev: nothing to test
        last = latest_batch(store, dev)
        if last is None or last.subject != subject(store, dev, str(row[0]), uc):
            out.append((dev, uc))
    return out


def run_due(settings: SmokeSettings, declared: DeclaredState, *, trigger: str) -> list[Batch]:
    service = Service(settings)
    try:
        return [run_tests(service, dev, uc, trigger=trigger)
                for dev, uc in due(service.store, declared)]
    finally:
        service.close()

"""The per-organization error workflow is deployed and every org workflow points at it."""

from __future__ import annotations

import pytest

from reconciler.adapters.secrets import DirSecretSource
from reconciler.apply.engine import Engine
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n


def engine(platform: Platform, callback: str | None) -> Engine:
    return Engine(store=platform.store, client=platform.client,
                  secrets=DirSecretSource(platform.secrets_dir), hash_key=b"t" * 32,
                  base_url=platform.base_url, error_callback=callback)


def test_org_error_workflows_are_wired(platform: Platform) -> None:
    platform.publications |= {("lead-enrichment", "1.2.0"), ("daily-digest", "1.0.0")}
    callback = "http://127.0.0.1:9"  # never called here: only the wiring is checked
    out = engine(platform, callback).reconcile(
        platform.declared(), publications=frozenset(platform.publications))
    assert out.outcome == "applied", out.error
    live = platform.live()
    acme = live["Organization errors [acme] [acme.errors/errors]"]
    globex = live["Organization errors [globex] [globex.errors/errors]"]
    assert acme["activeVersionId"]  # n8n runs only published error workflows
    post = next(n for n in acme["nodes"] if n["type"] == "n8n-nodes-base.httpRequest")
    assert post["parameters"]["url"] == f"{callback}/api/v1/internal/errors/acme"
    for name, wf in live.items():
        if "[lead-enrichment" in name or "[daily-digest" in name:
            owner = globex if "globex" in name else acme
            assert wf["settings"]["errorWorkflow"] == owner["id"], name
    again = engine(platform, callback).reconcile(
        platform.declared(), publications=frozenset(platform.publications))
    assert (again.outcome, again.writes) == ("no_changes", 0), again.plan

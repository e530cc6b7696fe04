"""The API's catalogue read from a state file alone (no n8n): per visibility level for
users of three organizations, and an org-owned instance's key."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.api.catalog import catalog
from reconciler.api.keys import Instance
from reconciler.apply.engine import sync_platform
from reconciler.load.repository import load_partial
from reconciler.load.source import FolderSource
from reconciler.load.stored import template_payload
from reconciler.store.db import Store
from tests.plan.test_catalog import CASES, repo  # noqa: F401  (the fixture)

STAMP = "2026-01-01T00:00:00Z"


def state_of(root: Path, tmp_path: Path) -> Store:
    declared = load_partial(FolderSource(root))
    store = Store(tmp_path / "state.sqlite")
    sync_platform(store, declared)
    with store.transaction() as c:
        for slug, uc in declared.use_cases.items():
            process = uc.config.process
            c.execute("INSERT INTO processes (use_case, title, type, visibility, owner_user, "
                      "owner_org) VALUES (?, ?, ?, ?, ?, ?)",
                      (slug, process.title, process.type.value,
                       json.dumps(process.visibility.model_dump(mode="json")),
                       process.owner.user, process.owner.org))
            payload = template_payload(uc)
            c.execute("INSERT INTO templates (id, use_case, version, fingerprint, status, "
                      "config, workflows, skills, file_digests, created_at) VALUES "
                      "(?, ?, ?, ?, 'published', ?, ?, ?, ?, ?)",
                      (f"{slug}@{uc.version}", slug, uc.version, uc.fingerprint,
                       payload["config"], payload["workflows"], payload["skills"],
                       payload["file_digests"], STAMP))
        for iid, use_case, user, org in (("mine-frank", "t-public", "frank", "initech"),
                                         ("mine-initech", "o-public", None, "initech")):
            c.execute("INSERT INTO instances (id, use_case, owner_user, owner_org, "
                      "environment, automatic, version, pinned, active, state, sharing, "
                      "parameters, created_at, updated_at) VALUES (?, ?, ?, ?, 'prod', 0, "
                      "NULL, 0, 1, 'active', '{}', '{}', ?, ?)",
                      (iid, use_case, user, org, STAMP, STAMP))
    return store


def key_of(instance_id: str, use_case: str, org: str) -> Instance:
    return Instance(id=instance_id, use_case=use_case, owner_org=org, version=None,
                    active=True, state="active")


def test_a_users_key_gets_that_users_catalogue(repo: Path, tmp_path: Path) -> None:  # noqa: F811
    store = state_of(repo, tmp_path)
    try:
        answer = catalog(store, key_of("mine-frank", "t-public", "initech"))
    finally:
        store.close()
    assert answer["for"] == "user:frank"
    found = {e["use_case"]: e for e in answer["data"]}
    # frank (initech) is listed by name in t-users; the rest of his catalogue is public
    assert set(found) == {"t-users", "t-public", "o-public"}
    assert found["t-public"]["installed"] == ["mine-frank"]
    assert found["o-public"]["install_as"] == ["org:initech"]
    assert found["o-public"]["installed"] == ["mine-initech"]
    assert found["o-public"]["versions"]["published"] == ["1.2.0"]
    assert [r["name"] for r in found["o-public"]["required_parameters"]] == ["COMPANY_NAME"]
    assert set(CASES) > set(found)


def test_an_org_key_gets_the_organizational_processes_it_may_install(
        repo: Path, tmp_path: Path) -> None:  # noqa: F811
    store = state_of(repo, tmp_path)
    try:
        acme = catalog(store, key_of("x", "o-org", "acme"))
        initech = catalog(store, key_of("mine-initech", "o-public", "initech"))
    finally:
        store.close()
    assert acme["for"] == "org:acme"
    assert [e["use_case"] for e in acme["data"]] == ["o-org", "o-public"]
    assert [e["use_case"] for e in initech["data"]] == ["o-public"]

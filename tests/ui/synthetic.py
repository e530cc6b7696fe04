"""A synthetic state written straight through the store: many orgs, many instances.

For the dashboard's speed and scoping tests (no n8n): the example repository's use
cases as templates, then `orgs` organizations each with instances of every state,
deployments, workflow mappings, notices, runs with steps, and execution records.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from reconciler.load.repository import load
from reconciler.load.source import FolderSource
from reconciler.load.stored import template_payload
from reconciler.model.platform import INSTANCE_STATES
from reconciler.store.db import Store
from reconciler.store.state import StateWriter

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"
STAMP = "2026-01-02T03:04:05.000+00:00"


def build(path: Path, *, orgs: int = 10, per_org: int = 100, runs: int = 60) -> Store:
    store = Store(path)
    writer = StateWriter(store)
    declared = load(FolderSource(EXAMPLE))
    names = sorted(declared.use_cases)
    with store.transaction() as c:
        for n, slug in enumerate(names):
            uc = declared.use_cases[slug]
            owner = f"org{n % orgs}"
            c.execute("INSERT INTO processes (use_case, title, type, visibility, owner_user, "
                      "owner_org, active_env) VALUES (?, ?, ?, ?, ?, ?, 'prod')",
                      (slug, uc.config.process.title, uc.config.process.type.value,
                       json.dumps({"level": "public"}), f"{owner}-user", owner))
            for version, status in (("0.9.0", "deprecated"), (uc.version, "published")):
                payload = template_payload(uc)
                c.execute("INSERT INTO templates (id, use_case, version, fingerprint, status, "
                          "revision, config, workflows, skills, file_digests, created_at, "
                          "published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (f"{slug}@{version}", slug, version, uc.fingerprint + version,
                           status, "ab" * 20, payload["config"], payload["workflows"],
                           payload["skills"], payload["file_digests"], STAMP, STAMP))
        for o in range(orgs):
            for k in range(per_org):
                _instance(c, names, o, k)
        for r in range(1, runs + 1):
            _run(c, r, orgs)
    writer.bump_version()
    return store


def _instance(conn: sqlite3.Connection, names: list[str], o: int, k: int) -> None:
    inst = f"org{o}-i{k:04d}"
    slug = names[k % len(names)]
    state = INSTANCE_STATES[k % len(INSTANCE_STATES)]
    conn.execute(
        "INSERT INTO instances (id, use_case, owner_user, owner_org, environment, automatic,"
        " version, pinned, active, state, state_detail, sharing, parameters, created_at, "
        "updated_at) VALUES (?, ?, NULL, ?, ?, 0, '1.0.0', ?, ?, ?, ?, '{}', '{}', ?, ?)",
        (inst, slug, f"org{o}", "prod" if k % 3 else "dev", k % 2, int(state == "active"),
         state, None if state == "active" else f"{state} because of test data", STAMP, STAMP))
    conn.execute(
        "INSERT INTO deployments (instance_id, template_id, status, run_id, created_at, "
        "updated_at) VALUES (?, ?, 'deployed', 1, ?, ?)", (inst, f"{slug}@1.0.0", STAMP, STAMP))
    conn.execute(
        "INSERT INTO workflow_mappings (instance_id, workflow_id, n8n_id, content_hash) "
        "VALUES (?, 'main', ?, 'h')", (inst, f"n8n{o}x{k}"))
    if k % 7 == 0:
        conn.execute(
            "INSERT INTO notices (instance_id, kind, version, message, created_at) VALUES "
            "(?, 'update_available', '9.9.9', ?, ?)", (inst, f"{inst}: 9.9.9 is out", STAMP))
    for e in range(2):
        conn.execute(
            "INSERT INTO executions (id, instance_id, workflow_id, status, started_at, "
            "trigger_source, updated_at, error_class, failed_node) VALUES "
            "(?, ?, 'main', ?, ?, 'api', ?, ?, ?)",
            (f"0190{o:04d}{k:04d}{e:02d}", inst, "failed" if e else "success", STAMP, STAMP,
             "http_error" if e else None, "Call API" if e else None))


def _run(conn: sqlite3.Connection, r: int, orgs: int) -> None:
    conn.execute(
        "INSERT INTO runs (id, started_at, finished_at, trigger, revision, outcome, reads, "
        "writes, summary) VALUES (?, ?, ?, 'daemon:schedule', ?, ?, 2, ?, ?)",
        (r, STAMP, STAMP, f"{r:040x}", "applied" if r % 5 else "no_changes", r % 5,
         json.dumps({"duration_s": 0.5, "drift": [f"org{r % orgs}-i0001/main"]})))
    for seq in range(4):
        inst = f"org{(r + seq) % orgs}-i{seq:04d}"
        conn.execute(
            "INSERT INTO run_steps (run_id, seq, kind, instance_id, target, detail, outcome, "
            "started_at, duration_ms) VALUES (?, ?, 'put_workflow', ?, ?, ?, 'applied', ?, 12)",
            (r, seq, inst, f"{inst}/main", json.dumps({
                "diff": ["values_changed: root['nodes'][0]['name']: 'a' → 'b'"]}), STAMP))

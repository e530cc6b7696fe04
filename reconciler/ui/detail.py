"""One process, instance or run as its page shows it (None: not there, or not yours).

A viewer of another organization gets None exactly as for a missing id, so a page
never confirms that something exists elsewhere.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.api import instances as api_instances
from reconciler.api import skills as api_skills
from reconciler.api.errors import ApiError
from reconciler.api.keys import Instance, load_instance
from reconciler.api.records import Records
from reconciler.errors import UsageError
from reconciler.load.stored import use_case_from_template
from reconciler.model.platform import TemplateRec
from reconciler.model.repository import owner_instance_id
from reconciler.plan.credentials import resolve_uses, template_needs
from reconciler.report.show import run_record
from reconciler.report.smoke import batch_dict
from reconciler.store.db import Store
from reconciler.store.smoke import latest_batch
from reconciler.ui import graph
from reconciler.ui.data import Scope, rows, scoped_run

RECENT = 20


def _templates(store: Store, use_case: str) -> list[TemplateRec]:
    found = store.conn.execute(
        "SELECT id, use_case, version, fingerprint, status, revision, config, workflows, "
        "skills, file_digests FROM templates WHERE use_case=? ORDER BY created_at, id",
        (use_case,)).fetchall()
    return [TemplateRec(id=r[0], use_case=r[1], version=r[2], fingerprint=r[3], status=r[4],
                        revision=r[5], config=r[6], workflows=json.loads(r[7]),
                        skills=json.loads(r[8]), file_digests=json.loads(r[9]))
            for r in found]


def process(store: Store, scope: Scope, use_case: str) -> dict[str, Any] | None:
    where, args = scope.where("owner_org")
    found = rows(store.conn, "SELECT use_case, title, type, visibility, owner_user, owner_org,"
                 f" active_env, removed FROM processes WHERE use_case=? AND {where}",
                 [use_case, *args])
    if not found:
        return None
    proc = found[0]
    proc["visibility"] = json.loads(proc["visibility"] or "{}")
    timeline = rows(store.conn, "SELECT id, version, status, revision, fingerprint, created_at,"
                    " published_at, deprecated_at FROM templates WHERE use_case=? ORDER BY "
                    "created_at, id", [use_case])
    graphs = {t.version: graph.svg(use_case_from_template(t), f"{t.id} sub-workflows")
              for t in _templates(store, use_case)}
    for entry in timeline:
        entry["tag"] = entry["id"] if entry["status"] != "inactive" else None
        entry["svg"] = graphs.get(entry["version"], "")
    inst_where, inst_args = scope.where("owner_org")
    proc["templates"] = list(reversed(timeline))  # newest first
    proc["instances"] = rows(store.conn, "SELECT id, owner_user, owner_org, environment, "
                             "version, pinned, state FROM instances WHERE use_case=? AND "
                             f"{inst_where} ORDER BY id LIMIT 50", [use_case, *inst_args])
    proc["instance_count"] = store.conn.execute(
        f"SELECT count(*) FROM instances WHERE use_case=? AND {inst_where}",
        [use_case, *inst_args]).fetchone()[0]
    smoke = latest_batch(store, owner_instance_id(use_case, "dev"))
    proc["smoke"] = batch_dict(smoke) if smoke else None  # the owner's own dev instance
    return proc


def _visible_instance(store: Store, scope: Scope, instance_id: str) -> dict[str, Any] | None:
    where, args = scope.where("owner_org")
    found = rows(store.conn, "SELECT * FROM instances WHERE id=? AND " + where,
                 [instance_id, *args])
    return found[0] if found else None


def instance(store: Store, scope: Scope, instance_id: str, n8n_url: str,
             api_base: str) -> dict[str, Any] | None:
    inst = _visible_instance(store, scope, instance_id)
    key = load_instance(store, instance_id)
    if inst is None or key is None:
        return None
    inst["sharing"] = json.loads(inst["sharing"] or "{}")
    inst["parameters"] = json.loads(inst["parameters"] or "{}")
    inst["notices"] = rows(store.conn, "SELECT kind, version, message, created_at FROM notices"
                           " WHERE instance_id=? AND dismissed=0 ORDER BY id", [instance_id])
    inst["deployments"] = rows(store.conn, "SELECT id, template_id, status, error, run_id, "
                               "created_at, updated_at FROM deployments WHERE instance_id=? "
                               "ORDER BY id DESC LIMIT ?", [instance_id, RECENT])
    inst["mappings"] = rows(store.conn, "SELECT workflow_id, n8n_id, deployment_id, archived,"
                            " published_version_id FROM workflow_mappings WHERE instance_id=? "
                            "ORDER BY workflow_id", [instance_id])
    inst["process_visible"] = process_visible(store, scope, inst["use_case"])
    inst["executions"] = [r.public() for r in
                          Records(store).search(instance_id, limit=RECENT)]
    inst["triggers"], inst["skills"] = _triggers_and_skills(store, key, n8n_url, api_base)
    inst["credentials"] = credentials(store, key, inst["owner_user"])
    return inst


def process_visible(store: Store, scope: Scope, use_case: str) -> bool:
    where, args = scope.where("owner_org")
    return store.conn.execute(f"SELECT 1 FROM processes WHERE use_case=? AND {where}",
                              [use_case, *args]).fetchone() is not None


def _triggers_and_skills(store: Store, inst: Instance, n8n_url: str,
                         api_base: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    template = api_instances.template(store, inst)
    if template is None:
        return [], []
    triggers = []
    for spec in api_instances.workflows(template[0]).values():
        target = api_instances.target(spec)
        if target is not None:
            triggers.append(api_skills.trigger_info(inst, target, n8n_url, api_base))
    try:
        found = api_skills.skills(store, inst, n8n_url, api_base)
    except ApiError:
        found = []
    return triggers, [{k: s[k] for k in ("name", "description", "path", "workflow_id")}
                      for s in found]


def credentials(store: Store, inst: Instance, user: str | None) -> list[dict[str, Any]]:
    """The n8n credentials the instance's version uses: names, scopes and types only."""
    if inst.version is None:
        return []
    recs = [t for t in _templates(store, inst.use_case) if t.version == inst.version]
    if not recs:
        return []
    needs = template_needs(use_case_from_template(recs[0]).workflows)
    stored = {r[0]: (r[1], r[2]) for r in store.conn.execute(
        "SELECT key, name, n8n_id FROM credentials")}
    # resolve_uses picks the secret each need maps to; what n8n holds stands for "present".
    present = {key.rsplit(":", 1)[0]: "" for key in stored}
    uses, missing = resolve_uses(needs, instance_id=inst.id, user=user, org=inst.owner_org,
                                 secrets=present)
    found = []
    for use in uses:
        name, n8n_id = stored.get(use.key, (use.name, None))
        found.append({"scope": use.scope, "integration": use.integration, "type": use.type,
                      "name": name, "n8n_id": n8n_id, "secret": use.secret,
                      "missing": use.secret in missing})
    return found


def run(store: Store, scope: Scope, run_id: int) -> dict[str, Any] | None:
    try:
        rec = run_record(store, run_id)
    except UsageError:  # no such run
        return None
    ids = scope.instance_ids(store.conn)
    cases = scope.use_cases(store.conn)
    out = scoped_run(store.conn, rec, scope)
    if ids is not None and cases is not None:
        out["steps"] = [s for s in rec["steps"] if _step_visible(s, ids, cases)]
        out["notices"] = [n for n in rec["notices"] if n["instance"] in ids]
    for step in out["steps"]:
        step["changes"] = _changes(step)
    return out


def _step_visible(step: dict[str, Any], ids: set[str], cases: set[str]) -> bool:
    if step["instance"]:
        return str(step["instance"]) in ids
    kind = str(step["kind"])
    if kind.endswith("_credential"):
        return False  # platform credentials: the admin's
    return str(step["target"]).split("@", 1)[0] in cases


def _changes(step: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, old, new) rows worth showing for a step."""
    detail = step["detail"]
    found: list[tuple[str, str, str]] = []
    if step["kind"] == "save_instance":
        before = detail.get("previous_version")
        after = (detail.get("record") or {}).get("version")
        if before != after:
            found.append(("version", str(before or "-"), str(after or "-")))
    for entry in detail.get("diff") or []:
        if isinstance(entry, dict):  # the plan's field diffs: {path, change, old, new}
            found.append((f"{entry.get('path')} ({entry.get('change')})",
                          "" if entry.get("old") is None else str(entry.get("old")),
                          "" if entry.get("new") is None else str(entry.get("new"))))
            continue
        kind, _, rest = str(entry).partition(": ")  # runs recorded before field diffs
        path, _, values = rest.partition(": ")
        old, sep, new = values.partition(" → ")
        found.append((f"{path} ({kind})", old if sep else "", new if sep else values))
    return found


def instance_visible(store: Store, scope: Scope, instance_id: str) -> bool:
    """An execution is visible with its instance."""
    return _visible_instance(store, scope, instance_id) is not None

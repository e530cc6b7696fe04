"""GET /api/v1/catalog: what the key's owner may install, from the daemon's state.

An API key belongs to one instance, so the caller is that instance's owner: a user
(personal instance) sees their own catalogue, as `reconciler catalog --for user:ID`
would list it; an organization (org-owned instance) sees the organizational processes
it may install. The state holds what the last reconcile recorded: platform members
and teams, each process's visibility and owner, and its stored templates; access is
`reconciler.model.access.may_install`, as everywhere else.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.api.keys import Instance
from reconciler.load.stored import use_case_from_template
from reconciler.model.access import may_install, orgs_of
from reconciler.model.declared import Organization, ProcessType
from reconciler.model.platform import ProcessRec, TemplateRec
from reconciler.plan.catalog import Entry, candidates, entry, recorded_process
from reconciler.plan.versions import semver_key
from reconciler.store.db import Store
from reconciler.store.state import snapshot


def organizations(store: Store) -> list[Organization]:
    """platform.yaml's organizations as the last reconcile mirrored them."""
    c = store.conn
    orgs: dict[str, dict[str, Any]] = {
        str(r[0]): {"id": r[0], "name": r[1], "members": [], "teams": []}
        for r in c.execute("SELECT id, name FROM organizations")}
    for org, user, role in c.execute("SELECT org, user, role FROM memberships"):
        if org in orgs:
            orgs[org]["members"].append({"user": user, "role": role})
    for org, team, name, members in c.execute("SELECT org, id, name, members FROM teams"):
        if org in orgs:
            orgs[org]["teams"].append({"id": team, "name": name,
                                       "members": json.loads(members or "[]")})
    # JSON mode: the stored strings become the model's enums, as when loading YAML
    return [Organization.model_validate_json(json.dumps(o)) for o in orgs.values()]


def _owner_user(store: Store, instance: Instance) -> str | None:
    row = store.conn.execute("SELECT owner_user FROM instances WHERE id=?",
                             (instance.id,)).fetchone()
    return str(row[0]) if row and row[0] else None


def _describe(templates: list[TemplateRec]) -> TemplateRec:
    """The newest published version, else the newest stored (a dev-only use case)."""
    published = [t for t in templates if t.status in ("published", "deprecated")]
    return max(published or templates, key=lambda t: semver_key(t.version))


def catalog(store: Store, instance: Instance) -> dict[str, Any]:
    state = snapshot(store)
    orgs = organizations(store)
    user = _owner_user(store, instance)
    rows = store.conn.execute("SELECT use_case, visibility, owner_user, owner_org FROM "
                              "processes WHERE removed=0").fetchall()
    # the caller's installations: a user's own and their organizations', or the org's
    their_orgs = set(orgs_of(orgs, user)) if user else {instance.owner_org}
    installed: dict[str, list[str]] = {}
    for rec in state.instances.values():
        mine = (user is not None and rec.owner_user == user) or (
            rec.owner_user is None and rec.owner_org in their_orgs)
        if mine and rec.state != "archived":
            installed.setdefault(rec.use_case, []).append(rec.id)
    entries: list[Entry] = []
    for slug, visibility, owner_user, owner_org in sorted(rows):
        templates = [t for t in state.templates.values() if t.use_case == slug]
        if not templates:
            continue
        uc = use_case_from_template(_describe(templates))
        process = recorded_process(uc.config.process, ProcessRec(
            slug, "", False, visibility, owner_user, owner_org)) or uc.config.process
        if user is not None:
            install_as = candidates(orgs, process, user)
        elif (process.type is ProcessType.organizational
              and may_install(orgs, process, None, instance.owner_org)):
            install_as = [f"org:{instance.owner_org}"]
        else:
            install_as = []
        if install_as:
            published = [t.version for t in templates
                         if t.status in ("published", "deprecated")]
            entries.append(entry(uc, install_as, published, installed.get(slug, ()),
                                 process=process))
    who = f"user:{user}" if user else f"org:{instance.owner_org}"
    return {"for": who, "data": [e.as_dict() for e in entries]}

"""Rules that keep tenants apart on the one shared n8n: one installation per owner and
environment, and webhook paths no other installation can render.

The planner runs these same rules (through the gate) on the revision it plans, and
checks webhook paths once more on the templates it really deploys.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reconciler.model.declared import ProcessType
from reconciler.model.repository import DeclaredState, owner_instance_id
from reconciler.validate.references import resolve_instance_org
from reconciler.validate.rules.registry import Finding, Layer, Lint, rule
from reconciler.validate.webhooks import Installation, collisions, hooks_of


@rule("INSTANCE-UNIQUE", Layer.folder, "must",
      "One installation per owner and environment")
def instance_unique(lint: Lint) -> Iterator[Finding]:
    """A personal process has at most one instance per user and environment, an
    organizational one at most one per organization and environment. The use case's
    owner already has two: its automatic `dev` and `prod` environments, so an instance
    file for the owner in either environment is a second copy."""
    state = lint.state
    seen: dict[tuple[str, str, str], list[str]] = {}
    for uc in state.use_cases.values():
        owner = uc.config.process.owner
        personal = uc.config.process.type is ProcessType.personal
        for env in ("dev", "prod"):
            key = (uc.slug, (owner.user or "") if personal else owner.org, env)
            seen[key] = [f"{uc.path}/use-case.yaml (the owner's automatic {env} environment)"]
    for inst in sorted(state.instances.values(), key=lambda i: i.path):
        found = state.use_cases.get(inst.spec.use_case)
        if found is None or inst.spec.archived:
            continue
        personal = found.config.process.type is ProcessType.personal
        who = (inst.spec.owner.user or "") if personal else (
            resolve_instance_org(state, inst) or "")
        seen.setdefault((found.slug, who, inst.spec.environment.value), []).append(inst.path)
    for (slug, who, env), places in sorted(seen.items()):
        if len(places) < 2:
            continue
        for place in places:
            if not place.startswith("instances/"):
                continue
            others = ", ".join(p for p in places if p != place)
            yield Finding(place, f"{slug}: {who} has more than one {env} instance: this one "
                          f"and {others}", ("owner",),
                          "one instance per owner and environment: remove all but one")


def installations(state: DeclaredState) -> Iterator[Installation]:
    """Every webhook of every installation the branch declares, rendered."""
    for uc in state.use_cases.values():
        owner_params = {**params_of(uc), **uc.config.process.owner.parameters}
        for env in ("dev", "prod"):
            iid = owner_instance_id(uc.slug, env)
            for hook in hooks_of(uc, iid, owner_params):
                yield iid, hook.file, hook
    for inst in state.instances.values():
        found = state.use_cases.get(inst.spec.use_case)
        if found is None or inst.spec.archived:
            continue
        for hook in hooks_of(found, inst.id, {**params_of(found), **inst.spec.parameters}):
            yield inst.id, inst.path, hook


def params_of(uc: Any) -> dict[str, Any]:
    return {k: p.default for k, p in uc.config.parameters.items() if p.default is not None}


@rule("WEBHOOK-PATH-UNIQUE", Layer.platform, "must",
      "Rendered webhook paths are unique across the whole platform")
def webhook_path_unique(lint: Lint) -> Iterator[Finding]:
    """Every webhook path is rendered for every installation of every use case (the
    owner's environments and each instance, with its parameters) and compared: two
    installations whose webhooks n8n could not tell apart (same method, same path, a
    `:param` segment matching anything) would take each other's calls or fail to
    publish. Both files are named; the planner checks the same on what it deploys."""
    for (a_id, a_file, a), (b_id, b_file, b) in collisions(installations(lint.state)):
        yield Finding(a_file, f"webhook {a.node!r} of {a_id} renders {a.method} /{a.path}, "
                      f"which {b.node!r} of {b_id} ({b_file}) also renders",
                      a.pointer if a_file == a.file else ("use_case",))
        yield Finding(b_file, f"webhook {b.node!r} of {b_id} renders {b.method} /{b.path}, "
                      f"which {a.node!r} of {a_id} ({a_file}) also renders",
                      b.pointer if b_file == b.file else ("use_case",))


@rule("NAMES-DISTINCT", Layer.folder, "must",
      "A use case's slug is no instance's id")
def names_distinct(lint: Lint) -> Iterator[Finding]:
    """Webhook paths, workflow names and credential scopes are built from use-case slugs
    and instance ids side by side (`<use case>/<instance>/…`). A slug equal to an
    instance id blurs which tenant a name belongs to, so it is refused: rename the use
    case folder or the instance file."""
    ids = {inst.id: inst.path for inst in lint.state.instances.values()}
    for uc in lint.state.use_cases.values():
        if uc.slug in ids:
            yield Finding(f"{uc.path}/use-case.yaml", f"use case {uc.slug!r} has the id of "
                          f"instance {ids[uc.slug]}", ("process",),
                          "rename the use-case folder or the instance file")

"""Desired instances: the owner's dev and prod environments plus declared installations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import Problem
from reconciler.model.declared import Environment, ProcessType
from reconciler.model.repository import UseCase, owner_instance_id
from reconciler.plan.catalog import process_access
from reconciler.plan.inputs import PlanInput
from reconciler.plan.steps import SaveProcess, Step
from reconciler.plan.versions import Catalog, semver_key
from reconciler.validate.references import resolve_instance_org


@dataclass(frozen=True)
class Desired:
    id: str
    use_case: str
    owner_user: str | None
    owner_org: str
    environment: str
    automatic: bool
    version: str | None  # None: nothing to run yet (no published version)
    pinned: bool
    active: bool  # workflows published (before secrets are checked)
    archived: bool
    parameters: dict[str, Any]
    sharing: dict[str, Any] = field(default_factory=dict)
    template: UseCase | None = None
    notices: tuple[tuple[str, str, str], ...] = ()  # (kind, version, message)
    over_quota: bool = False  # its account spent its credits: down until it has some


@dataclass
class InstancePlan:
    desired: list[Desired]
    steps: list[Step]
    problems: list[Problem]
    # use case -> (owner environment going live, the one going down once it is)
    switches: dict[str, tuple[str, str]] = field(default_factory=dict)


def desired_instances(inp: PlanInput, cat: Catalog) -> InstancePlan:
    out = InstancePlan(desired=[], steps=[], problems=[])
    for uc in inp.declared.use_cases.values():
        envs = (owner_instance_id(uc.slug, "dev"), owner_instance_id(uc.slug, "prod"))
        if not any(inp.held(uc.slug, env) for env in envs):  # the switch is one unit
            _owner_envs(inp, cat, uc, out)
    for decl in inp.declared.instances.values():
        spec = decl.spec
        found = inp.declared.use_cases.get(spec.use_case)
        if found is None or inp.held(spec.use_case, decl.id):
            continue  # held back by the gate
        uc = found
        org = resolve_instance_org(inp.declared, decl) or ""
        version, pinned, notices = _declared_version(cat, uc, spec.environment, spec.version)
        if spec.version is not None and cat.template(uc.slug, spec.version) is None:
            out.problems.append(Problem(decl.path, f"version {spec.version} of {uc.slug} "
                                        "exists neither in the branch, a tag nor the state",
                                        field="version", rule="PIN-KNOWN"))
            continue
        if (spec.environment is Environment.prod and not spec.archived
                and (version is None or version not in cat.published.get(uc.slug, []))):
            waiting = spec.version or "a first version"
            notices = (("waiting_for_publish", spec.version or "",
                        f"waiting for {uc.slug} {waiting} to be published"),)
            version = None
        params = _with_defaults(uc, spec.parameters)
        out.desired.append(Desired(
            id=decl.id, use_case=uc.slug, owner_user=spec.owner.user, owner_org=org,
            environment=spec.environment.value, automatic=False, version=version,
            pinned=pinned, active=spec.active and not spec.archived, archived=spec.archived,
            parameters=params, sharing=spec.sharing.model_dump(mode="json"),
            template=cat.template(uc.slug, version) if version else None, notices=notices))
    _removed(inp, out)
    for slug, process in sorted(inp.state.processes.items()):
        if slug not in inp.declared.use_cases and not process.removed and not inp.held(slug):
            out.steps.append(SaveProcess(use_case=slug, removed=True,
                                         record={"use_case": slug, "removed": 1,
                                                 "active_env": process.active_env}))
    return out


def _with_defaults(uc: UseCase, given: dict[str, Any]) -> dict[str, Any]:
    params = {k: spec.default for k, spec in uc.config.parameters.items()
              if spec.default is not None}
    params.update(given)
    return params


def _declared_version(cat: Catalog, uc: UseCase, env: Environment,
                      pin: str | None) -> tuple[str | None, bool, tuple[tuple[str, str, str], ...]]:
    if env is Environment.dev:
        return uc.version, False, ()
    newest = cat.newest_published(uc.slug)
    if pin is None:
        return newest, False, ()
    notices: tuple[tuple[str, str, str], ...] = ()
    if newest is not None and semver_key(newest) > semver_key(pin):
        notices = (("update_available", newest,
                    f"{uc.slug} {newest} is available (pinned to {pin})"),)
    return pin, True, notices


def _owner_envs(inp: PlanInput, cat: Catalog, uc: UseCase, out: InstancePlan) -> None:
    owner = uc.config.process.owner
    personal = uc.config.process.type is ProcessType.personal
    user = owner.user if personal else None
    dev_id, prod_id = owner_instance_id(uc.slug, "dev"), owner_instance_id(uc.slug, "prod")
    process = inp.state.processes.get(uc.slug)
    active_env = process.active_env if process else "dev"
    if not _deployed(inp, dev_id, uc.version):
        active_env = "dev"  # a (new) dev deploy makes dev the active environment
    newest = cat.newest_published(uc.slug)
    if newest is not None and not _deployed(inp, prod_id, newest):
        active_env = "prod"  # a publication switches to prod
    both = inp.defaults.both_environments_active
    params = _with_defaults(uc, owner.parameters)
    common: dict[str, Any] = {"use_case": uc.slug, "owner_user": user, "owner_org": owner.org,
                              "automatic": True, "pinned": False, "archived": False,
                              "parameters": params}
    envs = [Desired(id=dev_id, environment="dev", version=uc.version,
                    active=both or active_env == "dev",
                    template=cat.template(uc.slug, uc.version), **common)]
    if newest is not None:
        envs.append(Desired(id=prod_id, environment="prod", version=newest,
                            active=both or active_env == "prod",
                            template=cat.template(uc.slug, newest), **common))
    if not both and process is not None and process.active_env != active_env:
        # The side going live is planned first; the other goes down only once it is.
        incoming, outgoing = (prod_id, dev_id) if active_env == "prod" else (dev_id, prod_id)
        out.switches[uc.slug] = (incoming, outgoing)
        envs.sort(key=lambda d: d.id != incoming)
    out.desired.extend(envs)
    record = {"use_case": uc.slug, "title": uc.config.process.title,
              "type": uc.config.process.type.value,
              "visibility": uc.config.process.visibility.model_dump(mode="json"),
              "owner_user": owner.user, "owner_org": owner.org, "active_env": active_env,
              "removed": 0}
    moved, access = process_access(inp.declared.platform.organizations, uc.config.process,
                                   process)
    if process is None or process.active_env != active_env or process.removed or moved:
        out.steps.append(SaveProcess(use_case=uc.slug, record=record, access=access))


def _deployed(inp: PlanInput, instance_id: str, version: str) -> bool:
    """It runs this version: a failed first deploy of it does not count (tried again)."""
    rec = inp.state.instances.get(instance_id)
    return rec is not None and rec.version == version and rec.state != "deploy_failed"


def _removed(inp: PlanInput, out: InstancePlan) -> None:
    """Instances in the state that nothing declares any more: archived, records kept."""
    wanted = {d.id for d in out.desired}
    for rec in inp.state.instances.values():
        if rec.id in wanted or rec.state == "archived" or inp.held(rec.use_case, rec.id):
            continue
        if rec.id in inp.declared.instances:  # declared, yet not wanted: held by the gate
            continue
        out.desired.append(Desired(
            id=rec.id, use_case=rec.use_case, owner_user=rec.owner_user,
            owner_org=rec.owner_org, environment=rec.environment, automatic=rec.automatic,
            version=rec.version, pinned=rec.pinned, active=False, archived=True,
            parameters=rec.parameters, sharing=rec.sharing, template=None))

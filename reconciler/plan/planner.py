"""The pure planner: (declared state, platform state, live n8n) -> ordered steps.

No I/O here. Order: templates and processes; credentials to create or rotate; then
each instance's group (drafts, publishes, unpublishes, archive, its record and
notices); credentials no instance uses any more last.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.errors import PlanError, Problem
from reconciler.load.stored import use_case_from_template
from reconciler.model.platform import InstanceRec, template_id
from reconciler.plan.analysis import analyse
from reconciler.plan.credentials import (
    CredentialUse,
    credential_refs,
    credential_steps,
    resolve_uses,
)
from reconciler.plan.inputs import LiveWorkflow, PlanInput
from reconciler.plan.instances import Desired, desired_instances
from reconciler.plan.nogc import collector_paused
from reconciler.plan.org_errors import USE_CASE as ERRORS_USE_CASE
from reconciler.plan.org_errors import WORKFLOW as ERRORS_WORKFLOW
from reconciler.plan.org_errors import error_instances, error_workflow_ref
from reconciler.plan.org_errors import instance_id as error_instance_id
from reconciler.plan.quota import apply_quota
from reconciler.plan.smoke_gate import smoke_gate
from reconciler.plan.steps import (
    AddNotice,
    CreateCredential,
    DeleteCredential,
    RotateCredential,
    SaveInstance,
    Step,
    pending,
)
from reconciler.plan.switch import hold_switches
from reconciler.plan.values import BUILT_IN
from reconciler.plan.versions import build_catalog
from reconciler.plan.webhooks import webhook_problems
from reconciler.plan.workflows import (
    InstanceContext,
    base_context,
    parse_workflow_name,
    plan_archive,
    plan_workflows,
)
from reconciler.render.context import CredentialRef, RenderContext
from reconciler.validate.gate import INSTANCE, Unit, gate_for

Held = tuple[str, str, tuple[Problem, ...]]  # (kind, id, why): a unit the gate held back


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    state_version: int  # compare-and-set: apply refuses if the state moved since
    revision: str | None
    notes: tuple[str, ...] = field(default=())
    held: tuple[Held, ...] = field(default=())  # not planned: they keep what they have

    @property
    def changes(self) -> int:
        return len(self.steps)

    @property
    def n8n_writes(self) -> int:
        return sum(1 for s in self.steps if s.writes_n8n)

    def fingerprint(self) -> str:
        text = json.dumps([s.as_dict() for s in self.steps], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


# Problems found while planning hold their unit back, and the plan is made again
# without it; each round holds at least one more unit, so a few rounds suffice.
_ROUNDS = 8


def make_plan(inp: PlanInput) -> Plan:
    """Plan everything the gate lets through; the held units keep what they have.

    The gate is every `must` rule of `validate` (and the tags' problems); what the
    planner itself finds (immutability against the state, pins, rendering, webhook
    paths against what is live) holds its unit the same way. A platform problem
    holds everything: PlanError.
    """
    with collector_paused():
        return _make_plan(inp)


def _make_plan(inp: PlanInput) -> Plan:
    gate = gate_for(inp.declared, inp.release_problems)
    smoke = smoke_gate(inp)  # releases whose smoke tests did not pass wait
    inp = smoke.inp
    for _ in range(_ROUNDS):
        if gate.platform:
            raise PlanError(gate.platform)
        steps, found = _plan_steps(replace(inp, gate=gate))
        if not found:
            return Plan(steps=(*steps, *smoke.steps), state_version=inp.state.version,
                        revision=inp.declared.revision, held=(*gate.held(), *smoke.held),
                        notes=smoke.notes)
        gate = gate.add(found)
    raise PlanError(gate.problems)


def _plan_steps(inp: PlanInput) -> tuple[list[Step], list[tuple[Problem, Unit | None]]]:
    catalog = build_catalog(inp)
    wanted = desired_instances(inp, catalog)
    apply_quota(inp, wanted.desired)
    _add_error_instances(inp, wanted.desired)
    found: list[tuple[Problem, Unit | None]] = [
        (p, None) for p in catalog.problems + wanted.problems]
    found += webhook_problems(inp, wanted.desired)
    steps: list[Step] = [*catalog.steps, *wanted.steps]
    live = _live_by_key(inp.observed.workflows)
    uses_by_instance: dict[str, list[CredentialUse]] = {}
    missing_by_instance: dict[str, list[str]] = {}
    for d in wanted.desired:
        if d.template is None or d.archived:
            continue
        uses, missing = resolve_uses(set(analyse(d.template).needs), instance_id=d.id,
                                     user=d.owner_user, org=d.owner_org, secrets=inp.secrets)
        missing += missing_values(inp, d)
        uses_by_instance[d.id], missing_by_instance[d.id] = uses, missing
    needed = {u.key: u for uses in uses_by_instance.values() for u in uses}
    recorded = {k: (c.n8n_id, c.digest) for k, c in inp.state.credentials.items()}
    cred_steps = credential_steps(needed, recorded, inp.secrets,
                                  inp.observed.credential_ids, keep=held_credentials(inp))
    steps.extend(s for s in cred_steps if isinstance(s, CreateCredential | RotateCredential))
    cred_ids = {k: v[0] for k, v in recorded.items()}
    for s in cred_steps:
        if isinstance(s, CreateCredential):
            cred_ids[s.key] = pending("cred", s.key)
    for d in wanted.desired:
        problems: list[Problem] = []
        steps.extend(_instance_steps(inp, d, uses_by_instance.get(d.id, []),
                                     missing_by_instance.get(d.id, []), cred_ids, live,
                                     problems))
        found += [(p, (INSTANCE, d.id)) for p in problems]
    steps.extend(s for s in cred_steps if isinstance(s, DeleteCredential))
    return hold_switches(steps, wanted.switches), found


def held_credentials(inp: PlanInput) -> set[str]:
    """Credential keys the deployed versions of held instances use: kept, not deleted."""
    keep: set[str] = set()
    for rec in inp.state.instances.values():
        if not inp.held(rec.use_case, rec.id) or rec.version is None:
            continue
        stored = inp.state.templates.get(template_id(rec.use_case, rec.version))
        if stored is None:
            continue
        uses, _ = resolve_uses(set(analyse(use_case_from_template(stored)).needs),
                               instance_id=rec.id, user=rec.owner_user, org=rec.owner_org,
                               secrets=inp.secrets)
        keep |= {u.key for u in uses}
    return keep


def _add_error_instances(inp: PlanInput, desired: list[Desired]) -> None:
    """Org error workflows first: the org's other workflows render their id."""
    if not inp.error_callback:
        return
    orgs = sorted({d.owner_org for d in desired
                   if not d.archived and d.template is not None and d.owner_org})
    members = {o.id: (o.members[0].user if o.members else "platform")
               for o in inp.declared.platform.organizations}
    extra = [d for d in error_instances({org: members.get(org, "platform") for org in orgs},
                                        inp.error_callback) if not inp.held(instance=d.id)]
    ids = {d.id for d in extra}
    desired[:] = extra + [d for d in desired if d.id not in ids]


def member_of(inp: PlanInput, d: Desired) -> str:
    """Whose MEMSECRT values an instance uses: its user, else its org's owner."""
    if d.owner_user:
        return d.owner_user
    for org in inp.declared.platform.organizations:
        if org.id == d.owner_org:
            owners = [m.user for m in org.members if m.role.value == "owner"]
            return (owners or [m.user for m in org.members] or [""])[0]
    return ""


def missing_values(inp: PlanInput, d: Desired) -> list[str]:
    """MEMSECRT and ORGSECRET values a template needs that no secret source holds."""
    assert d.template is not None
    names = analyse(d.template).values
    member = inp.member_values.get(member_of(inp, d), {})
    org = inp.org_values.get(d.owner_org, {})
    missing = [f"member.{member_of(inp, d)}.{n}" for n in sorted(names["MEMSECRT"])
               if n not in member]
    missing += [f"org.{d.owner_org}.{n}" for n in sorted(names["ORGSECRET"] - BUILT_IN)
                if n not in org]
    return missing


def _live_by_key(live: dict[str, LiveWorkflow]) -> dict[tuple[str, str], list[LiveWorkflow]]:
    found: dict[tuple[str, str], list[LiveWorkflow]] = {}
    for wf in live.values():
        key = parse_workflow_name(wf.name)
        if key is not None and not wf.archived:
            found.setdefault(key, []).append(wf)
    return found


def _instance_steps(inp: PlanInput, d: Desired, uses: list[CredentialUse], missing: list[str],
                    cred_ids: dict[str, str], found: dict[tuple[str, str], list[LiveWorkflow]],
                    problems: list[Problem]) -> list[Step]:
    mappings = inp.state.instance_mappings(d.id)
    ctx = InstanceContext(
        instance_id=d.id, use_case=d.template,  # type: ignore[arg-type]  # None: archive only
        base=_render_base(inp, d, credential_refs([u for u in uses if u.key in cred_ids],
                                                  cred_ids)),
        mappings=mappings, live=inp.observed.workflows,
        found={wid: found.get((d.id, wid), []) for wid in _workflow_ids(d, mappings)},
        active=d.active and not missing and d.version is not None,
        drift_revert=inp.defaults.drift.value == "revert",
        ignore_positions=inp.defaults.ignore_positions)
    if d.archived or d.template is None:
        plan_archive(ctx, delete=d.archived and inp.defaults.prune)
    elif missing and not mappings:
        pass  # nothing deployed, nothing to deploy until the secret exists
    else:
        plan_workflows(ctx)
    problems.extend(ctx.problems)
    ctx.steps.extend(_record_steps(inp, d, missing, ctx.changed))
    return ctx.steps


def _render_base(inp: PlanInput, d: Desired,
                 refs: dict[tuple[str, str], CredentialRef]) -> RenderContext:
    error_id = ""
    if inp.error_callback and d.use_case != ERRORS_USE_CASE:
        # Only the org's error workflow is looked up: one key, not a scan per instance.
        key = (error_instance_id(d.owner_org), ERRORS_WORKFLOW)
        m = inp.state.mappings.get(key)
        live = {key: m.n8n_id} if m is not None and m.n8n_id in inp.observed.workflows else {}
        error_id = error_workflow_ref(d.owner_org, live)
    return base_context(instance_id=d.id, use_case=d.use_case, user=d.owner_user,
                        org=d.owner_org, parameters=d.parameters, credentials=refs,
                        base_url=inp.n8n_base_url, error_workflow_id=error_id,
                        org_values=inp.org_values.get(d.owner_org),
                        member_values=inp.member_values.get(member_of(inp, d)))


def _record_steps(inp: PlanInput, d: Desired, missing: list[str], changed: bool) -> list[Step]:
    """The instance record (with a deployment when one happens) and its new notices."""
    steps: list[Step] = []
    record = _record(d, _state(d, missing), missing)
    rec = inp.state.instances.get(d.id)
    deployable = d.template is not None and not d.archived and not missing
    template_changed = deployable and (rec is None or rec.version != d.version)
    deploying = changed and deployable
    if _record_changed(rec, record) or (deploying and template_changed):
        steps.append(SaveInstance(
            group=d.id, record=record,
            deploy_template=template_id(d.use_case, d.version)
            if (deploying or template_changed) and d.version else None,
            previous_version=rec.version if rec else None))
    notices = list(d.notices)
    if missing:
        notices.append(("missing_integration", ",".join(missing),
                        "missing secrets: " + ", ".join(missing)))
    steps += [AddNotice(group=d.id, notice=kind, version=version, message=message)
              for kind, version, message in notices
              if (d.id, kind, version) not in inp.state.notices]
    return steps


def _workflow_ids(d: Desired, mappings: dict[str, Any]) -> set[str]:
    ids = set(mappings)
    if d.template is not None:
        ids |= {wf.spec.id for wf in d.template.workflows}
    return ids


def _state(d: Desired, missing: list[str]) -> str:
    if d.archived:
        return "archived"
    if missing:
        return "missing_integration"
    if d.over_quota:
        return "over_quota"
    if not d.active and not d.automatic:
        return "user_paused"
    return "active"


def _record(d: Desired, state: str, missing: list[str]) -> dict[str, Any]:
    return {
        "id": d.id, "use_case": d.use_case, "owner_user": d.owner_user,
        "owner_org": d.owner_org, "environment": d.environment, "automatic": int(d.automatic),
        "version": d.version, "pinned": int(d.pinned),
        "active": int(d.active and not missing and not d.archived and d.version is not None),
        "state": state,
        "state_detail": ("missing: " + ", ".join(missing)) if missing else None,
        "sharing": d.sharing, "parameters": d.parameters,
    }


def _record_changed(rec: InstanceRec | None, record: dict[str, Any]) -> bool:
    return rec is None or rec.row() != record

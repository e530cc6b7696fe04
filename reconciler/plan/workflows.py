"""The steps of one instance: render, compare by hash, put drafts, publish in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import Problem, RenderError
from reconciler.model.platform import MappingRec
from reconciler.model.repository import UseCase, WorkflowFile
from reconciler.plan.analysis import analyse
from reconciler.plan.credentials import foreign_credentials
from reconciler.plan.diff import field_diff
from reconciler.plan.inputs import LiveWorkflow
from reconciler.plan.org_errors import USE_CASE as ORG_ERRORS
from reconciler.plan.steps import (
    PENDING,
    AdoptWorkflow,
    ArchiveWorkflow,
    DeleteStray,
    PublishWorkflow,
    PutWorkflow,
    ReportDrift,
    Step,
    UnarchiveWorkflow,
    UnpublishWorkflow,
    pending,
)
from reconciler.render.context import CredentialRef, RenderContext
from reconciler.render.normalize import content_hash, normalize_for_compare
from reconciler.render.render import render_workflow
from reconciler.render.settings import (
    CALLER_POLICY,
    SAME_OWNER,
    for_create,
    workflow_settings,
)


def workflow_name(spec_name: str, instance_id: str, workflow_id: str) -> str:
    """The live name; its bracket is how a lost mapping is found again after a crash."""
    return f"{spec_name} [{instance_id}/{workflow_id}]"


def parse_workflow_name(name: str) -> tuple[str, str] | None:
    if not name.endswith("]") or " [" not in name:
        return None
    key = name.rsplit(" [", 1)[1][:-1]
    instance_id, sep, workflow_id = key.partition("/")
    return (instance_id, workflow_id) if sep else None


def topological(uc: UseCase) -> tuple[list[WorkflowFile], Problem | None]:
    """Callees before callers; a cycle is a problem naming the workflows in it."""
    found = analyse(uc)
    return found.ordered(uc), found.cycle


@dataclass
class InstanceContext:
    instance_id: str
    use_case: UseCase
    base: RenderContext  # everything but ids known only per workflow
    mappings: dict[str, MappingRec]
    live: dict[str, LiveWorkflow]  # n8n id -> live
    found: dict[str, list[LiveWorkflow]]  # workflow id -> live workflows named for it
    active: bool
    drift_revert: bool
    ignore_positions: bool
    steps: list[Step] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    changed: bool = False


def _secret_values(ctx: InstanceContext) -> list[str]:
    """Values rendered from secrets: a diff masks them (the URL and error id are not secret)."""
    org = {k: v for k, v in ctx.base.org_secrets.items()
           if k not in ("N8N_BASE_URL", "ERROR_WORKFLOW_ID")}
    return [*org.values(), *ctx.base.member_secrets.values()]


def plan_workflows(ctx: InstanceContext) -> None:
    order, cycle = topological(ctx.use_case)
    if cycle:
        ctx.problems.append(cycle)
        return
    known = {wf.spec.id: _identify(ctx, wf.spec.id) for wf in order}
    ids = {wid: n8n_id or pending("wf", f"{ctx.instance_id}/{wid}")
           for wid, n8n_id in known.items()}
    callers = analyse(ctx.use_case).callers
    later: list[PutWorkflow] = []
    publish: list[PublishWorkflow] = []
    unpublish: list[UnpublishWorkflow] = []
    for wf in order:
        n8n_id = known[wf.spec.id]
        _unarchive(ctx, wf.spec.id, n8n_id)
        every = [ids[c] for c in callers[wf.spec.id]]
        made = [i for i in every if PENDING not in i]  # callers that exist in n8n already
        body = _render(ctx, wf, ids, made)
        if body is None:
            continue
        ctx.problems.extend(foreign_credentials(wf.path, body, ctx.base))
        ctx.problems.extend(_foreign_error_workflow(ctx, wf, body, ids))
        put = _compare(ctx, wf, n8n_id, body)
        if made != every:
            later.append(_callers_put(ctx, wf, n8n_id, body, every))
        live = ctx.live.get(n8n_id) if n8n_id else None
        content_changed = put is not None and not _settings_only(ctx, live, body)
        if ctx.active and (content_changed or live is None or not live.published
                           or live.active_version_id != live.version_id):
            publish.append(PublishWorkflow(group=ctx.instance_id, workflow_id=wf.spec.id,
                                           n8n_id=n8n_id if put is None or put.n8n_id else None))
        if not ctx.active and live is not None and live.published:
            unpublish.append(UnpublishWorkflow(group=ctx.instance_id, workflow_id=wf.spec.id,
                                               n8n_id=live.id, reason="instance inactive"))
    ctx.steps.extend(later)  # callees learn their new callers' ids before any publish
    ctx.steps.extend(publish)
    ctx.steps.extend(reversed(unpublish))  # callers before the sub-workflows they call
    if publish or unpublish or later:
        ctx.changed = True


def _settings_only(ctx: InstanceContext, live: LiveWorkflow | None,
                   body: dict[str, Any]) -> bool:
    """Only `settings` differ: n8n re-activates a published workflow with new settings
    itself when its draft is saved, so no publish is needed."""
    if live is None:
        return False
    desired = normalize_for_compare(body, ignore_positions=ctx.ignore_positions)
    return all(live.normalized.get(k) == v for k, v in desired.items() if k != "settings")


def callers_of(uc: UseCase) -> dict[str, list[str]]:
    """Template id -> the workflows of the same use case that reference it (SUBWKFL)."""
    return {wid: list(callers) for wid, callers in analyse(uc).callers.items()}


def _foreign_error_workflow(ctx: InstanceContext, wf: WorkflowFile, body: dict[str, Any],
                            ids: dict[str, str]) -> list[Problem]:
    """`errorWorkflow` may name the org's error workflow or one of this instance's own."""
    value = body["settings"].get("errorWorkflow")
    own = {"", ctx.base.org_secrets.get("ERROR_WORKFLOW_ID", ""), *ids.values()}
    if not isinstance(value, str) or value in own:
        return []
    return [Problem(wf.path, f"settings.errorWorkflow {value!r} is neither the "
                    f"organization's error workflow nor a workflow of instance "
                    f"{ctx.instance_id}", field="settings.errorWorkflow",
                    rule="PLATFORM-ERROR-WORKFLOW")]


def _callers_put(ctx: InstanceContext, wf: WorkflowFile, n8n_id: str | None,
                 body: dict[str, Any], caller_ids: list[str]) -> PutWorkflow:
    """The second write of a callee whose callers are created in this run.

    A caller can only be created once its callee's id is known, and the callee's
    `callerIds` needs the caller's id: the callee is written first with the callers
    that exist, the callers next, then this; publishing comes after all of them.
    A run killed in between converges: the next one finds every caller by name.
    """
    settings = dict(body["settings"])
    settings["callerIds"] = ",".join(caller_ids)
    final = {**body, "settings": settings}
    target = n8n_id or pending("wf", f"{ctx.instance_id}/{wf.spec.id}")
    return PutWorkflow(group=ctx.instance_id, workflow_id=wf.spec.id, n8n_id=target,
                       body=final, content_hash=content_hash(
                           final, ignore_positions=ctx.ignore_positions), reason="callers")


def _identify(ctx: InstanceContext, workflow_id: str) -> str | None:
    """The live id of this workflow: the mapping, else one an interrupted run made."""
    mapping = ctx.mappings.get(workflow_id)
    candidates = ctx.found.get(workflow_id, [])
    chosen: str | None = None
    if mapping is not None and mapping.n8n_id in ctx.live:
        chosen = mapping.n8n_id
    elif candidates:
        pick = sorted(candidates, key=lambda w: w.id)[0]
        chosen = pick.id
        ctx.steps.append(AdoptWorkflow(group=ctx.instance_id, workflow_id=workflow_id,
                                       n8n_id=pick.id, content_hash=pick.content_hash,
                                       version_id=pick.version_id, tag=False))  # no tag needed
    for extra in candidates:
        if extra.id != chosen:
            ctx.steps.append(DeleteStray(group=ctx.instance_id, n8n_id=extra.id,
                                         name=extra.name, published=extra.published))
    return chosen


def _unarchive(ctx: InstanceContext, workflow_id: str, n8n_id: str | None) -> None:
    """A workflow archived earlier whose instance is back: n8n updates or publishes it
    only once unarchived (else 400 "Cannot update an archived workflow")."""
    live = ctx.live.get(n8n_id) if n8n_id else None
    mapping = ctx.mappings.get(workflow_id)
    if live is None or not (live.archived or (mapping is not None and mapping.archived)):
        return
    ctx.steps.append(UnarchiveWorkflow(group=ctx.instance_id, workflow_id=workflow_id,
                                       n8n_id=live.id, live_archived=live.archived))
    ctx.changed = True


def _render(ctx: InstanceContext, wf: WorkflowFile, ids: dict[str, str],
            caller_ids: list[str]) -> dict[str, Any] | None:
    render_ctx = RenderContext(
        process_id=ctx.base.process_id, namespace=ctx.base.namespace,
        instance_uid=ctx.base.instance_uid, user_id=ctx.base.user_id,
        organization_id=ctx.base.organization_id, parameters=ctx.base.parameters,
        subworkflow_ids=ids, credentials=ctx.base.credentials,
        org_secrets=ctx.base.org_secrets, member_secrets=ctx.base.member_secrets)
    try:
        body = render_workflow(wf, render_ctx)
    except RenderError as exc:
        ctx.problems.extend(getattr(exc, "problems", None) or [Problem(wf.path, str(exc))])
        return None
    body["name"] = workflow_name(wf.spec.name, ctx.instance_id, wf.spec.id)
    # The built-in org error workflow is "called" by every workflow of its org, and n8n
    # checks error workflows against the caller policy too.
    policy = SAME_OWNER if ctx.use_case.slug == ORG_ERRORS else CALLER_POLICY
    body["settings"] = workflow_settings(body.get("settings"), caller_ids=caller_ids,
                                         caller_policy=policy)
    return body


def _compare(ctx: InstanceContext, wf: WorkflowFile, n8n_id: str | None,
             body: dict[str, Any]) -> PutWorkflow | None:
    desired_hash = content_hash(body, ignore_positions=ctx.ignore_positions)
    mapping = ctx.mappings.get(wf.spec.id)
    live = ctx.live.get(n8n_id) if n8n_id else None
    group, wid = ctx.instance_id, wf.spec.id
    if live is None:
        reason = "recreate" if mapping is not None else "new"
        created = {**body, "settings": for_create(body["settings"])}
        put = PutWorkflow(group=group, workflow_id=wid, n8n_id=None, body=created,
                          content_hash=desired_hash, reason=reason)
    elif live.content_hash == desired_hash:
        return None
    else:
        drift = mapping is not None and mapping.content_hash == desired_hash
        # An offline plan has no copy of n8n's content: no field-level diff then.
        diff = field_diff(live.normalized,
                          normalize_for_compare(body, ignore_positions=ctx.ignore_positions),
                          _secret_values(ctx)) if live.normalized else []
        if drift and not ctx.drift_revert:
            ctx.steps.append(ReportDrift(group=group, workflow_id=wid, n8n_id=live.id, diff=diff))
            return None
        put = PutWorkflow(group=group, workflow_id=wid, n8n_id=live.id, body=body,
                          content_hash=desired_hash, reason="drift" if drift else "changed",
                          diff=diff)
    ctx.steps.append(put)
    ctx.changed = True
    return put


def plan_archive(ctx: InstanceContext, delete: bool) -> None:
    for wid, mapping in sorted(ctx.mappings.items()):
        live = ctx.live.get(mapping.n8n_id)
        if live is None or (mapping.archived and live.archived):
            continue  # gone, or archived already (a hand-unarchived one is archived again)
        ctx.steps.append(ArchiveWorkflow(group=ctx.instance_id, workflow_id=wid,
                                         n8n_id=mapping.n8n_id, delete=delete))
        ctx.changed = True


def base_context(*, instance_id: str, use_case: str, user: str | None, org: str,
                 parameters: dict[str, Any], credentials: dict[tuple[str, str], CredentialRef],
                 base_url: str, error_workflow_id: str = "",
                 org_values: dict[str, str] | None = None,
                 member_values: dict[str, str] | None = None) -> RenderContext:
    org_secrets = dict(org_values or {})
    org_secrets.update(N8N_BASE_URL=base_url, ERROR_WORKFLOW_ID=error_workflow_id)
    return RenderContext(
        process_id=use_case, namespace=org, instance_uid=instance_id, user_id=user,
        organization_id=org, parameters=parameters, credentials=credentials,
        org_secrets=org_secrets, member_secrets=member_values or {})

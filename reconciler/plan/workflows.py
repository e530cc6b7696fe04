"""The steps of one instance: render, compare by hash, put drafts, publish in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import Problem, RenderError
from reconciler.model.platform import MappingRec
from reconciler.model.repository import UseCase, WorkflowFile
from reconciler.plan.diff import field_diff
from reconciler.plan.inputs import LiveWorkflow
from reconciler.plan.steps import (
    AdoptWorkflow,
    ArchiveWorkflow,
    DeleteStray,
    PublishWorkflow,
    PutWorkflow,
    ReportDrift,
    Step,
    UnpublishWorkflow,
    pending,
)
from reconciler.render.context import CredentialRef, RenderContext
from reconciler.render.normalize import content_hash, normalize_for_compare
from reconciler.render.render import render_workflow
from reconciler.render.requirements import subworkflow_refs


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
    by_id = {wf.spec.id: wf for wf in uc.workflows}
    deps = {wid: sorted(subworkflow_refs(wf) & set(by_id)) for wid, wf in by_id.items()}
    order: list[WorkflowFile] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(wid: str, trail: list[str]) -> list[str] | None:
        if state.get(wid) == 2:
            return None
        if state.get(wid) == 1:
            return [*trail, wid]
        state[wid] = 1
        for dep in deps[wid]:
            cycle = visit(dep, [*trail, wid])
            if cycle:
                return cycle
        state[wid] = 2
        order.append(by_id[wid])
        return None

    for wid in sorted(by_id):
        cycle = visit(wid, [])
        if cycle:
            return [], Problem(f"{uc.path}/use-case.yaml", "sub-workflow cycle: "
                               + " -> ".join(cycle), rule="SUBWKFL-CYCLE")
    return order, None


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
    ids: dict[str, str] = {}
    publish: list[PublishWorkflow] = []
    unpublish: list[UnpublishWorkflow] = []
    for wf in order:
        n8n_id = _identify(ctx, wf.spec.id)
        ids[wf.spec.id] = n8n_id or pending("wf", f"{ctx.instance_id}/{wf.spec.id}")
        body = _render(ctx, wf, ids)
        if body is None:
            continue
        put = _compare(ctx, wf, n8n_id, body)
        live = ctx.live.get(n8n_id) if n8n_id else None
        if ctx.active and (put is not None or live is None or not live.published
                           or live.active_version_id != live.version_id):
            publish.append(PublishWorkflow(group=ctx.instance_id, workflow_id=wf.spec.id,
                                           n8n_id=n8n_id if put is None or put.n8n_id else None))
        if not ctx.active and live is not None and live.published:
            unpublish.append(UnpublishWorkflow(group=ctx.instance_id, workflow_id=wf.spec.id,
                                               n8n_id=live.id, reason="instance inactive"))
    ctx.steps.extend(publish)
    ctx.steps.extend(reversed(unpublish))  # callers before the sub-workflows they call
    if publish or unpublish:
        ctx.changed = True


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
                                       version_id=pick.version_id, tag=not pick.tagged))
    for extra in candidates:
        if extra.id != chosen:
            ctx.steps.append(DeleteStray(group=ctx.instance_id, n8n_id=extra.id,
                                         name=extra.name, published=extra.published))
    return chosen


def _render(ctx: InstanceContext, wf: WorkflowFile, ids: dict[str, str]) -> dict[str, Any] | None:
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
    settings = body.get("settings")
    if isinstance(settings, dict) and settings.get("errorWorkflow") == "":
        del settings["errorWorkflow"]  # no org error workflow deployed (yet)
    return body


def _compare(ctx: InstanceContext, wf: WorkflowFile, n8n_id: str | None,
             body: dict[str, Any]) -> PutWorkflow | None:
    desired_hash = content_hash(body, ignore_positions=ctx.ignore_positions)
    mapping = ctx.mappings.get(wf.spec.id)
    live = ctx.live.get(n8n_id) if n8n_id else None
    group, wid = ctx.instance_id, wf.spec.id
    if live is None:
        reason = "recreate" if mapping is not None else "new"
        put = PutWorkflow(group=group, workflow_id=wid, n8n_id=None, body=body,
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
        if mapping.archived or mapping.n8n_id not in ctx.live:
            continue
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

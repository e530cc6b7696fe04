"""Field diffs for a plan made offline, where n8n's copy of a workflow is unknown.

The state records which template version each instance runs, and every template
keeps its workflow files: a changed workflow is diffed between the file of the
version it runs and the file of the version it will run (placeholders as written,
so no value rendered from a secret appears).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from reconciler.load.stored import use_case_from_template
from reconciler.model.platform import PlatformState, template_id
from reconciler.model.repository import DeclaredState, UseCase
from reconciler.plan.diff import field_diff
from reconciler.plan.planner import Plan
from reconciler.plan.steps import PutWorkflow, SaveInstance, Step
from reconciler.render.normalize import normalize_for_compare


def _workflow(use_case: UseCase | None, workflow_id: str) -> Any:
    if use_case is None:
        return None
    return next((wf.content for wf in use_case.workflows if wf.spec.id == workflow_id), None)


def _target(plan: Plan, state: PlatformState, declared: DeclaredState,
            releases: Mapping[tuple[str, str], UseCase], group: str) -> UseCase | None:
    """The use case version the instance will run after this plan."""
    record = next((s.record for s in plan.steps
                   if isinstance(s, SaveInstance) and s.group == group), None)
    current = state.instances.get(group)
    slug = (record or {}).get("use_case") or (current.use_case if current else None)
    version = (record or {}).get("version") or (current.version if current else None)
    if not slug or not version:
        return None
    if (slug, version) in releases:
        return releases[(slug, version)]
    branch = declared.use_cases.get(slug)
    return branch if branch is not None and branch.version == version else None


def with_template_diffs(plan: Plan, state: PlatformState, declared: DeclaredState,
                        releases: Mapping[tuple[str, str], UseCase]) -> Plan:
    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, PutWorkflow) and step.n8n_id and not step.diff:
            current = state.instances.get(step.group)
            rec = (state.templates.get(template_id(current.use_case, current.version))
                   if current and current.version else None)
            old = _workflow(use_case_from_template(rec) if rec else None, step.workflow_id)
            new = _workflow(_target(plan, state, declared, releases, step.group),
                            step.workflow_id)
            if isinstance(old, dict) and isinstance(new, dict):
                flat = declared.platform.defaults.ignore_positions
                step = dataclasses.replace(step, diff=field_diff(
                    normalize_for_compare(old, ignore_positions=flat),
                    normalize_for_compare(new, ignore_positions=flat)))
        steps.append(step)
    return dataclasses.replace(plan, steps=tuple(steps))

"""Rebuild a use case from its stored template: roll back without the old commit."""

from __future__ import annotations

import json

from reconciler.model.declared import UseCaseConfig
from reconciler.model.placeholders import parse_workflow_text
from reconciler.model.platform import TemplateRec
from reconciler.model.repository import UseCase, WorkflowFile

USE_CASES = "use-cases"


# Templates never change, so each is parsed once per process, not on every reconcile.
_PARSED: dict[tuple[str, str], UseCase] = {}


def use_case_from_template(rec: TemplateRec) -> UseCase:
    key = (rec.id, rec.fingerprint)
    if key not in _PARSED:
        _PARSED[key] = _parse(rec)
    return _PARSED[key]


def _parse(rec: TemplateRec) -> UseCase:
    config = UseCaseConfig.model_validate_json(rec.config)
    folder = f"{USE_CASES}/{rec.use_case}"
    workflows = tuple(
        WorkflowFile(spec=spec, path=f"{folder}/{spec.file}", text=rec.workflows[spec.file],
                     content=parse_workflow_text(rec.workflows[spec.file]))
        for spec in config.workflows
    )
    return UseCase(slug=rec.use_case, path=folder, config=config, version=rec.version,
                   workflows=workflows, skills=(), fingerprint=rec.fingerprint,
                   file_digests=dict(rec.file_digests))


def template_payload(use_case: UseCase) -> dict[str, str]:
    """The columns a template row stores for this use case (placeholders intact)."""
    return {
        "config": use_case.config.model_dump_json(),
        "workflows": json.dumps({wf.spec.file: wf.text for wf in use_case.workflows}),
        "skills": json.dumps({s.path.removeprefix(use_case.path + "/"): s.text
                              for s in use_case.skills}),
        "file_digests": json.dumps(use_case.file_digests, sort_keys=True),
    }

"""The per-organization error workflow, planned like any instance of a built-in use case.

Every org with an instance gets `<org>.errors`: an Error Trigger workflow that posts
each failed run of the org's workflows to the daemon. It authenticates with an org
credential (`org.<org>.reconciler-errors`, derived from the state's hash key when no
secret source holds one), and the org's workflows point `settings.errorWorkflow` at
it through `{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}`. It is planned only when the
daemon's address is known (`PlanInput.error_callback`), since n8n must reach it.
It is published: n8n 2.41.1 skips an unpublished error workflow.
"""

from __future__ import annotations

import json

from reconciler.model.declared import (
    Process,
    ProcessOwner,
    ServiceEventTrigger,
    UseCaseConfig,
    WorkflowSpec,
)
from reconciler.model.placeholders import parse_workflow_text
from reconciler.model.repository import UseCase, WorkflowFile
from reconciler.plan.instances import Desired
from reconciler.plan.steps import pending
from reconciler.render.error_workflow import callback_url, error_workflow_body

USE_CASE = "org-errors"
WORKFLOW = "errors"
VERSION = "builtin"
SECRET_NAME = "reconciler-errors"
CREDENTIAL = "{{ORGCRED_RECONCILER_ERRORS_ID_DERCGRO}}"


def instance_id(org: str) -> str:
    return f"{org}.errors"


def secret_key(org: str) -> str:
    return f"org.{org}.{SECRET_NAME}"


def _use_case(org: str, owner_user: str, base: str) -> UseCase:
    body = error_workflow_body(org, callback_url(base, org), credential_id=CREDENTIAL)
    text = json.dumps(body, indent=2)
    spec = WorkflowSpec(id=WORKFLOW, file="workflows/errors.json", name=body["name"],
                        triggers=[ServiceEventTrigger(type="service_event", service="n8n",
                                                      event_type="workflow_error")])
    config = UseCaseConfig(
        process=Process(title="Organization errors", description="Records failed runs.",
                        owner=ProcessOwner(user=owner_user, org=org)),
        workflows=[spec])
    wf = WorkflowFile(spec=spec, path=f"(built-in)/{org}/errors.json", text=text,
                      content=parse_workflow_text(text))
    return UseCase(slug=USE_CASE, path="(built-in)", config=config, version=VERSION,
                   workflows=(wf,), skills=(), fingerprint=VERSION)


def error_instances(orgs: dict[str, str], base: str) -> list[Desired]:
    """One instance per org (org -> a member, any, for the record)."""
    return [Desired(id=instance_id(org), use_case=USE_CASE, owner_user=None, owner_org=org,
                    environment="prod", automatic=True, version=VERSION, pinned=False,
                    active=True, archived=False, parameters={},
                    template=_use_case(org, user, base))
            for org, user in sorted(orgs.items())]


def error_workflow_ref(org: str, live_ids: dict[tuple[str, str], str]) -> str:
    """The id `{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}` renders to for this org."""
    return live_ids.get((instance_id(org), WORKFLOW)) or pending(
        "wf", f"{instance_id(org)}/{WORKFLOW}")

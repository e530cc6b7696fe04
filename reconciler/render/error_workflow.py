"""The per-organization error workflow: n8n reports every failed run of the org to us.

n8n runs a workflow's `settings.errorWorkflow` whenever a run fails outside the
editor — webhook, schedule and service-event runs alike. Ours is an Error Trigger
feeding an HTTP Request that POSTs n8n's error payload to
`POST /api/v1/internal/errors/{org}`. The request authenticates with a per-org
token in a header, held by an n8n `httpHeaderAuth` credential (so the token never
sits in a workflow body, plan or diff). The token is an HMAC of the org id under the
state's hash key: nothing to store, and the endpoint recomputes it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

ORG_TOKEN_HEADER = "X-Reconciler-Org-Token"
CREDENTIAL_TYPE = "httpHeaderAuth"
ERROR_PATH = "/api/v1/internal/errors/{org}"


def org_token(key: bytes, org_id: str) -> str:
    return hmac.new(key, f"org-error-token:{org_id}".encode(), hashlib.sha256).hexdigest()


def token_matches(key: bytes, org_id: str, presented: str) -> bool:
    return hmac.compare_digest(org_token(key, org_id).encode(), presented.encode())


def credential_name(org_id: str) -> str:
    return f"reconciler-errors-{org_id}"


def error_credential(org_id: str, key: bytes) -> dict[str, Any]:
    """The n8n credential (name, type, data) the error workflow authenticates with."""
    return {"name": credential_name(org_id), "type": CREDENTIAL_TYPE,
            "data": {"name": ORG_TOKEN_HEADER, "value": org_token(key, org_id)}}


def callback_url(api_base: str, org_id: str) -> str:
    return api_base.rstrip("/") + ERROR_PATH.format(org=org_id)


def workflow_name(org_id: str) -> str:
    return f"Organization errors [{org_id}]"


def error_workflow_body(org_id: str, callback_url: str, *,
                        credential_id: str) -> dict[str, Any]:
    """An n8n 2.41.1 workflow: Error Trigger -> POST the error payload to the daemon.

    `credential_id` is the n8n id of the org's `error_credential`.
    """
    trigger, post = "On workflow error", "Report to reconciler"
    return {
        "name": workflow_name(org_id),
        "nodes": [
            {"id": "5d0c3a4e-7f1b-4d7e-9a52-0e7e6b1f0a01", "name": trigger,
             "type": "n8n-nodes-base.errorTrigger", "typeVersion": 1,
             "position": [0, 0], "parameters": {}},
            {"id": "5d0c3a4e-7f1b-4d7e-9a52-0e7e6b1f0a02", "name": post,
             "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
             "position": [240, 0],
             "parameters": {
                 "method": "POST", "url": callback_url,
                 "authentication": "genericCredentialType",
                 "genericAuthType": CREDENTIAL_TYPE,
                 "sendBody": True, "specifyBody": "json",
                 "jsonBody": "={{ JSON.stringify($json) }}", "options": {}},
             "credentials": {CREDENTIAL_TYPE: {"id": credential_id,
                                               "name": credential_name(org_id)}},
             "retryOnFail": True, "maxTries": 3, "waitBetweenTries": 2000},
        ],
        "connections": {trigger: {"main": [[{"node": post, "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"},
    }

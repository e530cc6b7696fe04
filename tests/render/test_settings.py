"""The settings we send: every key, n8n's defaults, the platform's caller policy."""

from __future__ import annotations

from reconciler.model.n8n_api import ALLOWED_SETTINGS
from reconciler.render.normalize import content_hash
from reconciler.render.settings import (
    CALLER_POLICY,
    DEFAULTS,
    REMOVE,
    UNMANAGED,
    compared_settings,
    for_create,
    workflow_settings,
)


def test_every_accepted_key_is_rendered_or_known_to_be_ignored_by_n8n() -> None:
    assert set(DEFAULTS) | UNMANAGED == ALLOWED_SETTINGS
    out = workflow_settings({}, caller_ids=[])
    assert set(out) == set(DEFAULTS)


def test_the_template_keeps_its_values_but_not_its_caller_policy() -> None:
    out = workflow_settings({"timezone": "Europe/Paris", "callerPolicy": "any",
                             "callerIds": "x,y", "executionOrder": "v1",
                             "binaryMode": "combined"}, caller_ids=["A1", "B2"])
    assert out["timezone"] == "Europe/Paris" and out["executionOrder"] == "v1"
    assert (out["callerPolicy"], out["callerIds"]) == (CALLER_POLICY, "A1,B2")
    assert "binaryMode" not in out  # n8n ignores it on write


def test_absent_keys_and_n8n_stand_ins_compare_as_the_default() -> None:
    bare = compared_settings({})
    stand_ins = compared_settings({"timezone": REMOVE, "errorWorkflow": REMOVE,
                                   "executionTimeout": -1, "saveManualExecutions": REMOVE,
                                   "credentialResolverId": "r1", "binaryMode": "separate"})
    assert bare == stand_ins == compared_settings(workflow_settings({}, caller_ids=[]))
    assert compared_settings({"timezone": "Europe/Berlin"}) != bare
    assert compared_settings({"callerPolicy": "any"}) != bare
    assert compared_settings({"customTelemetryTags": [{"key": "a", "value": "b"}]}) != bare


def test_creates_leave_out_what_n8n_would_store_verbatim() -> None:
    full = workflow_settings({}, caller_ids=[])
    created = for_create(full)
    assert "timezone" not in created and REMOVE not in created.values()
    body = {"name": "w", "nodes": [], "connections": {}}
    assert content_hash({**body, "settings": created}) == content_hash({**body, "settings": full})
    # A workflow without settings behaves as all the defaults: nothing to change.
    assert content_hash({**body, "settings": {}}) == content_hash({**body, "settings": full})

"""Tenant isolation on the real n8n: who may call a sub-workflow, settings that converge,
and credentials that belong to the instance's own owner."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from reconciler.adapters.n8n_client import N8nClient
from reconciler.render.settings import CALLER_POLICY
from tests.engine import relay_case
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n

GLOBEX = "relay-globex"
OWNER = "relay.owner-dev"


def _wf(platform: Platform, instance: str, workflow: str) -> dict[str, Any]:
    name = ("Relay front" if workflow == "front" else "Relay helper") + \
        f" [{instance}/{workflow}]"
    return platform.live()[name]


def _post(platform: Platform, instance: str, message: str) -> httpx.Response:
    url = f"{platform.base_url}/webhook/relay/{instance}/relay"
    deadline = time.monotonic() + 10
    while True:  # publishing is asynchronous: the webhook may 404 for a moment
        response = httpx.post(url, json={"message": message}, timeout=30)
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(0.3)


def _last_error(client: N8nClient, workflow_id: str) -> str:
    for _ in range(50):
        runs = client.list_executions(workflow_id=workflow_id)
        if runs and runs[0].get("status") not in ("running", "new"):
            data = client.get_execution(str(runs[0]["id"]))["data"]
            return str(data["resultData"].get("error", {}).get("message", ""))
        time.sleep(0.2)
    raise AssertionError("no finished execution")


@pytest.fixture
def relay(platform: Platform) -> Platform:
    relay_case.only_relay(platform.repo)
    out = platform.reconcile()
    assert out.outcome == "applied", out.error
    return platform


def test_only_the_own_instance_may_call_its_sub_workflow(relay: Platform) -> None:
    helper, front = _wf(relay, GLOBEX, "helper"), _wf(relay, GLOBEX, "front")
    assert helper["settings"]["callerPolicy"] == CALLER_POLICY  # the template said SameOwner
    assert helper["settings"]["callerIds"] == front["id"]
    own = _post(relay, GLOBEX, "hello")
    assert own.status_code == 200, own.text
    assert own.json() == {"relayed": "hello", "by": GLOBEX}
    # The owner's instance (another tenant's workflow on the same n8n, same n8n owner)
    # is changed by hand to call globex's helper by its id: n8n refuses the call.
    other = _wf(relay, OWNER, "front")
    body = relay_case.front(target=str(helper["id"]), path=f"relay/{OWNER}/relay")
    body["name"] = other["name"]
    relay.client.update_workflow(str(other["id"]), body, publish_if_active=False)
    relay.client.publish_workflow(str(other["id"]))
    deadline = time.monotonic() + 10
    denied = _post(relay, OWNER, "sneak")
    while denied.status_code == 200 and time.monotonic() < deadline:  # still the old version
        time.sleep(0.3)
        denied = _post(relay, OWNER, "sneak")
    assert denied.status_code == 500, denied.text
    assert "cannot be called by this workflow" in _last_error(relay.client, str(other["id"]))
    assert _post(relay, GLOBEX, "still").status_code == 200


def test_hand_edited_settings_converge_in_one_run(relay: Platform) -> None:
    helper = _wf(relay, GLOBEX, "helper")
    hand = {k: helper[k] for k in ("name", "nodes", "connections")}
    hand["settings"] = {"callerPolicy": "workflowsFromSameOwner", "timezone": "Europe/Berlin"}
    relay.client.update_workflow(str(helper["id"]), hand)  # n8n merges: other keys stay
    drifted = relay.client.get_workflow(str(helper["id"]))["settings"]
    assert (drifted["callerPolicy"], drifted["timezone"]) == ("workflowsFromSameOwner",
                                                              "Europe/Berlin")
    relay.client.counter.reset()
    out = relay.reconcile()
    assert out.outcome == "applied", out.error
    assert out.plan is not None
    touched = [s for s in out.plan.steps if s.writes_n8n]
    # One draft save: n8n re-activates a published workflow whose settings changed.
    assert [(s.kind, s.target()) for s in touched] == [("put_workflow", f"{GLOBEX}/helper")]
    assert out.writes == 1
    settings = relay.client.get_workflow(str(helper["id"]))["settings"]
    assert settings["callerPolicy"] == CALLER_POLICY and "timezone" not in settings
    again = relay.reconcile()
    assert (again.outcome, again.writes) == ("no_changes", 0), again.plan


class _IgnoresUpdates:
    """The real client, except that updates of one workflow do not take (n8n answers
    200 but keeps the old content): a fault real n8n cannot be made to show."""

    def __init__(self, inner: N8nClient, frozen: str) -> None:
        self.inner, self.frozen = inner, frozen

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def update_workflow(self, workflow_id: str, body: dict[str, Any],
                        **kw: Any) -> dict[str, Any]:
        if workflow_id == self.frozen:
            return self.inner.get_workflow(workflow_id)
        return self.inner.update_workflow(workflow_id, body, **kw)


def test_a_revert_that_did_not_take_is_failed(relay: Platform) -> None:
    helper = _wf(relay, GLOBEX, "helper")
    hand = {k: helper[k] for k in ("name", "nodes", "connections")}
    hand["settings"] = {"callerPolicy": "workflowsFromSameOwner"}
    relay.client.update_workflow(str(helper["id"]), hand)
    out = relay.reconcile(client=_IgnoresUpdates(relay.client, str(helper["id"])))  # type: ignore[arg-type]
    assert out.result is not None
    put = next(r for r in out.result.results if r.step.kind == "put_workflow")
    assert (put.outcome, put.step.target()) == ("failed", f"{GLOBEX}/helper")
    assert put.error is not None and "RevertNotKept" in put.error and "settings" in put.error
    assert out.outcome != "applied"
    healed = relay.reconcile()  # the drift is still there, and still reverted
    assert healed.outcome == "applied", healed.error
    assert relay.reconcile().writes == 0


def test_a_foreign_credential_id_is_a_plan_problem(relay: Platform) -> None:
    # Another tenant's credential on the same n8n, its id pasted into a template.
    other = relay.client.create_credential("[reconciler] slack slackApi (org acme)",
                                           "slackApi", {"accessToken": "xoxb-ACME-x"})
    node = {"id": "5e1a7000-0000-4000-8000-000000000013", "name": "Post to Slack",
            "type": "n8n-nodes-base.slack", "typeVersion": 2.3, "position": [440, 0],
            "parameters": {"select": "channel", "text": "hi"},
            "credentials": {"slackApi": {"id": str(other["id"]), "name": "anything"}}}
    relay_case.write(relay.repo, helper_body=relay_case.helper(extra_node=node))
    relay.bump("relay", "1.1.0")
    before = relay.client.get_workflow(str(_wf(relay, GLOBEX, "helper")["id"]))["versionId"]
    relay.client.counter.reset()
    out = relay.reconcile()
    assert out.outcome == "held" and out.writes == 0  # the use case is held by the gate
    assert out.error is not None and "(CRED-HARDCODED)" in out.error
    assert "use-cases/relay/workflows/helper.json" in out.error and "Post to Slack" in out.error
    after = relay.client.get_workflow(str(_wf(relay, GLOBEX, "helper")["id"]))["versionId"]
    assert after == before

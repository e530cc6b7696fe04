"""Credential isolation, FLEXCRED fallback, rotation, missing integrations, no leaks."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from reconciler.plan.show import render_plan
from reconciler.report.show import render_run
from reconciler.report.status import status_data
from tests.engine.conftest import SECRETS, Platform

pytestmark = pytest.mark.n8n

ALL_CURRENT = {("lead-enrichment", "1.2.0"), ("inbox-triage", "2.1.0"),
               ("daily-digest", "1.0.0")}


def cred_id(live: dict[str, Any], workflow: str, node_name: str, ctype: str) -> str:
    node = next(n for n in live[workflow]["nodes"] if n["name"] == node_name)
    return str(node["credentials"][ctype]["id"])


def recorded(platform: Platform, key: str) -> str | None:
    row = platform.store.conn.execute("SELECT n8n_id FROM credentials WHERE key=?",
                                      (key,)).fetchone()
    return None if row is None else str(row[0])


def triage(instance: str) -> str:
    return f"Inbox triage [{instance}/triage]"


def summarize(instance: str) -> str:
    return f"Lead enrichment - summarize [{instance}/summarize]"


def test_each_owner_gets_its_own_credential(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    platform.reconcile()
    live = platform.live()
    alice = cred_id(live, triage("inbox-triage-alice"), "Find unread", "gmailOAuth2")
    carol = cred_id(live, triage("inbox-triage-carol"), "Find unread", "gmailOAuth2")
    carol_dev = cred_id(live, triage("inbox-triage-carol-dev"), "Find unread", "gmailOAuth2")
    assert alice != carol and carol == carol_dev  # a user's credential serves only them
    assert alice == recorded(platform, "user.alice.gmail:gmailOAuth2")
    acme = cred_id(live, "Daily digest [daily-digest.owner-prod/digest]", "Post to Slack",
                   "slackApi")
    globex = cred_id(live, "Daily digest [daily-digest-globex/digest]", "Post to Slack",
                     "slackApi")
    assert acme == recorded(platform, "org.acme.slack:slackApi")
    assert globex == recorded(platform, "org.globex.slack:slackApi") != acme


def test_flexcred_uses_the_org_credential_else_the_platform_one(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    platform.reconcile()
    live = platform.live()
    acme = cred_id(live, summarize("lead-enrichment.owner-prod"), "Claude", "anthropicApi")
    globex = cred_id(live, summarize("lead-enrichment-globex"), "Claude", "anthropicApi")
    assert acme == recorded(platform, "org.acme.anthropic:anthropicApi")
    assert globex == recorded(platform, "system.platform.anthropic:anthropicApi")
    # Globex brings its own key; Acme removes its own: both switch.
    platform.set_secret("org.globex.anthropic", {"apiKey": "sk-ant-GLOBEX-0008"})
    platform.set_secret("org.acme.anthropic", None)
    out = platform.reconcile()
    assert out.outcome == "applied", out.error
    live = platform.live()
    assert cred_id(live, summarize("lead-enrichment-globex"), "Claude", "anthropicApi") \
        == recorded(platform, "org.globex.anthropic:anthropicApi")
    assert cred_id(live, summarize("lead-enrichment.owner-prod"), "Claude", "anthropicApi") \
        == recorded(platform, "system.platform.anthropic:anthropicApi")
    assert recorded(platform, "org.acme.anthropic:anthropicApi") is None  # unused: deleted
    assert acme not in {str(c["id"]) for c in platform.client.list_credentials()}


def test_a_changed_secret_is_rotated_in_place(platform: Platform) -> None:
    platform.reconcile()
    before = recorded(platform, "user.carol.gmail:gmailOAuth2")
    platform.set_secret("user.carol.gmail", {"clientId": "cid-CAROL", "clientSecret": "NEW-9"})
    out = platform.reconcile()
    assert out.plan is not None
    assert Counter(s.kind for s in out.plan.steps) == Counter({"rotate_credential": 1})
    assert out.writes == 1
    assert recorded(platform, "user.carol.gmail:gmailOAuth2") == before


def test_missing_secret_then_healed(platform: Platform) -> None:
    platform.publications |= ALL_CURRENT
    platform.reconcile()
    erin = platform.instance("inbox-triage-erin")
    assert erin["state"] == "missing_integration" and "user.erin.gmail" in erin["state_detail"]
    assert triage("inbox-triage-erin") not in platform.live()  # never deployed
    # Carol's Gmail goes away: only her instances stop.
    platform.set_secret("user.carol.gmail", None)
    platform.reconcile()
    live = platform.live()
    assert not live[triage("inbox-triage-carol")]["activeVersionId"]
    assert live[triage("inbox-triage-alice")]["activeVersionId"]
    assert platform.instance("inbox-triage-carol")["state"] == "missing_integration"
    # Both connect: the next reconcile heals them.
    platform.set_secret("user.carol.gmail", SECRETS["user.carol.gmail"])
    platform.set_secret("user.erin.gmail", {"clientId": "cid-ERIN", "clientSecret": "cs-E-1"})
    out = platform.reconcile()
    assert out.outcome == "applied", out.error
    live = platform.live()
    assert live[triage("inbox-triage-carol")]["activeVersionId"]
    assert live[triage("inbox-triage-erin")]["activeVersionId"]
    assert platform.instance("inbox-triage-erin")["state"] == "active"
    notices = platform.store.conn.execute(
        "SELECT count(*) FROM notices WHERE kind='missing_integration' AND dismissed=0"
    ).fetchone()[0]
    assert notices == 0


def test_no_secret_value_leaks(platform: Platform, caplog: pytest.LogCaptureFixture) -> None:
    platform.publications |= ALL_CURRENT
    out = platform.reconcile()
    platform.set_secret("user.bob.gmail", {"clientId": "cid-BOB", "clientSecret": "cs-BOB-ROT"})
    platform.reconcile()
    plan, _ = platform.engine().plan(platform.declared())
    texts = [render_plan(plan, fmt) for fmt in ("text", "markdown", "json")]
    assert out.run_id is not None
    for run in (out.run_id, "latest"):
        texts += [render_run(platform.store, run, fmt)
                  for fmt in ("text", "markdown", "json", "junit")]
    texts.append(json.dumps(status_data(platform.store)))
    texts.append(caplog.text)
    texts.append(repr(platform.client))
    raw = platform.state_bytes()
    values = [v for data in SECRETS.values() for v in data.values()] + ["cs-BOB-ROT"]
    for value in values:
        assert value.encode() not in raw, f"{value} in the state"
        for text in texts:
            assert value not in text


def test_member_and_org_values_are_rendered_per_owner(platform: Platform) -> None:
    platform.edit_text("use-cases/inbox-triage/workflows/triage.json",
                       "// Urgent first: words the instance owner cares about rank a message up.",
                       "// auth {{MEMSECRT_EXECUTION_AUTH_TRCESMEM}} "
                       "crm {{ORGSECRET_CRM_URL_TERCESORG}}")
    for user in ("alice", "bob", "carol"):
        platform.set_secret(f"member.{user}.EXECUTION_AUTH", {"value": f"tok-{user}"})
    platform.set_secret("org.acme.CRM_URL", {"value": "https://crm.acme.example"})
    platform.publications |= ALL_CURRENT
    out = platform.reconcile()
    assert out.outcome == "applied", out.error
    live = platform.live()
    code = next(n for n in live[triage("inbox-triage-carol")]["nodes"]
                if n["name"] == "Sort by urgency")["parameters"]["jsCode"]
    assert "auth tok-carol crm https://crm.acme.example" in code
    # Globex has no CRM_URL: its members' instances wait for it; Acme's are unaffected.
    erin = platform.instance("inbox-triage-erin")
    assert erin["state"] == "missing_integration" and "org.globex.CRM_URL" in erin["state_detail"]
    assert platform.instance("inbox-triage-alice")["state"] == "active"
    assert ok_run(platform)


def ok_run(platform: Platform) -> bool:
    again = platform.reconcile()
    return (again.outcome, again.writes) == ("no_changes", 0)

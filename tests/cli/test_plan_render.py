"""How a plan reads: old -> new values in every format, secrets masked, production impact
first, the comment cut to GitHub's size with the rest counted, and valid GFM."""

from __future__ import annotations

import json
from typing import Any

from markdown_it import MarkdownIt

from reconciler.plan.diff import MASK, field_diff
from reconciler.plan.planner import Plan
from reconciler.plan.show import plan_json, plan_markdown, plan_text
from reconciler.plan.steps import (
    PublishWorkflow,
    PutWorkflow,
    ReportDrift,
    SaveInstance,
    SaveProcess,
    Step,
    UnpublishWorkflow,
)

GITHUB_LIMIT = 65_536
TOKEN = "sk-live-0123456789abcdef"


def _body(limit: int, url: str, code: str = "return items;") -> dict[str, Any]:
    return {"name": "Lead enrichment", "connections": {}, "settings": {}, "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "parameters": {}},
        {"name": "Fetch leads", "type": "n8n-nodes-base.httpRequest",
         "parameters": {"limit": limit, "url": url, "jsCode": code}}]}


def _record(env: str, version: str, state: str = "active", active: bool = True) -> dict[str, Any]:
    return {"environment": env, "version": version, "state": state, "active": int(active),
            "use_case": "lead-enrichment"}


def _plan() -> Plan:
    old = _body(10, f"https://api.example.com/?key={TOKEN}")
    new = _body(20, f"https://api.example.com/v2?key={TOKEN}", "x" * 900)
    diff = field_diff(old, new, secrets=[TOKEN])
    steps: list[Step] = [
        SaveProcess(use_case="lead-enrichment", record={"active_env": "dev"}),
        PutWorkflow(group="lead-enrichment-alice-dev", workflow_id="enrich", n8n_id="w1",
                    body=new, content_hash="h", reason="changed", diff=diff),
        PublishWorkflow(group="lead-enrichment-alice-dev", workflow_id="enrich", n8n_id="w1"),
        SaveInstance(group="lead-enrichment-alice-dev", record=_record("dev", "1.3.0"),
                     deploy_template="lead-enrichment@1.3.0", previous_version="1.2.0"),
        UnpublishWorkflow(group="lead-enrichment-alice", workflow_id="enrich", n8n_id="w0",
                          reason="instance inactive"),
        SaveInstance(group="lead-enrichment-alice", record=_record("prod", "1.2.0",
                                                                   "inactive", False)),
        SaveInstance(group="lead-enrichment-globex", record=_record("prod", "1.3.0"),
                     deploy_template="lead-enrichment@1.3.0", previous_version="1.2.0"),
        ReportDrift(group="inbox-triage-carol-dev", workflow_id="triage", n8n_id="w9",
                    diff=field_diff(_body(5, "a"), _body(6, "a"))),
    ]
    return Plan(steps=tuple(steps), state_version=3, revision="9c9f09a08214abcdef",
                notes=("release tag lead-enrichment@1.1.0 deleted",))


def test_every_format_shows_old_and_new_values() -> None:
    plan = _plan()
    text, markdown = plan_text(plan), plan_markdown(plan)
    assert 'nodes["Fetch leads"].parameters.limit: 10 -> 20' in text
    assert 'nodes["Fetch leads"].parameters.limit: 10 → 20' in markdown
    steps = json.loads(plan_json(plan))["steps"]
    entries = {d["path"]: d for d in steps[1]["diff"]}
    assert entries['nodes["Fetch leads"].parameters.limit'] == {
        "path": 'nodes["Fetch leads"].parameters.limit', "change": "changed",
        "old": "10", "new": "20"}
    assert "root[" not in text + markdown


def test_secrets_never_and_long_values_shortened() -> None:
    plan = _plan()
    rendered = plan_text(plan) + plan_markdown(plan) + plan_json(plan)
    assert TOKEN not in rendered
    assert f'"https://api.example.com/?key={MASK}" -> "https://api.example.com/v2?key={MASK}"' \
        in plan_text(plan)
    code = next(line for line in plan_text(plan).splitlines() if ".jsCode" in line)
    assert "chars)…" in code and len(code) < 300


def test_summary_line_first_then_production_impact() -> None:
    plan = _plan()
    text = plan_text(plan).splitlines()
    assert text[0] == ("Plan: 4 instance(s) touched; workflows: 1 to update, 1 to publish, "
                       "1 to unpublish; credentials: none; 3 n8n write(s) in 8 step(s)")
    impact = text[text.index("PRODUCTION IMPACT:") + 1:]
    assert impact[0].startswith("  ! lead-enrichment-alice: 1 workflow(s) unpublished")
    assert "makes dev the active environment" in impact[0]
    assert impact[1] == "  ! lead-enrichment-globex: switches from 1.2.0 to 1.3.0"
    assert "warning: release tag lead-enrichment@1.1.0 deleted" in text
    data = json.loads(plan_json(plan))
    assert len(data["production_impact"]) == 2
    assert data["summary"]["workflows"]["unpublish"] == 1
    assert data["drift"] == ["inbox-triage-carol-dev/triage"]


def test_no_production_impact_section_without_prod_changes() -> None:
    steps = tuple(s for s in _plan().steps if s.group in ("", "lead-enrichment-alice-dev"))
    plan = Plan(steps=steps, state_version=1, revision=None)
    assert "Production impact" not in plan_markdown(plan)
    assert "PRODUCTION IMPACT" not in plan_text(plan)


def _html(markdown: str) -> str:
    return str(MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown))


def test_markdown_renders_as_gfm_with_summary_table_and_sections() -> None:
    html = _html(plan_markdown(_plan()))
    assert "<table>" in html and "<th>instance</th>" in html and "<th>n8n writes</th>" in html
    assert "<h4>⚠️ Production impact</h4>" in html
    assert "<h4>Drift (hand edits in n8n)</h4>" in html
    assert html.count("<details>") == html.count("</details>") == 5  # platform + 4
    assert "<summary><b>lead-enrichment-alice (prod, 1.2.0)</b>" in html
    assert "10 → 20" in html  # inside the section's code block


def _many(instances: int) -> Plan:
    steps: list[Step] = []
    for i in range(instances):
        group = f"tenant-{i:04d}-prod"
        diff = field_diff(_body(1, "a" * 200), _body(2, "b" * 200))
        diff *= 10
        steps += [PutWorkflow(group=group, workflow_id="main", n8n_id=f"w{i}", body={},
                              content_hash="h", reason="changed", diff=diff),
                  SaveInstance(group=group, record=_record("prod", "2.0.0"))]
    return Plan(steps=tuple(steps), state_version=1, revision=None)


def test_a_huge_plan_fits_one_comment_and_says_what_is_left_out() -> None:
    markdown = plan_markdown(_many(400))
    assert len(markdown) < GITHUB_LIMIT
    shown = markdown.count("<details>")
    assert 0 < shown < 400
    assert f"_{400 - shown} more instance(s) not shown" in markdown
    html = _html(markdown)
    assert html.count("<details>") == html.count("</details>")
    assert "<td><strong>total</strong></td>" in html


def test_a_small_plan_is_not_cut() -> None:
    markdown = plan_markdown(_many(3))
    assert markdown.count("<details>") == 3 and "more instance(s)" not in markdown

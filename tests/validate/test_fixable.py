"""Every finding says whether --fix repairs it, in every format; messages use the
project's words, never pydantic's or a bare None."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.validate.conftest import LEAD, TRIAGE, RunCli
from tests.validate.test_rules import CASES

TRIAGE_WF = f"{TRIAGE}/workflows/triage.json"


def test_fixable_in_text_json_sarif_junit(repo: Path, run_cli: RunCli) -> None:
    CASES["SERVER-FIELDS"](repo)  # has a fix
    CASES["SETTINGS-KEYS"](repo)  # has none
    _, out = run_cli("validate", str(repo))
    assert "(SERVER-FIELDS, fixable with --fix)" in out
    assert "(SETTINGS-KEYS)" in out
    _, out = run_cli("validate", "--format", "json", str(repo))
    by_rule = {p["rule"]: p["fixable"] for p in json.loads(out)["problems"]}
    assert by_rule["SERVER-FIELDS"] is True and by_rule["SETTINGS-KEYS"] is False
    _, out = run_cli("validate", "--format", "sarif", str(repo))
    results = json.loads(out)["runs"][0]["results"]
    assert {r["ruleId"]: r["properties"]["fixable"] for r in results}["SERVER-FIELDS"]
    _, out = run_cli("validate", "--format", "junit", str(repo))
    assert "(SERVER-FIELDS, fixable with --fix)" in out


def test_messages_are_the_projects_words(repo: Path, run_cli: RunCli) -> None:
    path = repo / LEAD / "use-case.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["workflows"][0]["triggers"] = []
    spec["process"]["title"] = ""
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    code, out = run_cli("validate", str(repo))
    assert code == 1
    assert "after validation" not in out and "Input should" not in out
    assert "[workflows[0].triggers]: needs at least 1 item(s)" in out
    assert "process.title]: must not be empty" in out


def test_absent_setting_is_not_set(repo: Path, run_cli: RunCli) -> None:
    path = repo / TRIAGE_WF  # holds bare placeholders: edited as text
    path.write_text(path.read_text().replace('"executionOrder": "v1"', '"x_order": "v1"'))
    _, out = run_cli("validate", str(repo))
    assert "is not set" in out and "None" not in out

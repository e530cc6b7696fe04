"""Run reports: JUnit counts what it holds, text and markdown show warnings, drift and
per-step write counts, counted as the plan counts them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from junitparser import JUnitXml

from reconciler.errors import ExitCode
from reconciler.report.show import render_run, report_junit, report_markdown, report_text
from reconciler.store.db import Store, now
from tests.conftest import RunCli


def _step(seq: int, kind: str, target: str, outcome: str, instance: str | None = None,
          **detail: Any) -> dict[str, Any]:
    return {"seq": seq, "kind": kind, "instance": instance, "target": target,
            "detail": {"kind": kind, **detail}, "outcome": outcome,
            "error": "boom" if outcome == "failed" else None, "duration_ms": 12.0}


def _record(outcome: str, steps: list[dict[str, Any]], error: str | None = None,
            **summary: Any) -> dict[str, Any]:
    return {"id": 7, "started_at": "2026-12-02T07:00:00", "finished_at": "x", "trigger": "cli",
            "revision": "abc", "outcome": outcome, "reads": 2, "writes": 3, "error": error,
            "summary": {"duration_s": 1.5, **summary}, "steps": steps, "notices": []}


def _counts(xml: str) -> tuple[int, int, int]:
    suites = JUnitXml.fromstring(xml)
    failures = sum(1 for suite in suites for case in suite
                   if any(r._tag == "failure" for r in case.result))
    return suites.tests, suites.failures, failures


def test_a_failed_run_without_steps_counts_its_failure() -> None:
    xml = report_junit(_record("failed", [], error="PlanError: platform.yaml:3: broken"))
    tests, failures, holding = _counts(xml)
    assert (tests, failures, holding) == (1, 1, 1)
    assert 'failures="1"' in xml


def test_junit_counts_failed_and_skipped_steps() -> None:
    steps = [_step(1, "put_workflow", "a/main", "applied", "a", n8n_id=None),
             _step(2, "publish_workflow", "a/main", "failed", "a"),
             _step(3, "save_instance", "a", "skipped", "a")]
    xml = report_junit(_record("partial", steps, error="a: boom"))
    suites = JUnitXml.fromstring(xml)
    assert (suites.tests, suites.failures, suites.skipped) == (4, 2, 1)
    ok = report_junit(_record("applied", steps[:1]))
    assert JUnitXml.fromstring(ok).failures == 0


def test_text_and_markdown_show_warnings_drift_and_write_counts() -> None:
    steps = [_step(1, "put_workflow", "a/main", "applied", "a", n8n_id="w1", reason="drift",
                   diff=[{"path": "nodes[\"X\"].parameters.limit", "change": "changed",
                          "old": "1", "new": "2"}]),
             _step(2, "publish_workflow", "a/main", "applied", "a"),
             _step(3, "save_instance", "a", "applied", "a")]
    rec = _record("applied", steps, drift=["a/main"],
                  warnings=["tag deleted: x@1.0.0 (its version stays published)"])
    text = report_text(rec)
    assert "warning: tag deleted: x@1.0.0" in text
    assert "Drift (hand edits in n8n): a/main" in text
    assert 'nodes["X"].parameters.limit: 1 -> 2' in text
    assert "1 instance(s) touched; workflows: 1 to update, 1 to publish" in text
    assert "2 n8n write(s) in 3 step(s)" in text  # the plan's way of counting
    header = next(line for line in text.splitlines() if line.startswith("STEP"))
    assert header.split() == ["STEP", "COUNT", "APPLIED", "FAILED", "SKIPPED", "N8N", "WRITES"]
    markdown = report_markdown(rec)
    assert "> **Warning:** tag deleted: x@1.0.0" in markdown
    assert "#### Drift (hand edits in n8n)" in markdown
    assert "| `put_workflow` | 1 | 1 | 0 | 0 | 1 |" in markdown
    assert "1 → 2" in markdown


def test_report_of_a_recorded_run(tmp_path: Path, run_cli: RunCli,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    store = Store(tmp_path / "s.sqlite")
    with store.transaction() as c:
        c.execute("INSERT INTO runs (started_at, finished_at, trigger, outcome, summary, error)"
                  " VALUES (?, ?, 'daemon:once', 'failed', ?, 'GitError: gone')",
                  (now(), now(), json.dumps({"warnings": ["tag deleted: a@1.0.0"]})))
    assert "warning: tag deleted: a@1.0.0" in render_run(store, "latest", "text")
    code, out = run_cli("report", "latest", "-o", "junit", "--state", str(store.path))
    assert code == ExitCode.OK
    assert JUnitXml.fromstring(out).failures == 1

"""Smoke test results for people and CI: text, markdown, JSON and JUnit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.model.junit import Case, Suite, junit_xml
from reconciler.store.smoke import Batch


def batch_dict(batch: Batch) -> dict[str, Any]:
    return {"instance": batch.instance_id, "use_case": batch.use_case,
            "version": batch.version, "passed": batch.passed, "at": batch.created_at,
            "trigger": batch.trigger,
            "tests": [{"test": r.test, "workflow": r.workflow_id, "passed": r.passed,
                       "duration_ms": r.duration_ms, "failures": list(r.failures),
                       "diff": r.diff or None, "execution": r.execution_id,
                       "n8n_execution": r.n8n_execution_id} for r in batch.results]}


def batch_lines(batch: Batch) -> list[str]:
    head = (f"smoke tests of {batch.use_case}@{batch.version} on {batch.instance_id}: "
            f"{'passed' if batch.passed else 'FAILED'} "
            f"({sum(r.passed for r in batch.results)}/{len(batch.results)})")
    lines = [head]
    for r in batch.results:
        mark = "ok  " if r.passed else "FAIL"
        ex = f" execution {r.n8n_execution_id}" if r.n8n_execution_id else ""
        lines.append(f"  {mark} {r.test} ({r.workflow_id}, {r.duration_ms} ms{ex})")
        lines += [f"       {f}" for f in r.failures]
    return lines


def batch_markdown(batch: Batch) -> list[str]:
    icon = ":white_check_mark:" if batch.passed else ":x:"
    out = [f"{icon} **{batch.use_case}@{batch.version}** on `{batch.instance_id}`", "",
           "| test | workflow | result | ms | n8n execution |", "|---|---|---|---|---|"]
    for r in batch.results:
        why = "passed" if r.passed else "failed: " + "; ".join(r.failures).replace("|", "\\|")
        out.append(f"| {r.test} | {r.workflow_id} | {why} | {r.duration_ms} | "
                   f"{r.n8n_execution_id or ''} |")
    return out


def batches_junit(batches: Sequence[Batch]) -> str:
    suites = []
    for b in batches:
        cases = [Case(name=r.test, classname=f"smoke.{b.use_case}", time=r.duration_ms / 1000,
                      failure=None if r.passed else "; ".join(r.failures) or "failed",
                      failure_type="smoke", failure_text=r.diff or None)
                 for r in b.results]
        suites.append(Suite(f"smoke {b.use_case}@{b.version} on {b.instance_id}", cases))
    return junit_xml("reconciler smoke tests", suites)


def render_batches(batches: Sequence[Batch], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([batch_dict(b) for b in batches], indent=2, sort_keys=True)
    if fmt == "junit":
        return batches_junit(batches)
    if fmt == "markdown":
        return "\n".join(line for b in batches for line in [*batch_markdown(b), ""]).rstrip()
    return "\n".join(line for b in batches for line in batch_lines(b))

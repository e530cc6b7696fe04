"""Validation reports: text for people, JSON for scripts, SARIF for code scanning,
JUnit XML for CI test reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import metadata
from itertools import groupby
from typing import Any

import click

from reconciler.errors import Problem
from reconciler.model.junit import Case, Suite, junit_xml
from reconciler.validate.rules import LOAD, REGISTRY, Layer, Lint, Rule
from reconciler.validate.rules.registry import LOAD_DOC

LABEL = {"must": "error", "should": "warning"}
_COLOR = {"must": "red", "should": "yellow"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def fixable(p: Problem) -> bool:
    """Whether `--fix` repairs this problem (its rule has a fix)."""
    found = REGISTRY.get(p.rule or "")
    return found is not None and found.fix is not None


def _rule_note(p: Problem) -> str:
    return f"({p.rule}, fixable with --fix)" if fixable(p) else f"({p.rule})"


def text_report(problems: Sequence[Problem], color: bool = False) -> str:
    """Problems grouped by file; each line keeps its full location for grep and CI."""
    if not problems:
        return "valid: no problems found"
    out: list[str] = []
    for file, group in groupby(problems, key=lambda p: p.file):
        out.append(click.style(file, bold=True) if color else file)
        for p in group:
            label = LABEL.get(p.severity, p.severity)
            if color:
                label = click.style(label, fg=_COLOR.get(p.severity), bold=True)
            out.append(f"{label}: {p} {_rule_note(p)}")
        out.append("")
    errors = sum(p.severity == "must" for p in problems)
    out.append(f"{len(problems)} problem(s): {errors} error(s), "
               f"{len(problems) - errors} warning(s)")
    return "\n".join(out)


def json_report(problems: Sequence[Problem], valid: bool) -> str:
    return json.dumps({
        "valid": valid,
        "problems": [
            {"file": p.file, "line": p.line, "field": p.field, "rule": p.rule,
             "severity": p.severity, "message": p.message, "hint": p.hint,
             "fixable": fixable(p)}
            for p in problems
        ],
    }, indent=2)


def _version() -> str:
    try:
        return metadata.version("n8n-reconciler")
    except metadata.PackageNotFoundError:
        return "0"


def _sarif_rule(rule_id: str, summary: str, doc: str, severity: str, layer: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": LABEL[severity]},
        "properties": {"layer": layer, "severity": severity},
    }


def _sarif_result(p: Problem, index: dict[str, int]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": p.file, "uriBaseId": "SRCROOT"}}
    if p.line is not None and p.line >= 1:
        physical["region"] = {"startLine": p.line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if p.field:
        location["logicalLocations"] = [{"fullyQualifiedName": p.field, "kind": "member"}]
    text = p.message + (f" ({p.hint})" if p.hint else "")
    return {"ruleId": p.rule, "ruleIndex": index[p.rule], "level": LABEL[p.severity],
            "message": {"text": text}, "locations": [location],
            "properties": {"fixable": fixable(p)}}


def sarif_report(problems: Sequence[Problem], rules: Sequence[Rule]) -> str:
    """SARIF 2.1.0: one run, the selected rules (and LOAD) as the driver's rules."""
    described = [_sarif_rule(LOAD, "The repository's files load", LOAD_DOC, "must", "folder")]
    described += [_sarif_rule(r.id, r.summary, r.doc, r.severity, r.layer.value) for r in rules]
    index = {d["id"]: i for i, d in enumerate(described)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "n8n-reconciler", "version": _version(),
                                "rules": described}},
            "originalUriBaseIds": {"SRCROOT": {"description": {
                "text": "The root of the validated repository."}}},
            "results": [_sarif_result(p, index) for p in problems if p.rule in index],
        }],
    }
    return json.dumps(log, indent=2)


def _files(problems: Sequence[Problem], lint: Lint | None) -> dict[str, bool]:
    """Every file checked -> whether it is a workflow (which every layer checks)."""
    files: dict[str, bool] = {}
    if lint is not None:
        files["platform.yaml"] = False
        for uc in lint.state.use_cases.values():
            files[f"{uc.path}/use-case.yaml"] = False
            files.update({wf.path: True for wf in uc.workflows})
            files.update({s.path: False for s in uc.skills})
        files.update({i.path: False for i in lint.state.instances.values()})
    for p in problems:
        files.setdefault(p.file, p.file.endswith(".json") and "/workflows/" in p.file)
    return dict(sorted(files.items()))


def junit_report(problems: Sequence[Problem], rules: Sequence[Rule], lint: Lint | None,
                 strict: bool) -> str:
    """One test suite per file, one test case per rule that checks that file."""
    suites: list[Suite] = []
    for file, is_workflow in _files(problems, lint).items():
        ids = [LOAD] + [r.id for r in rules if is_workflow or r.layer is Layer.folder]
        suite = Suite(file)
        for rule_id in ids:
            found = [p for p in problems if p.file == file and p.rule == rule_id]
            case = Case(name=rule_id, classname=file)
            if any(p.severity == "must" or strict for p in found):
                case.failure, case.failure_type = found[0].message, found[0].severity
                case.failure_text = "\n".join(f"{p} {_rule_note(p)}" for p in found)
            elif found:
                case.output = "\n".join(f"warning: {p} {_rule_note(p)}" for p in found)
            suite.cases.append(case)
        suites.append(suite)
    return junit_xml("reconciler validate", suites)

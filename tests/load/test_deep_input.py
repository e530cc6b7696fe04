"""Deep or huge input is a located load error, never a traceback.

Every case breaks one file of a copy of example-repo and expects `validate` (a folder
and a git revision), `plan` and `apply` to exit 1 naming the file and line. plan and
apply fail while loading, before they need n8n, so no server is involved. The daemon
reads the branch and the release tags through the same `load` and `read_releases`;
those are called on the bad commit directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest

from reconciler.load.limits import MAX_DEPTH
from reconciler.load.releases import read_releases
from reconciler.load.repository import load_all
from reconciler.load.source import FolderSource, GitSource
from reconciler.render.normalize import content_hash
from reconciler.store.db import Store
from tests.load.conftest import commit, folder_files

RunCli = Callable[..., tuple[int, str]]

DIGEST = "use-cases/daily-digest"
WORKFLOW = f"{DIGEST}/workflows/digest.json"
INSTANCE = "instances/inbox-triage-erin.yaml"
SKILL = f"{DIGEST}/skills/run-digest/SKILL.md"
N = 10_000
LIMIT = 1024 * 1024
HEAD = "use_case: inbox-triage\nowner: {user: erin}\nenvironment: prod\n"


def _alias_depth() -> str:
    # 40 levels, aliased inside 40 more: each piece composes within the limit, the
    # expanded document does not.
    inner = "[" * 40 + "x" + "]" * 40
    return f"a: &a {inner}\nb: {'[' * 40}*a{']' * 40}\n"


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Deep:
    name: str
    file: str
    text: str
    line: int
    says: str


CASES = [
    Deep("json-array", WORKFLOW, "[" * N + "]" * N, 1, "nested more than"),
    Deep("json-object", WORKFLOW, '{"a":' * N + "1" + "}" * N, 1, "nested more than"),
    Deep("json-inside-nodes", WORKFLOW,
         '{\n  "name": "x",\n  "nodes": [\n' + '{"p": ' * N + "1" + "}" * N + "\n]}\n", 4,
         "nested more than"),
    Deep("json-version-file", f"{DIGEST}/version.json", "[" * N + "]" * N, 1,
         "nested more than"),
    Deep("json-huge-float", WORKFLOW, '{"name": "x",\n "n": 1e999}\n', 2, "number too large"),
    Deep("json-huge-int", WORKFLOW, '{"name": "x",\n "n": ' + "9" * 5000 + "}\n", 2,
         "number too large"),
    Deep("json-nan", WORKFLOW, '{"name": "x",\n "n": NaN}\n', 2, "NaN is not JSON"),
    Deep("yaml-flow-sequence", INSTANCE, HEAD + "parameters: {X: " + "[" * N + "]" * N + "}\n",
         4, "nested more than"),
    Deep("yaml-flow-mapping", INSTANCE, HEAD + "parameters: " + "{a: " * N + "1" + "}" * N
         + "\n", 4, "nested more than"),
    Deep("yaml-block-sequence", INSTANCE, HEAD + "parameters:\n  X:\n    " + "- " * N + "x\n", 6,
         "nested more than"),
    Deep("yaml-block-mapping", INSTANCE, HEAD + "parameters:\n"
         + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(1200)), 4 + MAX_DEPTH,
         "nested more than"),
    Deep("yaml-alias-depth", INSTANCE, _alias_depth(), 1, "once aliases are expanded"),
    Deep("yaml-billion-laughs", INSTANCE, _bomb(9), 1, "more than 100000 values"),
    Deep("yaml-huge-int", INSTANCE, HEAD + "parameters:\n  LABEL: " + "9" * 5000 + "\n", 5,
         "not a finite number"),
    Deep("yaml-huge-float", INSTANCE, HEAD + "parameters:\n  LABEL: 1.0e+999\n", 5,
         "not a finite number"),
    Deep("yaml-infinity", INSTANCE, HEAD + "parameters:\n  LABEL: .inf\n", 5,
         "not a finite number"),
    Deep("front-matter-deep", SKILL, "---\nname: " + "[" * N + "]" * N + "\n---\nbody\n", 2,
         "nested more than"),
    Deep("huge-file", INSTANCE, HEAD + "# " + "x" * LIMIT + "\n", 0, "the limit is"),
    Deep("huge-line-just-under", WORKFLOW,
         '{"name": "x", "nodes": [], "pad": "' + "x" * (LIMIT - 100) + '", "n": 1e999}', 1,
         "number too large"),
]


def _located(output: str, case: Deep) -> bool:
    where = re.escape(case.file) + (f":{case.line}" if case.line else "")
    held = r"(?:held [a-z ]+ \S+: )?"  # plan and apply name the unit the problem holds back
    return re.search(rf"^error: {held}{where}\b.*{re.escape(case.says)}", output, re.M) is not None


def _break(root: Path, case: Deep) -> None:
    (root / case.file).write_text(case.text, encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_deep_or_huge_file_is_a_located_error(case: Deep, repo_copy: Path, tmp_path: Path,
                                              run_cli: RunCli) -> None:
    _break(repo_copy, case)
    state = tmp_path / "state.sqlite"
    Store(state).close()  # an empty state: the offline plan needs no n8n (the corpus
    # runs plan and apply on real n8n)
    for args in (("validate", str(repo_copy)),
                 ("plan", "--path", str(repo_copy), "--offline", "--state", str(state))):
        code, output = run_cli(*args)
        assert code == 1, (args, output[-2000:])
        assert "Traceback" not in output and "RecursionError" not in output
        assert _located(output, case), (args, output[-2000:])


@pytest.mark.parametrize("case", [c for c in CASES if c.name in (
    "json-object", "yaml-flow-sequence", "yaml-huge-int", "front-matter-deep")],
    ids=lambda c: c.name)
def test_the_daemons_loader_reports_a_bad_commit_and_tag(
        case: Deep, repo_copy: Path, tmp_path: Path, run_cli: RunCli) -> None:
    repo = pygit2.init_repository(str(tmp_path / "origin"), bare=True, initial_head="main")
    _break(repo_copy, case)
    bad = commit(repo, folder_files(repo_copy))
    repo.references.create("refs/tags/daily-digest@1.0.0", pygit2.Oid(hex=bad))
    loaded = load_all(GitSource(repo, "main"))
    assert any(p.file == case.file and case.says in p.message for p in loaded.problems)
    code, output = run_cli("validate", "--repo", str(tmp_path / "origin"), "--ref", "main")
    assert code == 1 and _located(output, case), output[-2000:]
    releases = read_releases(repo)
    if not case.file.startswith("use-cases/daily-digest/"):
        # a tag stands for its own use case: a broken instance file does not hold it back
        assert releases.problems == [] and ("daily-digest", "1.0.0") in releases.publications
        return
    assert [p.rule for p in releases.problems] == ["TAG-LOAD"]
    assert releases.problems[0].file == "use-cases/daily-digest/version.json"
    assert "tag daily-digest@1.0.0" in releases.problems[0].message
    assert case.says in releases.problems[0].message


def test_nesting_at_the_limit_loads_and_renders(repo_copy: Path) -> None:
    # 60 levels inside a node's parameters: well within the limit of 64 with the
    # file's own levels; it loads, hashes and normalises without trouble.
    deep = '{"k": ' * 60 + '"v"' + "}" * 60
    text = (repo_copy / WORKFLOW).read_text(encoding="utf-8")
    (repo_copy / WORKFLOW).write_text(text.replace('"parameters": {', f'"parameters": {{"deep": '
                                                   f'{deep},', 1), encoding="utf-8")
    loaded = load_all(FolderSource(repo_copy))
    assert loaded.problems == (), loaded.problems
    assert loaded.state is not None
    wf = loaded.state.use_cases["daily-digest"].workflows[0]
    assert len(content_hash(wf.content)) == 64


def test_a_string_parameter_holding_deep_json_text_is_only_text(
        repo_copy: Path, run_cli: RunCli) -> None:
    # A string is data: never parsed again, so its brackets are no nesting.
    (repo_copy / INSTANCE).write_text(HEAD + "parameters:\n  LABEL: '" + "[" * N + "]" * N
                                      + "'\n", encoding="utf-8")
    code, output = run_cli("validate", str(repo_copy))
    assert (code, output.strip()) == (0, "valid: no problems found")

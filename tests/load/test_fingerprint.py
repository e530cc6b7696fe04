"""Fingerprints: a version is its content, not its history, its formatting or its machine."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.adapters.git import Entry
from reconciler.errors import InvalidInput
from reconciler.load.repository import load
from reconciler.load.source import GitSource
from reconciler.model.placeholders import BARE_MARK, parse_workflow_text

NewRepo = Callable[..., pygit2.Repository]
Commit = Callable[..., str]
Files = dict[str, bytes | tuple[str, str]]
FilesOf = Callable[[Path], Files]

DIGEST = "use-cases/daily-digest"
WORKFLOW = f"{DIGEST}/workflows/digest.json"


class MemorySource:
    """A repository held in a dict: fast enough to load thousands of variants."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.label = "memory"
        self.revision: str | None = None

    def entries(self) -> list[Entry]:
        return [Entry(path, "file", len(data)) for path, data in self.files.items()]

    def read(self, path: str) -> bytes:
        return self.files[path]


@pytest.fixture(scope="module")
def base_files() -> dict[str, bytes]:
    root = Path(__file__).resolve().parents[2] / "example-repo"
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            # hidden folders (.github) are not part of the declared state
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}


def fingerprints(files: dict[str, bytes]) -> dict[str, str]:
    return {slug: uc.fingerprint for slug, uc in load(MemorySource(files)).use_cases.items()}


def fingerprint_or_none(files: dict[str, bytes], slug: str = "daily-digest") -> str | None:
    """The fingerprint, or None when the change made the repository invalid."""
    try:
        return fingerprints(files)[slug]
    except InvalidInput:
        return None


def only(files: dict[str, bytes], slug: str) -> dict[str, bytes]:
    """platform.yaml and one use case: the rest cannot change its fingerprint (shown
    above), and loading less keeps the exhaustive loops fast."""
    return {p: d for p, d in files.items()
            if p == "platform.yaml" or p.startswith(f"use-cases/{slug}/")}


def with_file(files: dict[str, bytes], path: str, text: str) -> dict[str, bytes]:
    return {**files, path: text.encode("utf-8")}


def dump_workflow(content: object, **options: object) -> str:
    """Workflow JSON text again, bare placeholders written back as bare."""
    text = json.dumps(content, **options)  # type: ignore[arg-type]
    marker = json.dumps(BARE_MARK)[1:-1]
    return re.sub(re.escape('"' + marker) + r'(\{\{[^"]*\}\})"', r"\1", text)


# --- same content, same fingerprint -------------------------------------------------


def test_same_content_in_two_histories(example: Path, new_repo: NewRepo, git_commit: Commit,
                                       files_of: FilesOf) -> None:
    files = files_of(example)
    one = new_repo("one")
    git_commit(one, files, "everything at once", author="Alice")

    # Another history: files added in another order over several commits, by another
    # author at other times, with a detour through different content.
    two = new_repo("two")
    paths = sorted(files, reverse=True)
    done: Files = {}
    for step, chunk in enumerate((paths[::3], paths[1::3], paths[2::3])):
        done.update({p: files[p] for p in chunk})
        git_commit(two, dict(done), f"part {step}", author="Bob", when=1_600_000_000 + step)
    git_commit(two, {**done, WORKFLOW: b'{"nodes": []}'}, "oops", author="Carol")
    git_commit(two, files, "revert", author="Carol", when=1_800_000_000)

    a, b = load(GitSource(one, "main")), load(GitSource(two, "main"))
    assert a.revision != b.revision
    assert {k: v.fingerprint for k, v in a.use_cases.items()} == {
        k: v.fingerprint for k, v in b.use_cases.items()}
    assert {k: v.file_digests for k, v in a.use_cases.items()} == {
        k: v.file_digests for k, v in b.use_cases.items()}


def test_folder_and_git_agree(example: Path, new_repo: NewRepo, git_commit: Commit,
                              files_of: FilesOf, base_files: dict[str, bytes]) -> None:
    repo = new_repo("r")
    git_commit(repo, files_of(example))
    from_git = {k: v.fingerprint for k, v in load(GitSource(repo, "main")).use_cases.items()}
    assert from_git == fingerprints(base_files)


def test_fingerprints_differ_between_use_cases(base_files: dict[str, bytes]) -> None:
    found = fingerprints(base_files)
    assert len(set(found.values())) == len(found) == 4
    assert all(f.startswith("sha256:") and len(f) == 71 for f in found.values())


def test_yaml_formatting_key_order_and_comments_do_not_count(
    base_files: dict[str, bytes],
) -> None:
    before = fingerprints(base_files)
    path = f"{DIGEST}/use-case.yaml"
    data = yaml.safe_load(base_files[path])
    # Keys sorted, block style, no comments, defaults spelled out.
    data["workflows"][0].setdefault("category", None)
    data["process"]["visibility"]["users"] = []
    rewritten = yaml.safe_dump(data, sort_keys=True, default_flow_style=False, width=40)
    assert rewritten != base_files[path].decode()
    after = fingerprints(with_file(base_files, path, rewritten))
    assert after == before
    # Reversed key order, flow style, CRLF line ends.
    def reverse(value: object) -> object:
        if isinstance(value, dict):
            return {k: reverse(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reverse(v) for v in value]
        return value
    flow = yaml.safe_dump(reverse(data), sort_keys=False, default_flow_style=True, width=10_000)
    assert fingerprints(with_file(base_files, path, flow.replace("\n", "\r\n"))) == before


def test_workflow_formatting_and_key_order_do_not_count(base_files: dict[str, bytes]) -> None:
    before = fingerprints(base_files)
    for path in [p for p in base_files if "/workflows/" in p]:
        content = parse_workflow_text(base_files[path].decode())
        compact = dump_workflow(content, sort_keys=True, separators=(",", ":"))
        wide = dump_workflow(content, indent=7, sort_keys=False)
        rev = dump_workflow(dict(reversed(list(content.items()))), indent=1)
        for text in (compact, wide, rev):
            assert fingerprints(with_file(base_files, path, text)) == before, path


def test_version_alone_is_not_content(base_files: dict[str, bytes]) -> None:
    before = fingerprints(base_files)
    after = fingerprints(with_file(base_files, f"{DIGEST}/version.json", '{"version": "9.9.9"}'))
    assert after == before


def test_instances_and_platform_are_not_use_case_content(base_files: dict[str, bytes]) -> None:
    before = fingerprints(base_files)
    changed = with_file(base_files, "instances/inbox-triage-erin.yaml",
                        "use_case: inbox-triage\nowner: {user: erin}\nactive: false\n")
    changed = with_file(changed, "platform.yaml",
                        base_files["platform.yaml"].decode().replace("drift: revert",
                                                                     "drift: report"))
    assert fingerprints(changed) == before


# --- any meaningful change, another fingerprint ----------------------------------------


@pytest.mark.parametrize(("what", "old", "new"), [
    ("node parameter value", '"responseMode": "lastNode"', '"responseMode": "lastNodf"'),
    ("node name", '"name": "Run now"', '"name": "Run noW"'),
    ("connection target", '"node": "Collect highlights"', '"node": "Collect highlightz"'),
    ("connection index", '"index": 0', '"index": 1'),
    ("setting", '"executionOrder": "v1"', '"executionOrder": "v0"'),
    ("setting added", '"executionOrder": "v1"',
     '"executionOrder": "v1", "saveDataErrorExecution": "all"'),
    ("type version", '"typeVersion": 1.2', '"typeVersion": 1.3'),
    ("position", "200\n", "201\n"),
    ("bare placeholder", "{{INSTPARM_DIGEST_TITLE_MRAPTSNI}};",
     "{{INSTPARM_SLACK_CHANNEL_MRAPTSNI}};"),
])
def test_named_workflow_changes_count(base_files: dict[str, bytes], what: str, old: str,
                                      new: str) -> None:
    text = base_files[WORKFLOW].decode()
    assert old in text, what
    changed = text.replace(old, new, 1)
    before = fingerprints(base_files)
    after = fingerprints(with_file(base_files, WORKFLOW, changed))
    assert after["daily-digest"] != before["daily-digest"], what
    assert after["inbox-triage"] == before["inbox-triage"]


def test_bare_and_quoted_placeholder_differ(base_files: dict[str, bytes]) -> None:
    # `{{X}}` (typed value) and `"{{X}}"` (a string) render differently: not the same.
    path = "use-cases/lead-enrichment/workflows/main.json"
    text = base_files[path].decode()
    bare = "{{INSTPARM_MIN_SCORE_MRAPTSNI}}"
    assert f": {bare}," in text
    quoted = text.replace(f": {bare},", f': "{bare}",')
    before = fingerprints(base_files)["lead-enrichment"]
    assert fingerprints(with_file(base_files, path, quoted))["lead-enrichment"] != before


def _meaningful_positions(text: str) -> list[int]:
    """Offsets of every letter and digit: all of them are keys, values or numbers."""
    return [i for i, ch in enumerate(text) if ch.isalnum()]


def _flip(ch: str) -> str:
    if ch.isdigit():
        return "7" if ch != "7" else "3"
    return "q" if ch != "q" else "z"


def test_every_one_byte_change_of_a_workflow_counts(base_files: dict[str, bytes]) -> None:
    files = only(base_files, "daily-digest")
    text = files[WORKFLOW].decode()
    before = fingerprints(files)["daily-digest"]
    assert before == fingerprints(base_files)["daily-digest"]
    checked = 0
    for index in _meaningful_positions(text)[::2]:
        changed = text[:index] + _flip(text[index]) + text[index + 1 :]
        after = fingerprint_or_none(with_file(files, WORKFLOW, changed))
        if after is None:  # e.g. `true` -> `tque`: invalid, so no fingerprint at all
            continue
        assert after != before, (index, text[max(0, index - 30) : index + 30])
        checked += 1
    assert checked > 500  # most changes keep the repository valid


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_one_byte_changes_count(base_files: dict[str, bytes], data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(sorted(p for p in base_files if "/workflows/" in p)))
    slug = path.split("/")[1]
    files = only(base_files, slug)
    text = files[path].decode()
    index = data.draw(st.sampled_from(_meaningful_positions(text)))
    replacement = data.draw(st.characters(codec="ascii", categories=["L", "N"]))
    if replacement == text[index]:
        return
    changed = text[:index] + replacement + text[index + 1 :]
    after = fingerprint_or_none(with_file(files, path, changed), slug)
    if after is not None:
        assert after != fingerprints(files)[slug]


@pytest.mark.parametrize(("path", "old", "new"), [
    (f"{DIGEST}/skills/run-digest/SKILL.md", "empty JSON body", "empty JSON bodies"),
    (f"{DIGEST}/skills/run-digest/SKILL.md", "without waiting", "without  waiting"),
    (f"{DIGEST}/use-case.yaml", "cost: 1", "cost: 2"),
    (f"{DIGEST}/use-case.yaml", "default: Daily digest", "default: Daily Digest"),
    (f"{DIGEST}/use-case.yaml", "timezone: Europe/Brussels", "timezone: Europe/Paris"),
])
def test_skill_and_config_changes_count(base_files: dict[str, bytes], path: str, old: str,
                                        new: str) -> None:
    text = base_files[path].decode()
    assert text.count(old) == 1
    before = fingerprints(base_files)["daily-digest"]
    after = fingerprints(with_file(base_files, path, text.replace(old, new)))["daily-digest"]
    assert after != before


def test_extra_skill_files_count(base_files: dict[str, bytes]) -> None:
    before = fingerprints(base_files)["daily-digest"]
    extra = f"{DIGEST}/skills/run-digest/reference.md"
    one = fingerprints(with_file(base_files, extra, "a"))["daily-digest"]
    two = fingerprints(with_file(base_files, extra, "b"))["daily-digest"]
    assert len({before, one, two}) == 3


def test_skill_line_endings_do_not_count(base_files: dict[str, bytes]) -> None:
    path = f"{DIGEST}/skills/run-digest/SKILL.md"
    crlf = base_files[path].decode().replace("\n", "\r\n")
    assert fingerprints(with_file(base_files, path, crlf)) == fingerprints(base_files)


def test_renaming_a_workflow_file_counts(base_files: dict[str, bytes]) -> None:
    files = dict(base_files)
    files[f"{DIGEST}/workflows/daily.json"] = files.pop(WORKFLOW)
    config = f"{DIGEST}/use-case.yaml"
    files[config] = files[config].replace(b"workflows/digest.json", b"workflows/daily.json")
    assert fingerprints(files)["daily-digest"] != fingerprints(base_files)["daily-digest"]

"""Smoke tests without n8n: the JSONPath subset, judging answers, loading, fingerprints."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.load.repository import load
from reconciler.load.source import FolderSource
from reconciler.model.smoke import Expect, Matcher
from reconciler.model.smoke_match import WILD, PathError, contains, judge, parse_path, select

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"
HELLO_TEST = "use-cases/hello/tests/greets-by-name.yaml"


def test_jsonpath_subset_parses_and_selects() -> None:
    assert parse_path("$.a[0]['b c'][*].d") == ["a", 0, "b c", WILD, "d"]
    body = {"a": [{"b c": [{"d": 1}, {"d": 2}]}], "x": {"y": 3, "z": 4}}
    assert select(body, parse_path("$.a[0]['b c'][*].d")) == [1, 2]
    assert select(body, parse_path("$.x.*")) == [3, 4]
    assert select(body, parse_path("$.a[-1]")) == [body["a"][0]]
    assert select(body, parse_path("$.missing.deeper")) == []
    for bad in ("a.b", "$..a", "$.a[?(@.b)]", "$[1:2]"):
        with pytest.raises(PathError):
            parse_path(bad)


def test_subset_is_recursive_and_typed() -> None:
    assert contains({"a": {"b": 1, "c": 2}, "d": [1, 2, 3]}, {"a": {"b": 1}, "d": [1, 2]})
    assert not contains({"a": 1}, {"a": "1"})
    assert not contains({"a": True}, {"a": 1})  # a boolean is no number
    assert contains({"n": 1.0}, {"n": 1})


def test_judge_reports_each_failure_and_a_diff() -> None:
    expect = Expect(status=200, subset={"greeting": "Hello, Ada!"},
                    matchers=[Matcher(path="$.signature", equals="Acme"),
                              Matcher(path="$.greeting", regex="^Hello"),
                              Matcher(path="$.secret", exists=False)])
    good = judge(expect, 200, {"greeting": "Hello, Ada!", "signature": "Acme"})
    assert good.passed and good.failures == ()
    bad = judge(expect, 500, {"greeting": "Bye", "signature": "Globex", "secret": 1})
    assert not bad.passed
    assert [f.split(":")[0] for f in bad.failures] == [
        "status", "subset", "$.signature", "$.greeting", "$.secret"]
    assert "-  \"greeting\": \"Hello, Ada!\"" in bad.diff and "+  \"greeting\": \"Bye\"" in bad.diff
    exact = judge(Expect(body={"a": 1}), 200, {"a": 1, "b": 2})
    assert not exact.passed and exact.failures == ("body: differs from the expected body",)


def test_a_matcher_needs_exactly_one_check() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Matcher(path="$.a")
    with pytest.raises(ValueError, match="exactly one"):
        Matcher(path="$.a", equals=1, exists=True)
    assert Matcher(path="$.a", equals=None).equals is None  # null is a value to expect


def test_tests_load_and_stay_out_of_the_fingerprint(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    before = load(FolderSource(repo)).use_cases["hello"]
    assert [t.name for t in before.tests] == ["greets-by-name"] and before.tests_digest
    path = repo / HELLO_TEST
    path.write_text(path.read_text().replace("Hello, Ada!", "Hi, Ada!"), encoding="utf-8")
    after = load(FolderSource(repo)).use_cases["hello"]
    assert after.fingerprint == before.fingerprint  # no version bump for a test change
    assert after.tests_digest != before.tests_digest  # but the tests run again


def test_a_stray_file_in_tests_is_located(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    (repo / "use-cases/hello/tests/notes.txt").write_text("x", encoding="utf-8")
    (repo / "use-cases/hello/tests/bad.yaml").write_text("workflow: greet\ntimeout: 900\n",
                                                         encoding="utf-8")
    with pytest.raises(Exception) as caught:
        load(FolderSource(repo))
    text = "\n".join(str(p) for p in caught.value.problems)  # type: ignore[attr-defined]
    assert "use-cases/hello/tests/notes.txt" in text
    assert "use-cases/hello/tests/bad.yaml:2" in text and "timeout" in text


def _gate_input(results: dict[tuple[str, str], bool], overrides: str = "") -> object:
    from dataclasses import replace

    from reconciler.model.declared import SmokeOverride
    from reconciler.model.platform import PlatformState
    from reconciler.plan.inputs import Observed, PlanInput

    declared = load(FolderSource(EXAMPLE))
    if overrides:
        platform = declared.platform.model_copy(update={"smoke_overrides": [
            SmokeOverride(release=overrides, reason="INC-1")]})
        declared = replace(declared, platform=platform)
    return PlanInput(declared=declared, state=PlatformState(version=0),
                     observed=Observed(workflows={}),
                     publications=frozenset({("hello", "1.0.0"), ("daily-digest", "1.0.0")}),
                     smoke_results=results)


def test_the_gate_holds_only_releases_with_tests_that_did_not_pass() -> None:
    from reconciler.plan.smoke_gate import smoke_gate

    untested = smoke_gate(_gate_input({}))  # type: ignore[arg-type]
    assert untested.inp.publications == {("daily-digest", "1.0.0")}  # no tests: not gated
    assert [(k, i) for k, i, _ in untested.held] == [("release", "hello@1.0.0")]
    assert "have not run" in untested.held[0][2][0].message
    failed = smoke_gate(_gate_input({("hello", "1.0.0"): False}))  # type: ignore[arg-type]
    assert "failed on dev" in failed.held[0][2][0].message
    assert [s.notice for s in failed.steps] == ["release_held"]  # type: ignore[attr-defined]
    passed = smoke_gate(_gate_input({("hello", "1.0.0"): True}))  # type: ignore[arg-type]
    assert ("hello", "1.0.0") in passed.inp.publications and not passed.held
    forced = smoke_gate(_gate_input({}, overrides="hello@1.0.0"))  # type: ignore[arg-type]
    assert ("hello", "1.0.0") in forced.inp.publications and not forced.held
    assert "INC-1" in forced.notes[0]
    assert [s.notice for s in forced.steps] == ["smoke_override"]  # type: ignore[attr-defined]

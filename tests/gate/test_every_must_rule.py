"""Every `must` rule blocks: its failing fixture is refused by validate and held by the
planner, on the gate's good repository (example-repo plus echo).

The fixtures are those of tests/validate/test_rules.py (one per rule, kept complete by
its test). A new `must` rule is thus enumerated here without a line of this file:
if the planner did not hold what it reports, the rule would not block apply. The
corpus (tests/gate/cases.py) runs cases of these rules against real n8n, dumps
compared; the last test checks that it covers every `must` rule.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.load.source import FolderSource
from reconciler.validate.engine import lint_source, select_rules
from reconciler.validate.gate import must_rules
from tests.gate.cases import CASES as CORPUS
from tests.gate.test_gate_property import GOOD, held_by_planner, units
from tests.validate.test_rules import CASES as FIXTURES
from tests.validate.test_rules import GIT_RULES

MUST = sorted(r.id for r in must_rules() if r.id not in GIT_RULES)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    shutil.copytree(GOOD, folder)
    return folder


@pytest.mark.parametrize("rule_id", MUST)
def test_a_must_rule_s_failure_is_held_by_the_planner(rule_id: str, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    FIXTURES[rule_id](folder)
    problems = [p for p in lint_source(FolderSource(folder), select_rules()).problems
                if p.severity == "must"]
    mine = [p for p in problems if p.rule == rule_id]
    assert mine, f"{rule_id}: validate reported nothing on its fixture"
    held = held_by_planner(folder)
    assert units(mine) <= held, (f"{rule_id}: validate refuses {sorted(units(mine))}, the "
                                 f"planner holds only {sorted(held)}")


def _rules_of(folder: Path) -> set[str]:
    return {p.rule for p in lint_source(FolderSource(folder), select_rules()).problems
            if p.severity == "must"}


def test_the_live_corpus_has_a_case_for_every_must_rule(tmp_path: Path) -> None:
    seen: set[str] = set()
    for case in CORPUS:
        if case.tag is None:
            folder = _copy(tmp_path / case.name)
            case.case.breaks(folder)
            seen |= _rules_of(folder)
    history = {"TAG-VERSION", "TAG-LOAD", "TAG-CONTENT", "TEMPLATE-HISTORY", "PIN-KNOWN"}
    missing = sorted(r.id for r in must_rules() if r.id not in seen | history)
    assert missing == [], f"no case of tests/gate/cases.py fails {missing}"

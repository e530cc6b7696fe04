"""validate and the planner agree: a `must` finding holds back exactly what it is about.

Over generated repositories (one small random mutation of the good repository),
`validate` rejects a use case or instance (any `must` finding in its files) if and
only if the pure planner, given an empty platform and no n8n, refuses or holds it.
Holding a use case holds its instances too. No n8n is involved: seconds.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reconciler.errors import PlanError, Problem
from reconciler.load.repository import load_all
from reconciler.load.source import FolderSource
from reconciler.model.platform import PlatformState
from reconciler.plan.inputs import Observed, PlanInput
from reconciler.plan.planner import make_plan
from reconciler.validate.engine import lint_source, select_rules
from tests.gate.conftest import good_files

Unit = tuple[str, str]  # ("use-case", slug) | ("instance", id) | ("platform", "") | ...
Mutation = Callable[[Path], None]


def unit_of(file: str) -> Unit:
    parts = file.split("/")
    if parts[0] == "use-cases" and len(parts) > 1:
        return ("use-case", parts[1])
    if parts[0] == "instances" and len(parts) > 1:
        return ("instance", parts[1].rsplit(".", 1)[0])
    if file.startswith("tag "):
        return ("tag", file.removeprefix("tag "))
    return ("platform", "")


def units(problems: Iterable[Problem]) -> set[Unit]:
    return {unit_of(p.file) for p in problems}


def rejected_by_validate(folder: Path) -> set[Unit]:
    result = lint_source(FolderSource(folder), select_rules())
    return units(p for p in result.problems if p.severity == "must")


def held_by_planner(folder: Path) -> set[Unit]:
    """What the planner (given the partial load, as plan/apply/the daemon are) holds."""
    loaded = load_all(FolderSource(folder))
    if loaded.state is None:  # platform.yaml did not load: everything is refused
        return units(loaded.problems)
    state = loaded.state
    inp = PlanInput(declared=state, state=PlatformState(version=0),
                    observed=Observed(workflows={}, credential_ids=frozenset()),
                    n8n_base_url="http://127.0.0.1:5678", defaults=state.platform.defaults)
    try:
        plan = make_plan(inp)
    except PlanError as exc:
        held = units(exc.problems)
    else:
        held = {("use-case" if kind == "use_case" else kind, ident)
                for kind, ident, _ in plan.held}
    slugs = {slug for kind, slug in held if kind == "use-case"}  # and their instances
    held |= {("instance", i.id) for i in state.instances.values() if i.spec.use_case in slugs}
    return held


# --- mutations ---------------------------------------------------------------------


def _yaml_edit(path: str, change: Callable[[dict[str, object]], None]) -> Mutation:
    def apply(root: Path) -> None:
        file = root / path
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        change(data)
        file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return apply


def _text_edit(path: str, pattern: str, new: str, nth: int) -> Mutation:
    def apply(root: Path) -> None:
        file = root / path
        if not file.is_file():
            return
        text = file.read_text(encoding="utf-8")
        found = list(re.finditer(pattern, text))
        if found:
            m = found[nth % len(found)]
            text = text[: m.start()] + m.expand(new) + text[m.end():]
        file.write_text(text, encoding="utf-8")
    return apply


def _write(path: str, text: str) -> Mutation:
    def apply(root: Path) -> None:
        (root / path).write_text(text, encoding="utf-8")
    return apply


def _remove(path: str) -> Mutation:
    def apply(root: Path) -> None:
        (root / path).unlink(missing_ok=True)  # an earlier mutation may have removed it
    return apply


def _copy(path: str, to: str) -> Mutation:
    def apply(root: Path) -> None:
        if (root / path).is_file():
            shutil.copyfile(root / path, root / to)
    return apply


GOOD = good_files(Path(tempfile.mkdtemp(prefix="gate-good-")))
INSTANCES = sorted(p.relative_to(GOOD).as_posix() for p in (GOOD / "instances").glob("*.yaml"))
USE_CASES = sorted(p.name for p in (GOOD / "use-cases").iterdir())
WORKFLOWS = sorted(p.relative_to(GOOD).as_posix()
                   for p in (GOOD / "use-cases").glob("*/workflows/*.json"))
USERS = ["alice", "bob", "carol", "dave", "erin", "mallory"]
ORGS = ["acme", "globex", "initech"]

i = st.integers(min_value=0, max_value=50)
instance = st.sampled_from(INSTANCES)
use_case = st.sampled_from(USE_CASES)
workflow = st.sampled_from(WORKFLOWS)


def _drop(key: str) -> Callable[[dict[str, object]], None]:
    def change(data: dict[str, object]) -> None:
        data.pop(key, None)
    return change


def _set(key: str, value: object) -> Callable[[dict[str, object]], None]:
    return lambda data: data.__setitem__(key, value)


def _rename(key: str) -> Callable[[dict[str, object]], None]:
    def change(data: dict[str, object]) -> None:
        if key in data:
            data[key + "x"] = data.pop(key)
    return change


def _twin_nodes(path: str, nth: int) -> Mutation:
    """Give one node the name of the node before it (connections keep the old names)."""
    def apply(root: Path) -> None:
        file = root / path
        text = file.read_text(encoding="utf-8")
        names = re.findall(r'^      "name": "([^"]+)",$', text, re.M)
        if len(names) >= 2:
            k = 1 + nth % (len(names) - 1)
            text = text.replace(f'      "name": "{names[k]}",', f'      "name": "{names[0]}",', 1)
        file.write_text(text, encoding="utf-8")
    return apply


MUTATIONS: st.SearchStrategy[tuple[str, Mutation]] = st.one_of(
    st.builds(lambda f, k: (f"drop {k} of {f}", _yaml_edit(f, _drop(k))), instance,
              st.sampled_from(["use_case", "owner", "environment", "parameters", "version"])),
    st.builds(lambda f, k: (f"rename {k} of {f}", _yaml_edit(f, _rename(k))), instance,
              st.sampled_from(["use_case", "owner", "environment", "parameters"])),
    st.builds(lambda f, u: (f"owner of {f} := user {u}", _yaml_edit(f, _set("owner", {"user": u}))),
              instance, st.sampled_from(USERS)),
    st.builds(lambda f, o: (f"owner of {f} := org {o}", _yaml_edit(f, _set("owner", {"org": o}))),
              instance, st.sampled_from(ORGS)),
    st.builds(lambda f, v: (f"version of {f} := {v}", _yaml_edit(f, _set("version", v))),
              instance, st.sampled_from(["1.0.0", "2.1.0", "1.2.0", "9.9.9", "1.0"])),
    st.builds(lambda f, e: (f"environment of {f} := {e}", _yaml_edit(f, _set("environment", e))),
              instance, st.sampled_from(["dev", "prod", "staging"])),
    st.builds(lambda f, u: (f"use_case of {f} := {u}", _yaml_edit(f, _set("use_case", u))),
              instance, st.sampled_from([*USE_CASES, "nope"])),
    st.builds(lambda f, n: (f"copy {f} to dup-{n}.yaml", _copy(f, f"instances/dup-{n}.yaml")),
              instance, st.integers(0, 3)),
    st.builds(lambda f, n: (f"{f}: node {n} named like another", _twin_nodes(f, n)),
              workflow, i),
    st.builds(lambda f, n: (f"{f}: placeholder {n} suffix broken",
                            _text_edit(f, r"\{\{([A-Z]+)_([A-Za-z0-9_-]+?)_([A-Z]+)\}\}",
                                       r"{{\1_\2_\3X}}", n)), workflow, i),
    st.builds(lambda f, n: (f"{f}: placeholder {n} scope renamed",
                            _text_edit(f, r"\{\{(INSTPARM)_", r"{{INSTPARAM_", n)), workflow, i),
    st.builds(lambda u, v: (f"version.json of {u} := {v}",
                            _write(f"use-cases/{u}/version.json", json.dumps({"version": v}))),
              use_case, st.sampled_from(["1.0", "v1.2.0", "3.0.0", "1.02.0"])),
    st.builds(lambda f: (f"remove {f}", _remove(f)), workflow),
    st.builds(lambda u, lvl: (f"visibility of {u} := {lvl}",
                              _text_edit(f"use-cases/{u}/use-case.yaml",
                                         r"visibility: \{level: public\}",
                                         f"visibility: {{level: {lvl}}}", 0)),
              use_case, st.sampled_from(["private", "organizational", "public"])),
    st.builds(lambda f, v: (f"parameters of {f} := {v!r}", _yaml_edit(f, _set("parameters", v))),
              instance, st.sampled_from([{"LABEL": 3}, {"MIN_SCORE": "high"}, {"NOPE": 1},
                                         {"SLACK_CHANNEL": "#x"}, {}])),
)


def test_the_good_repository_passes_both() -> None:
    assert rejected_by_validate(GOOD) == set()
    assert held_by_planner(GOOD) == set()


@pytest.mark.filterwarnings("ignore")
# No shrinking: each example is already one or two named mutations, and shrinking
# re-runs the linter and the planner hundreds of times.
@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MUTATIONS, min_size=1, max_size=2))
def test_validate_rejects_exactly_what_the_planner_holds(
        mutations: list[tuple[str, Mutation]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "repo"
        shutil.copytree(GOOD, folder)
        for _, mutate in mutations:
            mutate(folder)
        rejected = rejected_by_validate(folder)
        held = held_by_planner(folder)
    what = "; ".join(name for name, _ in mutations)
    assert bool(rejected) == bool(held), f"{what}: validate {rejected}, planner {held}"
    assert rejected <= held, f"{what}: validate rejects {rejected - held}, planner does not"

"""The gate: the `must` rules that `validate` runs, run again by the planner, and what
each problem holds back.

A problem belongs to a unit: a use case (its folder, or a release tag of it), an
instance (its file), or the platform (platform.yaml, and anything we cannot place).
A held use case holds every instance of it; a platform problem holds everything.
Held units keep what they have live and in the state; everything else reconciles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from reconciler.errors import Problem
from reconciler.model.repository import DeclaredState
from reconciler.validate.engine import run_rules
from reconciler.validate.rules import Lint, Options, Rule
from reconciler.validate.rules.registry import GitContext, ordered

USE_CASE, INSTANCE, PLATFORM = "use_case", "instance", "platform"
Unit = tuple[str, str]  # (kind, id)


def unit_of(problem: Problem) -> Unit:
    """Which unit a problem holds back, from the file it names."""
    file = problem.file
    if file.startswith("use-cases/"):
        return USE_CASE, file.split("/")[1]
    if file.startswith("instances/"):
        name = file.split("/")[1]
        return INSTANCE, name.rsplit(".", 1)[0] if name.endswith((".yaml", ".yml")) else name
    if file.startswith("tag "):
        return USE_CASE, file[4:].split("@", 1)[0]
    return PLATFORM, ""


def _frozen(d: dict[str, tuple[Problem, ...]]) -> Mapping[str, tuple[Problem, ...]]:
    return MappingProxyType(d)


@dataclass(frozen=True)
class Gate:
    """Every blocking problem, and the units they hold back (with why)."""

    problems: tuple[Problem, ...] = ()
    use_cases: Mapping[str, tuple[Problem, ...]] = field(default_factory=lambda: _frozen({}))
    instances: Mapping[str, tuple[Problem, ...]] = field(default_factory=lambda: _frozen({}))
    platform: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def holds(self, use_case: str | None = None, instance: str | None = None) -> bool:
        return bool(self.platform) or use_case in self.use_cases or instance in self.instances

    def add(self, found: Iterable[tuple[Problem, Unit | None]]) -> Gate:
        """This gate plus more problems; a unit given with a problem overrides its file's."""
        problems = list(self.problems)
        held = {USE_CASE: dict(self.use_cases), INSTANCE: dict(self.instances)}
        platform = list(self.platform)
        for problem, unit in found:
            if problem.severity != "must":
                continue
            problems.append(problem)
            kind, ident = unit or unit_of(problem)
            if kind == PLATFORM:
                platform.append(problem)
            else:
                held[kind][ident] = (*held[kind].get(ident, ()), problem)
        return Gate(tuple(problems), _frozen(held[USE_CASE]), _frozen(held[INSTANCE]),
                    tuple(platform))

    def held(self) -> list[tuple[str, str, tuple[Problem, ...]]]:
        """(kind, id, problems) of every held unit, sorted: for reports."""
        out = [(PLATFORM, "", self.platform)] if self.platform else []
        out += [(USE_CASE, k, v) for k, v in sorted(self.use_cases.items())]
        out += [(INSTANCE, k, v) for k, v in sorted(self.instances.items())]
        return out


def must_rules() -> list[Rule]:
    return [r for r in ordered() if r.severity == "must"]


def lintable(state: DeclaredState) -> DeclaredState:
    """The state minus instances of use cases that did not load (they are held anyway,
    and would otherwise be reported as naming a missing use case)."""
    broken = state.broken_use_cases
    return replace(state, instances={k: v for k, v in state.instances.items()
                                     if v.spec.use_case not in broken})


def gate_for(state: DeclaredState, extra: Iterable[Problem] = (),
             git: GitContext | None = None, options: Options | None = None) -> Gate:
    """Run every `must` rule over a (possibly partial) state: the gate of a revision."""
    lint = Lint(lintable(state), options or Options(), git)
    found = [*state.load_problems, *run_rules(lint, must_rules()), *extra]
    gate = Gate().add((p, None) for p in found)
    # A held instance naming a use case that is gone (renamed, moved, removed by the same
    # commit) depends on it: that use case's removal waits with it.
    gone = [(p, (USE_CASE, inst.spec.use_case)) for inst in state.instances.values()
            if inst.id in gate.instances and inst.spec.use_case not in state.use_cases
            for p in gate.instances[inst.id]]
    return gate.add(gone) if gone else gate

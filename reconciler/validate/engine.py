"""Run the lint rules over a source, and plan the fixes of what they found."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from reconciler.errors import Problem
from reconciler.load.repository import checkable, load_all
from reconciler.load.source import Source
from reconciler.model.lines import LineMap, dotted
from reconciler.validate.rules import LOAD, REGISTRY, FixContext, Lint, Options, Rule
from reconciler.validate.rules.locate import json_lines, pointer
from reconciler.validate.rules.registry import Finding, GitContext, ordered


class UnknownRule(ValueError):
    """A rule id given on the command line is not registered."""


def select_rules(only: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Rule]:
    known = set(REGISTRY) | {LOAD}
    unknown = sorted({r for r in (*only, *exclude) if r not in known})
    if unknown:
        raise UnknownRule(f"unknown rule id(s): {', '.join(unknown)} "
                          "(see `reconciler validate --list-rules`)")
    chosen = [r for r in ordered() if not only or r.id in only]
    return [r for r in chosen if r.id not in exclude]


@dataclass
class Result:
    problems: list[Problem]
    lint: Lint | None  # None when nothing loaded well enough to lint

    def blocking(self, strict: bool) -> list[Problem]:
        return [p for p in self.problems if p.severity == "must" or strict]


def lint_source(source: Source, rules: Sequence[Rule], options: Options | None = None,
                load_problems: bool = True, git: GitContext | None = None) -> Result:
    """Load `source` and run `rules` on what loaded; loader problems come first."""
    loaded = load_all(source)
    problems = [replace(p, rule=LOAD) for p in loaded.problems] if load_problems else []
    state = checkable(loaded)
    lint = Lint(state, options or Options(), git) if state is not None else None
    if lint is not None:
        problems.extend(run_rules(lint, rules))
    return Result(sorted(problems, key=_order), lint)


def _order(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, p.line or 0, p.rule, p.message)


def run_rules(lint: Lint, rules: Iterable[Rule]) -> list[Problem]:
    locator = _Locator(lint)
    return [locator.problem(rule, f) for rule in rules for f in rule.check(lint)]


class _Locator:
    """Turns a finding's path into a field (JSON pointer or dotted key) and a line."""

    def __init__(self, lint: Lint) -> None:
        self.yaml: dict[str, LineMap] = {"platform.yaml": lint.state.platform_lines}
        self.json: dict[str, str] = {}
        self.maps: dict[str, LineMap] = {}
        for uc in lint.state.use_cases.values():
            self.yaml[f"{uc.path}/use-case.yaml"] = uc.lines
            self.yaml.update({s.path: s.lines for s in uc.skills})
            self.yaml.update({t.path: t.lines for t in uc.tests})
            self.json.update({wf.path: wf.text for wf in uc.workflows})
        self.yaml.update({i.path: i.lines for i in lint.state.instances.values()})

    def problem(self, rule: Rule, f: Finding) -> Problem:
        field, line = f.field, f.line
        if f.path is not None and f.file in self.json:
            field = pointer(f.path)
            if f.file not in self.maps:
                self.maps[f.file] = json_lines(self.json[f.file])
            line = line or self.maps[f.file].line_of(f.path)
        elif f.path is not None and f.file in self.yaml:
            field = dotted(f.path)
            line = line or self.yaml[f.file].line_of(f.path)
        return Problem(file=f.file, message=f.message, line=line, field=field, rule=rule.id,
                       severity=rule.severity, hint=f.hint)


def plan_fixes(lint: Lint, problems: Iterable[Problem],
               read: Callable[[str], bytes]) -> dict[str, tuple[str, str]]:
    """file -> (text now, fixed text) for every file a fix changes."""
    by_file: dict[str, dict[str, list[Problem]]] = {}
    for p in problems:
        rule = REGISTRY.get(p.rule)
        if rule is not None and rule.fix is not None:
            by_file.setdefault(p.file, {}).setdefault(p.rule, []).append(p)
    changes: dict[str, tuple[str, str]] = {}
    for file, found in sorted(by_file.items()):
        try:
            before = read(file).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        text = before
        for rule in ordered():  # a fixed order, so results are stable
            if rule.id in found and rule.fix is not None:
                text = rule.fix(text, FixContext(file, lint, tuple(found[rule.id])))
        if text != before:
            changes[file] = (before, text)
    return changes

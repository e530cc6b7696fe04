"""The rule registry: every lint rule with its stable id, layer, severity and docs.

A rule's check reads the loaded state and yields `Finding`s; the engine turns them
into `Problem`s, adding the rule id, the severity, a JSON pointer and a line. A rule
may also have a fix: a function from a file's text to its repaired text.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from reconciler.errors import Problem
from reconciler.load.releases import Releases
from reconciler.model.repository import DeclaredState, UseCase, WorkflowFile
from reconciler.validate.references import check_references

JsonPath = tuple[str | int, ...]


class Layer(StrEnum):
    graph = "graph"
    platform = "platform"
    content = "content"
    folder = "folder"


# Model ids we know are served by the AI providers our credentials cover. Extended
# by platform.yaml `defaults.allowed_models`; prefixes end with "*".
DEFAULT_LLM_MODELS: frozenset[str] = frozenset({
    "claude-opus-4-*", "claude-sonnet-4-*", "claude-haiku-4-*", "claude-3-7-sonnet-*",
    "claude-3-5-haiku-*", "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini",
    "gpt-4.1-nano", "gpt-5", "gpt-5-mini", "gpt-5-nano", "o3", "o4-mini",
    "gemini-2.5-pro", "gemini-2.5-flash", "mistral-large-latest", "mistral-small-latest",
})


@dataclass(frozen=True)
class Options:
    llm_models: frozenset[str] = DEFAULT_LLM_MODELS


@dataclass(frozen=True)
class Finding:
    """What a check reports; `path` is a location inside `file` (JSON or YAML)."""

    file: str
    message: str
    path: JsonPath | None = None
    hint: str | None = None
    line: int | None = None
    field: str | None = None  # a ready JSON pointer, when `path` is not given


@dataclass(frozen=True)
class GitContext:
    """For the rules that read history: the repository, the commit checked, its tags."""

    repo: Any  # pygit2.Repository
    commit: str
    releases: Releases


@dataclass
class Lint:
    """What checks read: the loaded state, options, and cached derived data."""

    state: DeclaredState
    options: Options = field(default_factory=Options)
    git: GitContext | None = None  # with `validate --repo`: history and tags

    def workflows(self) -> Iterator[tuple[UseCase, WorkflowFile]]:
        for uc in self.state.use_cases.values():
            for wf in uc.workflows:
                yield uc, wf

    def use_case_of(self, file: str) -> UseCase | None:
        for uc in self.state.use_cases.values():
            if file == uc.path or file.startswith(uc.path + "/"):
                return uc
        return None

    def workflow_at(self, file: str) -> WorkflowFile | None:
        return next((wf for _, wf in self.workflows() if wf.path == file), None)

    @cached_property
    def references(self) -> list[Problem]:
        return check_references(self.state)


Check = Callable[[Lint], Iterable[Finding]]
# A fix gets the file's current text and returns the repaired text (or the same).
Fix = Callable[[str, "FixContext"], str]


@dataclass(frozen=True)
class FixContext:
    file: str  # repository-relative path being fixed
    lint: Lint
    problems: tuple[Problem, ...]  # this rule's problems in this file


@dataclass(frozen=True)
class Rule:
    id: str
    layer: Layer
    severity: str  # "must" | "should"
    summary: str
    doc: str
    check: Check
    fix: Fix | None = None


REGISTRY: dict[str, Rule] = {}


def ordered() -> list[Rule]:
    """Every rule, layer by layer (graph, platform, content, folder)."""
    layers = list(Layer)
    return sorted(REGISTRY.values(), key=lambda r: layers.index(r.layer))

# Structural problems found by the loader (bad YAML/JSON, schema, missing or unlisted
# files): they stop the run before any rule, so LOAD is an id, not a rule.
LOAD = "LOAD"
LOAD_DOC = (
    "The loader reads every file before any rule runs and reports what it cannot "
    "read as LOAD problems: YAML and JSON syntax, the strict models (unknown keys, "
    "wrong types, `version.json` semver, five-field cron, trigger types, skill front "
    "matter with its `name` format and `description` length), workflow files listed "
    "but missing and workflow files present but not listed, symbolic links, files "
    "over the size limit and files that are not UTF-8. Rules run only on a state that "
    "loaded."
)


def rule(rule_id: str, layer: Layer, severity: str, summary: str,
         fix: Fix | None = None) -> Callable[[Check], Check]:
    """Register a check; its docstring is the rule's documentation."""
    if severity not in ("must", "should"):
        raise ValueError(severity)

    def register(check: Check) -> Check:
        if rule_id in REGISTRY:
            raise ValueError(f"rule {rule_id} registered twice")
        doc = inspect.cleandoc(check.__doc__ or summary)
        REGISTRY[rule_id] = Rule(rule_id, layer, severity, summary, doc, check, fix)
        return check

    return register

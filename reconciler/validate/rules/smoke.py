"""Rules on smoke tests (`use-cases/<slug>/tests/*.yaml`, docs/smoke-tests.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from reconciler.model.declared import HttpTrigger, ScheduleTrigger, value_fits
from reconciler.model.repository import SmokeTest, UseCase
from reconciler.model.smoke_match import PathError, parse_path
from reconciler.validate.rules.registry import Finding, Layer, Lint, rule

F = Layer.folder
# A quantified group holding a quantifier ((a+)+, (a|a*)*): the shape of patterns
# that backtrack exponentially. Tests are written by tenants; the daemon runs them.
_NESTED = re.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")


def _tests(lint: Lint) -> Iterator[tuple[UseCase, SmokeTest]]:
    for uc in lint.state.use_cases.values():
        for test in uc.tests:
            yield uc, test


def _triggerable(uc: UseCase, workflow_id: str) -> bool | None:
    """None: no such workflow; else whether it can be called from outside n8n."""
    spec = next((wf for wf in uc.config.workflows if wf.id == workflow_id), None)
    if spec is None:
        return None
    return any(isinstance(t, HttpTrigger) or (isinstance(t, ScheduleTrigger)
                                              and t.manual_trigger_path) for t in spec.triggers)


@rule("SMOKE-WORKFLOW", F, "must", "A smoke test calls a callable workflow of its use case")
def smoke_workflow(lint: Lint) -> Iterator[Finding]:
    """`workflow` names a workflow of the same use case (never another tenant's) with an
    http trigger or a schedule's `manual_trigger_path`: the test calls it there."""
    for uc, test in _tests(lint):
        found = _triggerable(uc, test.spec.workflow)
        if found is None:
            yield Finding(test.path, f"workflow {test.spec.workflow!r} is not a workflow of "
                          f"{uc.slug}", ("workflow",))
        elif not found:
            yield Finding(test.path, f"workflow {test.spec.workflow!r} has no http trigger "
                          "and no manual_trigger_path: a test cannot call it", ("workflow",))


@rule("SMOKE-PARAMS", F, "must", "A smoke test's parameters are declared and well typed")
def smoke_params(lint: Lint) -> Iterator[Finding]:
    """Each parameter a test assumes is declared in use-case.yaml `parameters` with a
    value of its type (previews deploy with them; dev must have them)."""
    for uc, test in _tests(lint):
        for name, value in test.spec.parameters.items():
            spec = uc.config.parameters.get(name)
            if spec is None:
                yield Finding(test.path, f"parameter {name!r} is not declared in "
                              "use-case.yaml", ("parameters", name))
            elif not value_fits(spec, value):
                yield Finding(test.path, f"parameter {name!r}: {value!r} is not a valid "
                              f"{spec.type.value}", ("parameters", name))


@rule("SMOKE-MATCHERS", F, "must", "Smoke test matchers use the JSONPath subset and safe regexes")
def smoke_matchers(lint: Lint) -> Iterator[Finding]:
    """Every matcher's `path` is in the supported JSONPath subset ($, .key, ['key'],
    [n], [*], .*) and every `regex` compiles without nested quantifiers (a pattern
    like `(a+)+` can take the daemon hours on one answer)."""
    for _, test in _tests(lint):
        for index, m in enumerate(test.spec.expect.matchers):
            at = ("expect", "matchers", index)
            try:
                parse_path(m.path)
            except PathError as exc:
                yield Finding(test.path, f"path {m.path!r}: {exc}", (*at, "path"))
            if m.regex is None:
                continue
            try:
                re.compile(m.regex)
            except re.error as exc:
                yield Finding(test.path, f"regex does not compile: {exc}", (*at, "regex"))
                continue
            if _NESTED.search(m.regex):
                yield Finding(test.path, "regex nests a quantifier in a quantified group; "
                              "write it without (it could backtrack for hours)", (*at, "regex"))


@rule("SMOKE-PAYLOAD", F, "should", "A smoke test sends every required input of its trigger")
def smoke_payload(lint: Lint) -> Iterator[Finding]:
    """The trigger's `input_schema` marks fields required; a payload without one is
    refused before n8n runs (the test fails with a validation error)."""
    for uc, test in _tests(lint):
        spec = next((wf for wf in uc.config.workflows if wf.id == test.spec.workflow), None)
        http = next((t for t in spec.triggers if isinstance(t, HttpTrigger)), None) if spec \
            else None
        for name, field in (http.input_schema if http else {}).items():
            if field.required and name not in test.spec.payload:
                yield Finding(test.path, f"payload lacks the required input {name!r}",
                              ("payload",))


@rule("SMOKE-GATE", F, "should",
      "A release waits for its smoke tests; an override names a tested release")
def smoke_gate(lint: Lint) -> Iterator[Finding]:
    """The planner holds a release tag `<use-case>@<version>` of a use case with smoke
    tests until they passed on the owner's dev instance running that version (the
    results are in the state; docs/smoke-tests.md). `smoke_overrides` in platform.yaml
    publishes one anyway, recorded; this rule flags an override naming a use case
    that is not in the repository or declares no tests (it would do nothing)."""
    for index, override in enumerate(lint.state.platform.smoke_overrides):
        slug = override.release.split("@", 1)[0]
        uc = lint.state.use_cases.get(slug)
        if uc is None or not uc.tests:
            what = "is not in the repository" if uc is None else "declares no smoke tests"
            yield Finding("platform.yaml", f"override {override.release}: {slug} {what}; "
                          "the override does nothing", ("smoke_overrides", index, "release"))

"""The smoke-test gate: a release tag whose version did not pass its smoke tests on the
owner's dev instance is held, not published (docs/smoke-tests.md).

Pure: it reads the results the engine gathered (`PlanInput.smoke_results`) and the
overrides of platform.yaml. A held release is a unit of `Plan.held` (kind `release`):
the tag waits, prod keeps its version, dev goes on deploying and testing the branch.
Use cases that declare no tests are not gated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.errors import Problem
from reconciler.model.platform import template_id
from reconciler.model.repository import owner_instance_id
from reconciler.plan.inputs import PlanInput
from reconciler.plan.steps import AddNotice, Step

RELEASE = "release"
Held = tuple[str, str, tuple[Problem, ...]]


@dataclass(frozen=True)
class SmokeGate:
    inp: PlanInput  # with the held publications taken out
    held: tuple[Held, ...] = ()
    notes: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()  # notices: held, or published by override


def _declares_tests(inp: PlanInput, slug: str, version: str) -> bool:
    branch = inp.declared.use_cases.get(slug)
    tagged = inp.releases.get((slug, version))
    return bool((branch and branch.tests) or (tagged and tagged.tests))


def _already_published(inp: PlanInput, slug: str, version: str) -> bool:
    rec = inp.state.templates.get(template_id(slug, version))
    return rec is not None and rec.status in ("published", "deprecated")


def _notice(inp: PlanInput, slug: str, kind: str, version: str, message: str) -> list[Step]:
    prod = owner_instance_id(slug, "prod")
    if (prod, kind, version) in inp.state.notices:
        return []
    return [AddNotice(group=prod, notice=kind, version=version, message=message)]


def smoke_gate(inp: PlanInput) -> SmokeGate:
    overrides = {o.release: o.reason for o in inp.declared.platform.smoke_overrides}
    keep: set[tuple[str, str]] = set()
    held: list[Held] = []
    notes: list[str] = []
    steps: list[Step] = []
    for slug, version in sorted(inp.publications):
        release = f"{slug}@{version}"
        passed = inp.smoke_results.get((slug, version))
        if (passed or _already_published(inp, slug, version)
                or not _declares_tests(inp, slug, version)):
            keep.add((slug, version))
            continue
        if release in overrides:
            keep.add((slug, version))
            note = (f"release {release} published without passing smoke tests on dev "
                    f"(override in platform.yaml: {overrides[release]})")
            notes.append(note)
            steps += _notice(inp, slug, "smoke_override", version, note)
            continue
        why = ("its smoke tests failed on dev" if passed is False
               else "its smoke tests have not run on dev yet")
        message = (f"release {release} is held: {why}; it is published once they pass "
                   "(or with a smoke_overrides entry in platform.yaml)")
        held.append((RELEASE, release, (Problem(f"use-cases/{slug}/tests", message,
                                                rule="SMOKE-GATE"),)))
        steps += _notice(inp, slug, "release_held", version, message)
    return SmokeGate(replace(inp, publications=frozenset(keep)), tuple(held), tuple(notes),
                     tuple(steps))

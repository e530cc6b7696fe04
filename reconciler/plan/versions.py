"""Templates and publications: which versions exist, which is published."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import Problem
from reconciler.load.stored import use_case_from_template
from reconciler.model.platform import template_id
from reconciler.model.repository import UseCase
from reconciler.plan.inputs import PlanInput
from reconciler.plan.steps import CreateTemplate, PublishTemplate, Step


def semver_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass
class Catalog:
    """Every known template per use case, and which versions are published."""

    templates: dict[tuple[str, str], UseCase]
    published: dict[str, list[str]]  # use case -> published versions, oldest first
    steps: list[Step]
    problems: list[Problem]

    def newest_published(self, use_case: str) -> str | None:
        versions = self.published.get(use_case)
        return versions[-1] if versions else None

    def template(self, use_case: str, version: str) -> UseCase | None:
        return self.templates.get((use_case, version))


def build_catalog(inp: PlanInput) -> Catalog:
    cat = Catalog(templates={}, published={}, steps=[], problems=[])
    for rec in inp.state.templates.values():
        cat.templates[(rec.use_case, rec.version)] = use_case_from_template(rec)
    for uc in inp.declared.use_cases.values():
        _add_template(inp, cat, uc)
    for (slug, version), uc in sorted(inp.releases.items()):
        if (slug, version) not in cat.templates:
            _add_template(inp, cat, uc)
    _publications(inp, cat)
    return cat


def _add_template(inp: PlanInput, cat: Catalog, uc: UseCase) -> None:
    key = (uc.slug, uc.version)
    stored = inp.state.templates.get(template_id(*key))
    if stored is not None:
        if stored.fingerprint != uc.fingerprint:
            changed = sorted(
                path for path in set(stored.file_digests) | set(uc.file_digests)
                if stored.file_digests.get(path) != uc.file_digests.get(path)
            )
            cat.problems.append(Problem(
                file=f"{uc.path}/version.json",
                message=f"{uc.slug}@{uc.version} is already a template and templates are "
                        f"immutable, but these files changed: {', '.join(changed)}",
                hint=f"bump the version: reconciler version bump {uc.slug} patch",
                rule="TEMPLATE-IMMUTABLE"))
        return
    if key in cat.templates and cat.templates[key].fingerprint != uc.fingerprint:
        cat.problems.append(Problem(file=f"{uc.path}/version.json",
                                    message=f"{uc.slug}@{uc.version}: the tagged commit and "
                                            "the branch hold different content",
                                    rule="TEMPLATE-IMMUTABLE"))
        return
    cat.templates[key] = uc
    cat.steps.append(CreateTemplate(use_case=uc.slug, version=uc.version,
                                    fingerprint=uc.fingerprint,
                                    revision=inp.declared.revision))


def _publications(inp: PlanInput, cat: Catalog) -> None:
    wanted: dict[str, set[str]] = {}
    for rec in inp.state.templates.values():
        if rec.status in ("published", "deprecated"):
            wanted.setdefault(rec.use_case, set()).add(rec.version)
    for slug, version in inp.publications:
        if (slug, version) not in cat.templates:
            cat.problems.append(Problem(file=f"use-cases/{slug}",
                                        message=f"cannot publish {slug}@{version}: no such "
                                                "version in the branch, a tag or the state",
                                        rule="PUBLISH"))
            continue
        wanted.setdefault(slug, set()).add(version)
    for slug, versions in wanted.items():
        ordered = sorted(versions, key=semver_key)
        cat.published[slug] = ordered
        newest = ordered[-1]
        current = inp.state.templates.get(template_id(slug, newest))
        if current is None or current.status != "published":
            previous = next((t.version for t in inp.state.templates.values()
                             if t.use_case == slug and t.status == "published"), None)
            cat.steps.append(PublishTemplate(use_case=slug, version=newest,
                                             deprecates=previous))

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
    """Stored templates, then tagged content, then the branch: a publication uses the
    tagged commit's content, and the branch may not hold other content under it."""
    cat = Catalog(templates={}, published={}, steps=[], problems=[])
    for rec in inp.state.templates.values():
        cat.templates[(rec.use_case, rec.version)] = use_case_from_template(rec)
    for (slug, version), uc in sorted(inp.releases.items()):
        if not inp.held(slug):
            _add_template(inp, cat, uc, f"tag {slug}@{version}")
    for uc in inp.declared.use_cases.values():
        if not inp.held(uc.slug):
            _add_template(inp, cat, uc, None)
    _publications(inp, cat)
    return cat


def _changed(a: dict[str, str], b: dict[str, str]) -> str:
    return ", ".join(sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p)))


def _add_template(inp: PlanInput, cat: Catalog, uc: UseCase, tag: str | None) -> None:
    key = (uc.slug, uc.version)
    stored = inp.state.templates.get(template_id(*key))
    file = f"use-cases/{uc.slug}/version.json"
    hint = f"bump the version: reconciler version bump {uc.slug} patch"
    if stored is not None:
        if stored.fingerprint != uc.fingerprint:
            what = f"{tag} holds" if tag else "the branch holds"
            cat.problems.append(Problem(
                file=file, field="version", hint=hint, rule="TEMPLATE-HISTORY",
                message=f"{uc.slug}@{uc.version} is already a template and templates are "
                        f"immutable, but {what} other content; these files changed: "
                        f"{_changed(stored.file_digests, uc.file_digests)}"))
        return
    if key in cat.templates:  # a tag added it first; the branch must agree
        if cat.templates[key].fingerprint != uc.fingerprint:
            cat.problems.append(Problem(
                file=file, field="version", hint=hint, rule="TAG-CONTENT",
                message=f"tag {uc.slug}@{uc.version} published other content under "
                        f"{uc.version}; these files differ: "
                        f"{_changed(cat.templates[key].file_digests, uc.file_digests)}"))
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
        if inp.held(slug):
            continue
        if (slug, version) not in cat.templates:
            cat.problems.append(Problem(file=f"use-cases/{slug}/version.json",
                                        message=f"cannot publish {slug}@{version}: no such "
                                                "version in the branch, a tag or the state",
                                        field="version", rule="TAG-VERSION"))
            continue
        wanted.setdefault(slug, set()).add(version)
    for slug, versions in wanted.items():
        ordered = sorted(versions, key=semver_key)
        cat.published[slug] = ordered
        newest = ordered[-1]
        if inp.held(slug):
            continue
        current = inp.state.templates.get(template_id(slug, newest))
        if current is None or current.status != "published":
            previous = next((t.version for t in inp.state.templates.values()
                             if t.use_case == slug and t.status == "published"), None)
            cat.steps.append(PublishTemplate(use_case=slug, version=newest,
                                             deprecates=previous))

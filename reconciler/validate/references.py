"""Cross-file checks of a loaded declared state: every name points at something real.

The loader checks each file on its own; these checks need the whole repository
(an instance naming a use case, a parameter, an owner, a team...).
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.errors import Problem
from reconciler.model.access import may_install
from reconciler.model.declared import (
    InputField,
    ProcessType,
    value_fits,
)
from reconciler.model.lines import LineMap, Path, dotted
from reconciler.model.placeholders import find_placeholders
from reconciler.model.repository import DeclaredState, InstanceDecl, UseCase


def _at(file: str, lines: LineMap, path: Path, message: str, rule: str) -> Problem:
    return Problem(file=file, message=message, line=lines.line_of(path), field=dotted(path),
                   rule=rule)


def check_references(state: DeclaredState) -> list[Problem]:
    problems: list[Problem] = []
    for use_case in state.use_cases.values():
        problems.extend(_use_case(state, use_case))
    for instance in state.instances.values():
        problems.extend(_instance(state, instance))
    return problems


def org_members(state: DeclaredState, org_id: str) -> set[str]:
    for org in state.platform.organizations:
        if org.id == org_id:
            return {m.user for m in org.members}
    return set()


def org_teams(state: DeclaredState, org_id: str) -> dict[str, set[str]]:
    for org in state.platform.organizations:
        if org.id == org_id:
            return {t.id: set(t.members) for t in org.teams}
    return {}


def _use_case(state: DeclaredState, uc: UseCase) -> Iterator[Problem]:
    file = f"{uc.path}/use-case.yaml"
    owner = uc.config.process.owner
    orgs = {o.id for o in state.platform.organizations}
    users = {u.id for u in state.platform.users}
    if owner.org not in orgs:
        yield _at(file, uc.lines, ("process", "owner", "org"),
                  f"organization {owner.org!r} is not declared in platform.yaml", "REF-OWNER")
    elif owner.user not in org_members(state, owner.org):
        yield _at(file, uc.lines, ("process", "owner", "user"),
                  f"user {owner.user!r} is not a member of {owner.org!r}", "REF-OWNER")
    vis = uc.config.process.visibility
    for i, user in enumerate(vis.users):
        if user not in users:
            yield _at(file, uc.lines, ("process", "visibility", "users", i),
                      f"user {user!r} is not declared in platform.yaml", "REF-VISIBILITY")
    all_teams = {t.id for o in state.platform.organizations for t in o.teams}
    for i, team in enumerate(vis.teams):
        if team not in all_teams:
            yield _at(file, uc.lines, ("process", "visibility", "teams", i),
                      f"team {team!r} is not declared in platform.yaml", "REF-VISIBILITY")
    yield from _owner_parameters(uc, file)
    yield from _placeholders(uc)
    yield from _skills(uc)


def _owner_parameters(uc: UseCase, file: str) -> Iterator[Problem]:
    given = uc.config.process.owner.parameters
    for message, key in _parameter_problems(uc.config.parameters, given):
        path: Path = ("process", "owner", "parameters", key) if key in given else (
            "process", "owner", "parameters")
        yield _at(file, uc.lines, path, message, "PARAMS")


def _placeholders(uc: UseCase) -> Iterator[Problem]:
    ids = {wf.spec.id for wf in uc.workflows}
    for wf in uc.workflows:
        for ph in find_placeholders(wf.text):
            if ph.scope == "SUBWKFL" and ph.body not in ids:
                yield Problem(wf.path, f"{ph.text} names no workflow of this use case "
                              f"(known: {', '.join(sorted(ids))})", rule="SUBWKFL-REFERENCES",
                              line=_line_of(wf.text, ph.text))
            if ph.scope == "INSTPARM" and ph.body not in uc.config.parameters:
                yield Problem(wf.path, f"{ph.text} uses parameter {ph.body!r}, which "
                              "use-case.yaml does not declare", rule="INSTPARM-DECLARED",
                              line=_line_of(wf.text, ph.text))


def _skills(uc: UseCase) -> Iterator[Problem]:
    ids = {wf.spec.id for wf in uc.workflows}
    seen: dict[str, str] = {}
    for skill in uc.skills:
        if skill.front.workflowTemplateId not in ids:
            yield _at(skill.path, skill.lines, ("workflowTemplateId",),
                      f"workflowTemplateId {skill.front.workflowTemplateId!r} is not a "
                      f"workflow of this use case (known: {', '.join(sorted(ids))})",
                      "SKILL-CONSISTENCY")
        if skill.front.name in seen:
            yield _at(skill.path, skill.lines, ("name",), f"skill name {skill.front.name!r} "
                      f"is also used by {seen[skill.front.name]}", "SKILL-CONSISTENCY")
        seen.setdefault(skill.front.name, skill.path)


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _parameter_problems(specs: dict[str, InputField],
                        given: dict[str, object]) -> Iterator[tuple[str, str]]:
    for key, value in given.items():
        spec = specs.get(key)
        if spec is None:
            known = ", ".join(sorted(specs)) or "none"
            yield f"parameter {key!r} is not declared by the use case (declared: {known})", key
        elif not value_fits(spec, value):
            yield f"parameter {key!r}: {value!r} is not a valid {spec.type.value}", key
    for key, spec in specs.items():
        if spec.required and spec.default is None and key not in given:
            yield f"required parameter {key!r} is not given", key


def _instance(state: DeclaredState, inst: InstanceDecl) -> Iterator[Problem]:
    spec, file, lines = inst.spec, inst.path, inst.lines
    uc = state.use_cases.get(spec.use_case)
    if uc is None:
        yield _at(file, lines, ("use_case",),
                  f"use case {spec.use_case!r} does not exist under use-cases/", "REF-USE-CASE")
        return
    yield from _instance_owner(state, inst, uc)
    for message, key in _parameter_problems(uc.config.parameters, spec.parameters):
        path: Path = ("parameters", key) if key in spec.parameters else ("parameters",)
        yield _at(file, lines, path, message, "PARAMS")
    owner_org = resolve_instance_org(state, inst)
    if owner_org is not None:
        teams = org_teams(state, owner_org)
        for i, team in enumerate(spec.sharing.teams):
            if team not in teams:
                yield _at(file, lines, ("sharing", "teams", i),
                          f"team {team!r} is not a team of {owner_org!r}", "REF-SHARING")


def resolve_instance_org(state: DeclaredState, inst: InstanceDecl) -> str | None:
    """The organization an instance belongs to (given, or the user's only org)."""
    owner = inst.spec.owner
    if owner.org is not None:
        return owner.org
    orgs = state.user_orgs.get(owner.user, []) if owner.user is not None else []
    return orgs[0] if len(orgs) == 1 else None


def _instance_owner(state: DeclaredState, inst: InstanceDecl, uc: UseCase) -> Iterator[Problem]:
    owner, file, lines = inst.spec.owner, inst.path, inst.lines
    users = {u.id for u in state.platform.users}
    orgs = {o.id for o in state.platform.organizations}
    personal = uc.config.process.type is ProcessType.personal
    if personal and owner.user is None:
        yield _at(file, lines, ("owner",), f"{uc.slug} is a personal process: the owner "
                  "must be a user", "REF-OWNER")
        return
    if not personal and owner.user is not None:
        yield _at(file, lines, ("owner", "user"), f"{uc.slug} is an organizational process: "
                  "the owner must be an org, not a user", "REF-OWNER")
        return
    if owner.user is not None and owner.user not in users:
        yield _at(file, lines, ("owner", "user"),
                  f"user {owner.user!r} is not declared in platform.yaml", "REF-OWNER")
        return
    if owner.org is not None and owner.org not in orgs:
        yield _at(file, lines, ("owner", "org"),
                  f"organization {owner.org!r} is not declared in platform.yaml", "REF-OWNER")
        return
    if owner.user is not None:
        member_of = [o.id for o in state.platform.organizations
                     if owner.user in {m.user for m in o.members}]
        if owner.org is not None and owner.org not in member_of:
            yield _at(file, lines, ("owner", "org"),
                      f"user {owner.user!r} is not a member of {owner.org!r}", "REF-OWNER")
        elif owner.org is None and len(member_of) != 1:
            yield _at(file, lines, ("owner",), f"user {owner.user!r} belongs to "
                      f"{len(member_of)} organizations; name one with 'org'", "REF-OWNER")
    if not _may_install(state, uc, inst):
        level = uc.config.process.visibility.level.value
        yield _at(file, lines, ("owner",), f"visibility {level!r} of {uc.slug} does not "
                  "allow this owner to install it", "ACCESS")


def _may_install(state: DeclaredState, uc: UseCase, inst: InstanceDecl) -> bool:
    return may_install(state.platform.organizations, uc.config.process, inst.spec.owner.user,
                       resolve_instance_org(state, inst))

"""The catalogue: what one user may install, and who gains or loses access when a
process's visibility changes. Pure: a declared state (or what the daemon recorded) in,
frozen records out.

Access itself is `reconciler.model.access.may_install`, the same function the ACCESS
rule runs, so the catalogue never offers what `validate` would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.access import may_install, orgs_of
from reconciler.model.declared import (
    Organization,
    Process,
    ProcessType,
    UseCaseConfig,
    Visibility,
)
from reconciler.model.platform import ProcessRec
from reconciler.model.repository import DeclaredState, UseCase, WorkflowFile, owner_instance_id
from reconciler.plan.steps import SaveProcess, Step
from reconciler.plan.versions import semver_key
from reconciler.render.requirements import credential_needs, parameter_refs


@dataclass(frozen=True)
class Requirement:
    """A parameter an installation must give: required, and without a default."""

    name: str
    type: str
    label: str | None
    description: str | None
    used_by: tuple[str, ...]  # workflow ids whose INSTPARM placeholders read it


@dataclass(frozen=True)
class Connection:
    """An integration the installer connects: whose credential it is, per placeholder scope."""

    integration: str
    scope: str  # USERCRED, ORGCRED, FLEXCRED, INSTCRED, SYSCREDS, or "" (declared only)
    whose: str


@dataclass(frozen=True)
class Entry:
    use_case: str
    title: str
    subtitle: str | None
    description: str
    type: str  # personal | organizational
    visibility: str
    owner: str  # user:ID@org of the process
    branch_version: str
    published: tuple[str, ...]  # newest last
    required: tuple[Requirement, ...]
    integrations: tuple[Connection, ...]
    install_as: tuple[str, ...]  # user:ID or org:ID (with @org when a user has several)
    installed: tuple[str, ...] = field(default=())  # instance ids this user already has

    def as_dict(self) -> dict[str, Any]:
        return {
            "use_case": self.use_case, "title": self.title, "subtitle": self.subtitle,
            "description": self.description, "type": self.type,
            "visibility": self.visibility, "owner": self.owner,
            "versions": {"branch": self.branch_version, "published": list(self.published)},
            "required_parameters": [r.__dict__ | {"used_by": list(r.used_by)}
                                    for r in self.required],
            "integrations": [c.__dict__ for c in self.integrations],
            "install_as": list(self.install_as), "installed": list(self.installed),
        }


_WHOSE = {"USERCRED": "the installing user's own", "ORGCRED": "the organization's",
          "FLEXCRED": "the organization's, else the platform's",
          "INSTCRED": "this installation's own", "SYSCREDS": "the platform's"}


def requirements(config: UseCaseConfig, workflows: Sequence[WorkflowFile]) -> list[Requirement]:
    """Parameters every installation must give, with the workflows that read them."""
    used: dict[str, list[str]] = {}
    for wf in workflows:
        for name in parameter_refs(wf):
            used.setdefault(name, []).append(wf.spec.id)
    return [Requirement(name, spec.type.value, spec.label, spec.description,
                        tuple(sorted(used.get(name, []))))
            for name, spec in sorted(config.parameters.items())
            if spec.required and spec.default is None]


def connections(config: UseCaseConfig, workflows: Sequence[WorkflowFile]) -> list[Connection]:
    """The credentials the workflows reference, then integrations only declared."""
    found = {(need.integration.lower().replace("_", "-"), need.scope)
             for wf in workflows for need in credential_needs(wf)}
    named = {i for i, _ in found}
    declared = set(config.integrations) | {i for wf in config.workflows for i in wf.integrations}
    found |= {(i, "") for i in declared if i not in named}
    return [Connection(i, s, _WHOSE.get(s, "declared by the use case"))
            for i, s in sorted(found)]


def candidates(orgs: Sequence[Organization], process: Process, user: str) -> list[str]:
    """The owners this user could install `process` as: themselves (per org), or an org
    they are a member of (organizational processes are owned by organizations)."""
    member_of = orgs_of(orgs, user)
    if process.type is ProcessType.organizational:
        return [f"org:{o}" for o in member_of if may_install(orgs, process, None, o)]
    allowed = [o for o in member_of if may_install(orgs, process, user, o)]
    if len(member_of) == 1:
        return [f"user:{user}"] if allowed else []
    return [f"user:{user}@{o}" for o in allowed]


def entry(uc: UseCase, install_as: Sequence[str], published: Iterable[str],
          installed: Iterable[str] = (), process: Process | None = None) -> Entry:
    """The catalogue's record of one use case (a branch's, or a stored template's, with
    the visibility and owner the state recorded last as `process`)."""
    process = process or uc.config.process
    return Entry(
        use_case=uc.slug, title=process.title, subtitle=process.subtitle,
        description=process.description.strip(), type=process.type.value,
        visibility=process.visibility.level.value,
        owner=f"user:{process.owner.user}@{process.owner.org}", branch_version=uc.version,
        published=tuple(sorted(set(published), key=semver_key)),
        required=tuple(requirements(uc.config, uc.workflows)),
        integrations=tuple(connections(uc.config, uc.workflows)),
        install_as=tuple(install_as), installed=tuple(sorted(set(installed))))


def catalog_for(state: DeclaredState, user: str,
                published: Mapping[str, Iterable[str]]) -> list[Entry]:
    """Every use case `user` may install, by slug; broken use cases are left out."""
    orgs = state.platform.organizations
    entries = []
    for slug, uc in sorted(state.use_cases.items()):
        install_as = candidates(orgs, uc.config.process, user)
        if install_as:
            entries.append(entry(uc, install_as, published.get(slug, ()),
                                 _installed(state, uc, user)))
    return entries


def _installed(state: DeclaredState, uc: UseCase, user: str) -> list[str]:
    """This user's installations of it: their own, their orgs', and, as its owner, the
    automatic environments."""
    orgs = set(orgs_of(state.platform.organizations, user))
    found = [i.id for i in state.instances.values()
             if i.spec.use_case == uc.slug and not i.spec.archived
             and (i.spec.owner.user == user
                  or (i.spec.owner.user is None and i.spec.owner.org in orgs))]
    owner = uc.config.process.owner
    personal = uc.config.process.type is ProcessType.personal
    if owner.user == user if personal else owner.org in orgs:
        found += [owner_instance_id(uc.slug, env) for env in ("dev", "prod")]
    return found


# --- who gains access: the plan comment of a visibility change -------------------------


def holders(orgs: Sequence[Organization], process: Process) -> set[str]:
    """Every declared owner allowed to install `process`: `user:ID` or `org:ID`. The
    process's own owner is left out: its automatic environments are its installation,
    whatever the visibility."""
    owner = process.owner
    if process.type is ProcessType.organizational:
        return {f"org:{o.id}" for o in orgs
                if o.id != owner.org and may_install(orgs, process, None, o.id)}
    users = {m.user for o in orgs for m in o.members} - {owner.user}
    return {f"user:{u}" for u in users
            if any(may_install(orgs, process, u, o) for o in orgs_of(orgs, u))}


_SHOWN = 12  # names listed in a plan line; the rest are counted


def access_change(orgs: Sequence[Organization], old: Process | None,
                  new: Process) -> str | None:
    """`gains access: ...; loses access: ...`, or None when nobody's access changes."""
    before = holders(orgs, old) if old is not None else set()
    after = holders(orgs, new)
    parts = []
    for verb, names in (("gains", after - before), ("loses", before - after)):
        if names:
            ordered = sorted(names)
            more = f" and {len(ordered) - _SHOWN} more" if len(ordered) > _SHOWN else ""
            parts.append(f"{verb} access: {', '.join(ordered[:_SHOWN])}{more}")
    if not parts:
        return None
    level = new.visibility.level.value
    anyone = " (and anyone declared later)" if level == "public" else ""
    return f"visibility {level}{anyone}: " + "; ".join(parts)


def recorded_process(new: Process, rec: ProcessRec) -> Process | None:
    """The process as the state last recorded it (visibility and owner), or None."""
    if not rec.visibility:
        return None
    try:
        visibility = Visibility.model_validate_json(rec.visibility)
    except ValueError:
        return None  # an unreadable record: treated as not recorded
    owner = new.owner.model_copy(update={"user": rec.owner_user, "org": rec.owner_org})
    return new.model_copy(update={"visibility": visibility, "owner": owner})


def process_access(orgs: Sequence[Organization], new: Process,
                   rec: ProcessRec | None) -> tuple[bool, str]:
    """(whether the recorded visibility or owner differs, who gains or loses access).

    A process the state does not know yet reports everyone it opens to; one recorded
    before visibility was read reports nothing (its record is simply brought up to date).
    """
    if rec is None:
        return False, access_change(orgs, None, new) or ""
    old = recorded_process(new, rec)
    if old is None:
        return False, ""
    if old.visibility == new.visibility and old.owner == new.owner:
        return False, ""
    return True, access_change(orgs, old, new) or ""


def access_lines(steps: Sequence[Step]) -> list[str]:
    """`use case: who gains or loses access`, for every process step that changes it."""
    found = {s.use_case: s.access for s in steps if isinstance(s, SaveProcess) and s.access}
    return [f"{slug}: {access}" for slug, access in found.items()]


def access_markdown(steps: Sequence[Step], limit: int = 20) -> list[str]:
    """The plan comment's section on access: what a reviewer approves when publishing."""
    found = access_lines(steps)
    if not found:
        return []
    more = [f"- _and {len(found) - limit} more_"] if len(found) > limit else []
    return ["#### Access (who may install)", "", *(f"- {_code(line)}" for line in found[:limit]),
            *more, ""]


def _code(line: str) -> str:
    slug, _, rest = line.partition(": ")
    return f"`{slug}`: {rest}"

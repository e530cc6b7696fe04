"""`reconciler install` and `uninstall`, the pure part: from a request to the text of an
instance file, or the reasons it is refused. The CLI only reads and writes files.

Every input here may be hostile (a use-case name or a parameter from a web form):
ids are slugs before they become file names, so nothing is written outside
`instances/`, and access is the ACCESS rule's own function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.errors import PermanentError
from reconciler.model.access import may_install, orgs_of
from reconciler.model.declared import (
    PARAM_NAME,
    FieldType,
    InputField,
    ProcessType,
    value_fits,
)
from reconciler.model.repository import DeclaredState, UseCase
from reconciler.plan.catalog import Connection, connections

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_STRINGS = (FieldType.string, FieldType.text, FieldType.date, FieldType.file,
            FieldType.select, FieldType.radio)


class Refused(PermanentError):
    """The installation is not allowed or not valid; says why (exit 1)."""


@dataclass(frozen=True)
class Request:
    use_case: str
    kind: str  # "user" | "org"
    who: str
    environment: str  # dev | prod
    pin: str | None = None
    params: tuple[tuple[str, str], ...] = ()  # K=V as typed on the command line
    org: str | None = None  # the user's org, when they are in several
    instance_id: str | None = None


@dataclass(frozen=True)
class Prepared:
    instance_id: str
    path: str  # instances/<id>.yaml, relative to the repository
    text: str
    connect: tuple[Connection, ...]


def parse_owner(text: str) -> tuple[str, str]:
    kind, sep, who = text.partition(":")
    if not sep or kind not in ("user", "org") or not SLUG.fullmatch(who):
        raise Refused(f"--for takes user:ID or org:ID with a slug id, not {text!r}")
    return kind, who


def prepare(state: DeclaredState, published: Mapping[str, Iterable[str]],
            req: Request) -> Prepared:
    """The instance file for `req`, or Refused naming what forbids it."""
    uc = _use_case(state, req.use_case)
    user, org = _owner(state, uc, req)
    if not may_install(state.platform.organizations, uc.config.process, user, org):
        level = uc.config.process.visibility.level.value
        raise Refused(f"{req.kind}:{req.who} may not install {uc.slug}: its visibility is "
                      f"{level!r} (see docs/catalogue.md)")
    _unique(state, uc, user, org, req.environment)
    versions = set(published.get(uc.slug, ())) | {uc.version}
    if req.pin is not None and req.pin not in versions:
        raise Refused(f"{uc.slug} has no version {req.pin!r} to pin (known: "
                      f"{', '.join(sorted(versions))})")
    params = _parameters(uc, req.params)
    iid = req.instance_id or _default_id(uc.slug, req.who, req.environment)
    if not SLUG.fullmatch(iid) or iid in state.use_cases:
        raise Refused(f"instance id {iid!r} is not usable (a slug of at most 63 characters, "
                      "not the name of a use case): pass --id")
    if iid in state.instances or iid in state.broken_instances:
        raise Refused(f"instances/{iid}.yaml exists already: pass another --id")
    owner: dict[str, str] = {"user": user} if user else {"org": org or ""}
    if user and req.org:
        owner["org"] = req.org
    body: dict[str, Any] = {"use_case": uc.slug, "owner": owner,
                            "environment": req.environment}
    if req.pin is not None:
        body["version"] = req.pin
    if params:
        body["parameters"] = params
    text = (f"# installed with `reconciler install {uc.slug}`; review it like any change\n"
            + yaml.safe_dump(body, sort_keys=False, allow_unicode=True))
    return Prepared(iid, f"instances/{iid}.yaml", text,
                    tuple(connections(uc.config, uc.workflows)))


def _default_id(slug: str, who: str, env: str) -> str:
    return f"{slug}-{who}" if env == "prod" else f"{slug}-{who}-dev"


def _use_case(state: DeclaredState, name: str) -> UseCase:
    if not SLUG.fullmatch(name):
        raise Refused(f"{name!r} is not a use-case name (a slug: a-z, 0-9 and -)")
    if name in state.broken_use_cases:
        raise Refused(f"use case {name!r} does not load: run `reconciler validate`")
    uc = state.use_cases.get(name)
    if uc is None:
        raise Refused(f"no use case {name!r} under use-cases/ (see `reconciler catalog`)")
    return uc


def _owner(state: DeclaredState, uc: UseCase, req: Request) -> tuple[str | None, str | None]:
    """(user, org) of the new instance, checked against platform.yaml."""
    orgs = state.platform.organizations
    personal = uc.config.process.type is ProcessType.personal
    if personal != (req.kind == "user"):
        need = "a user (--for user:ID)" if personal else "an organization (--for org:ID)"
        raise Refused(f"{uc.slug} is a {uc.config.process.type.value} process: its owner "
                      f"is {need}")
    if req.kind == "org":
        if req.who not in {o.id for o in orgs}:
            raise Refused(f"organization {req.who!r} is not declared in platform.yaml")
        return None, req.who
    if req.who not in {u.id for u in state.platform.users}:
        raise Refused(f"user {req.who!r} is not declared in platform.yaml")
    member_of = orgs_of(orgs, req.who)
    if req.org is not None:
        if req.org not in member_of:
            raise Refused(f"user {req.who!r} is not a member of {req.org!r}")
        return req.who, req.org
    if len(member_of) != 1:
        raise Refused(f"user {req.who!r} belongs to {len(member_of)} organizations: "
                      "name one with --org")
    return req.who, member_of[0]


def _unique(state: DeclaredState, uc: UseCase, user: str | None, org: str | None,
            env: str) -> None:
    """INSTANCE-UNIQUE, asked before writing: one installation per owner and environment."""
    owner = uc.config.process.owner
    if (user == owner.user) if user else (org == owner.org):
        raise Refused(f"{user or org} owns {uc.slug}: its automatic {env} environment is "
                      "its installation already")
    for inst in state.instances.values():
        spec = inst.spec
        if spec.use_case != uc.slug or spec.archived or spec.environment.value != env:
            continue
        same = spec.owner.user == user if user else (
            spec.owner.org == org and spec.owner.user is None)
        if same:
            raise Refused(f"{user or org} has a {env} instance of {uc.slug} already: "
                          f"{inst.path} (one instance per owner and environment)")


def _parameters(uc: UseCase, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
    specs = uc.config.parameters
    values: dict[str, Any] = {}
    for key, raw in given:
        if not re.fullmatch(PARAM_NAME, key) or key not in specs:
            known = ", ".join(sorted(specs)) or "none"
            raise Refused(f"parameter {key[:64]!r} is not declared by {uc.slug} "
                          f"(declared: {known})")
        if key in values:
            raise Refused(f"parameter {key!r} is given twice")
        value = _typed(specs[key], raw)
        if not value_fits(specs[key], value):
            raise Refused(f"parameter {key!r}: {raw[:80]!r} is not a valid "
                          f"{specs[key].type.value}")
        values[key] = value
    missing = [k for k, s in sorted(specs.items())
               if s.required and s.default is None and k not in values]
    if missing:
        raise Refused(f"{uc.slug} needs {', '.join(missing)}: pass --param NAME=VALUE")
    return values


def _typed(spec: InputField, raw: str) -> Any:
    """A command-line string as the field's type: text stays text, the rest is JSON."""
    if spec.type in _STRINGS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # value_fits refuses it, with the text as given

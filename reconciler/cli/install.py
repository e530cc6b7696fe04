"""`reconciler install USE_CASE --for user:ID|org:ID --env dev|prod --into REPO`: write
the instance file into the repository's working tree, for a reviewer to see in a commit.

The file is written only when the pure checks pass (access, one instance per owner
and environment, version, parameters), never over an existing file, and is removed
again if `validate` finds a new `must` problem with it in place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from reconciler.adapters import git
from reconciler.apply.runtime import Declared
from reconciler.cli.catalog import published_versions
from reconciler.errors import GitError, Problem
from reconciler.load.releases import Releases, read_releases
from reconciler.load.repository import load_partial
from reconciler.load.source import FolderSource
from reconciler.plan.catalog import Connection
from reconciler.plan.install import Refused, Request, parse_owner, prepare
from reconciler.validate.engine import lint_source, select_rules


def load_into(repo: str) -> Declared:
    """The working tree of REPO (what the commit will hold), with its release tags."""
    if not Path(repo).is_dir():
        raise Refused(f"--into {repo}: no such folder")
    state = load_partial(FolderSource(repo))
    try:
        releases = read_releases(git.open_repository(repo))
    except GitError:
        releases = Releases()  # a plain folder: no tags, the branch version only
    return Declared(state, releases, repo, None)


def instances_dir(repo: str) -> Path:
    """REPO/instances as a real folder (a link could lead the write elsewhere)."""
    folder = Path(repo) / "instances"
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise Refused(f"{folder} is not a plain folder")
    folder.mkdir(exist_ok=True)
    return folder


def _must(repo: str) -> set[tuple[str, str, str]]:
    result = lint_source(FolderSource(repo), select_rules())
    return {(p.file, p.rule, p.message) for p in result.problems if p.severity == "must"}


def write_checked(repo: str, rel: str, text: str, *, create: bool) -> None:
    """Write `rel` and keep it only if it adds no `must` problem; else restore and refuse."""
    folder = instances_dir(repo)
    target = folder / Path(rel).name
    if target.resolve().parent != folder.resolve():
        raise Refused(f"{rel} would be written outside {folder}")
    before = _must(repo)
    previous = None if create else target.read_text(encoding="utf-8")
    _write(target, text, create)
    added = sorted(_must(repo) - before)
    if added:
        if previous is None:
            target.unlink()
        else:
            _write(target, previous, create=False)
        problems = "; ".join(f"{Problem(f, m, rule=r)}" for f, r, m in added[:5])
        raise Refused(f"{rel} would not validate, nothing written: {problems}")


def _write(target: Path, text: str, create: bool) -> None:
    # O_EXCL: never replace a file that appeared meanwhile; O_NOFOLLOW: never a link.
    flags = os.O_WRONLY | os.O_NOFOLLOW | (os.O_CREAT | os.O_EXCL if create else os.O_TRUNC)
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:
        raise Refused(f"{target} exists already: nothing overwritten") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    found = []
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep:
            raise Refused(f"--param takes NAME=VALUE, not {value[:64]!r}")
        found.append((key, raw))
    return tuple(found)


def echo_connect(connect: Sequence[Connection], emit: Callable[[str], None]) -> None:
    if not connect:
        emit("no integrations to connect")
        return
    emit("integrations to connect (secrets go to the reconciler's secret sources, "
         "never into git):")
    for c in connect:
        scope = f" ({c.scope})" if c.scope else ""
        emit(f"  {c.integration}{scope}: {c.whose} credential")


@click.command("install")
@click.argument("use_case")
@click.option("--for", "who", required=True, metavar="user:ID|org:ID", help="The new owner.")
@click.option("--env", "env", required=True, type=click.Choice(["dev", "prod"]))
@click.option("--pin", help="Stay on this version (a published one or the branch's).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A deployment parameter (JSON for numbers, booleans and lists).")
@click.option("--org", help="The user's organization, when they are in several.")
@click.option("--id", "instance_id", help="The instance id (default USE_CASE-OWNER[-dev]).")
@click.option("--into", "into", required=True, metavar="REPO",
              help="The repository working tree to write instances/<id>.yaml into.")
@click.option("--state", help="SQLite state file (default $RECONCILER_STATE), for the "
                              "versions it has published.")
def install(use_case: str, who: str, env: str, pin: str | None, params: tuple[str, ...],
            org: str | None, instance_id: str | None, into: str, state: str | None) -> int:
    """Write an instance file for USE_CASE into REPO, if access and parameters allow it."""
    kind, owner = parse_owner(who)
    declared = load_into(into)
    request = Request(use_case=use_case, kind=kind, who=owner, environment=env, pin=pin,
                      params=_pairs(params), org=org, instance_id=instance_id)
    prepared = prepare(declared.state, published_versions(declared, state), request)
    write_checked(into, prepared.path, prepared.text, create=True)
    click.echo(f"wrote {prepared.path} ({use_case} for {who}, {env}); commit it for review")
    echo_connect(prepared.connect, click.echo)
    return 0

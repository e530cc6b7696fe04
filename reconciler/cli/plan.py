"""`reconciler plan`: what a reconcile would change, without changing anything."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.apply.runtime import load_declared, make_engine, open_store
from reconciler.cli.output import output_option
from reconciler.errors import ConfigError, InvalidInput, Problem
from reconciler.model.repository import DeclaredState, UseCase
from reconciler.plan.held import held_lines
from reconciler.plan.planner import Plan
from reconciler.plan.show import plan_json, render_plan
from reconciler.store.db import Store, state_exists, state_path

if TYPE_CHECKING:  # the engine (httpx, the applier) is imported only to plan against n8n
    from reconciler.apply.engine import Engine


def run(repo: str | None, ref: str | None, path: str | None, fmt: str, detailed: bool,
        out: str | None, publish: tuple[str, ...], state: str | None,
        offline: bool = False) -> int:
    declared = load_declared(repo, ref, path)
    publications = frozenset(declared.releases.publications | _parse(publish))
    if offline:  # CI without access to production: the state snapshot stands for n8n
        plan = _offline(state, declared.state, publications, declared.releases.contents,
                        declared.releases.problems)
    else:
        engine = _engine(state, prepare=out is not None)
        plan, _ = engine.plan(declared.state, publications, declared.releases.contents,
                              declared.releases.problems)
    text = render_plan(plan, fmt)
    if out:
        saved = plan_json(plan, {"source": {"repo": declared.location, "ref": declared.ref,
                                            "revision": declared.state.revision,
                                            "publish": sorted(publish)}})
        Path(out).write_text(saved + "\n", encoding="utf-8")
    click.echo(text)
    for line in held_lines(plan):
        click.echo(f"error: {line}", err=True)
    if plan.held:
        return 1  # the gate held something back: fix it before merging
    if detailed:
        return 2 if plan.steps else 0
    return 0


def _engine(state: str | None, prepare: bool) -> Engine:
    """Planning writes nothing: without a state file, an empty one in memory.

    A plan saved for `apply FILE` (`prepare`) uses the real state file and hash key,
    made now if need be, so that the apply finds the same fingerprint.
    """
    if prepare or state_exists(state_path(state)):
        return make_engine(open_store(state))
    # No recorded digest to match, so a throwaway key does (and no hash.key file is made).
    return make_engine(Store(":memory:"), hash_key=secrets.token_bytes(32))


def _offline(state: str | None, declared: DeclaredState,
             publications: frozenset[tuple[str, str]],
             releases: dict[tuple[str, str], UseCase],
             release_problems: Sequence[Problem]) -> Plan:
    from reconciler.daemon.offline import offline_plan

    if not state_exists(state_path(state)):
        raise ConfigError(f"--offline plans against a state snapshot, and {state_path(state)} "
                         "does not exist: pass --state FILE (a copy of the daemon's state)")
    return offline_plan(open_store(state), declared, publications, releases,
                        os.environ.get("RECONCILER_N8N_URL"), release_problems)


def _parse(values: tuple[str, ...]) -> set[tuple[str, str]]:
    found = set()
    for value in values:
        slug, sep, version = value.partition("@")
        if not sep:
            raise click.UsageError(f"--publish takes USE_CASE@VERSION, not {value!r}")
        found.add((slug, version))
    return found


def repo_options(f: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
        click.option("--repo", help="Git repository (path or URL); default: a plain folder."),
        click.option("--ref", help="Branch, tag or commit of --repo (default HEAD)."),
        click.option("--path", "path", help="A plain folder instead of --repo (default .)."),
        click.option("--publish", multiple=True, metavar="USE_CASE@VERSION",
                     help="Publish this version too (tags do this in git)."),
        click.option("--state", help="SQLite state file (default $RECONCILER_STATE)."),
    ]):
        f = option(f)
    return f


@click.command("plan")
@repo_options
@output_option("text", "markdown", "json")
@click.option("--detailed-exitcode", "detailed", is_flag=True,
              help="Exit 0 with no changes, 2 with changes, 1 on error.")
@click.option("--out", help="Also save the plan (JSON) for `reconciler apply FILE`.")
@click.option("--offline", is_flag=True,
              help="Plan against the --state snapshot alone, assuming n8n equals the "
                   "recorded state (no n8n calls; for CI). See docs/operations.md.")
def plan(repo: str | None, ref: str | None, path: str | None, publish: tuple[str, ...],
         state: str | None, fmt: str, detailed: bool, out: str | None, offline: bool) -> int:
    """Show the steps a reconcile would apply."""
    return run(repo, ref, path, fmt, detailed, out, publish, state, offline)


def load_saved(file: str) -> dict[str, Any]:
    """A plan saved by `plan --out`; anything else is invalid input (exit 1)."""
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput([Problem(file, "no such plan file")]) from None
    except OSError as exc:
        raise InvalidInput([Problem(file, f"cannot read it ({exc.strerror})")]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InvalidInput([Problem(file, "not JSON: not a plan saved by `reconciler plan "
                                    "--out`", line=line)]) from None
    source = data.get("source") if isinstance(data, dict) else None
    if (not isinstance(data, dict) or not isinstance(source, dict)
            or not isinstance(data.get("fingerprint"), str)
            or not isinstance(data.get("state_version"), int)):
        raise InvalidInput([Problem(file, "not a plan saved by `reconciler plan --out`")])
    return data

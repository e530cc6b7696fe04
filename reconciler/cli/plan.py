"""`reconciler plan`: what a reconcile would change, without changing anything."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import click

from reconciler.apply.engine import held_lines
from reconciler.apply.runtime import load_declared, make_engine, open_store
from reconciler.errors import Problem, UsageError
from reconciler.model.repository import DeclaredState, UseCase
from reconciler.plan.planner import Plan
from reconciler.plan.show import plan_json, render_plan
from reconciler.store.db import state_path


def run(repo: str | None, ref: str | None, path: str | None, fmt: str, detailed: bool,
        out: str | None, publish: tuple[str, ...], state: str | None,
        offline: bool = False) -> int:
    declared = load_declared(repo, ref, path)
    publications = frozenset(declared.releases.publications | _parse(publish))
    if offline:  # CI without access to production: the state snapshot stands for n8n
        plan = _offline(state, declared.state, publications, declared.releases.contents,
                        declared.releases.problems)
    else:
        engine = make_engine(open_store(state))
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


def _offline(state: str | None, declared: DeclaredState,
             publications: frozenset[tuple[str, str]],
             releases: dict[tuple[str, str], UseCase],
             release_problems: Sequence[Problem]) -> Plan:
    from reconciler.daemon.offline import offline_plan

    if not state_path(state).is_file():
        raise UsageError(f"--offline plans against a state snapshot, and {state_path(state)} "
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
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True)
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


def load_saved(file: str) -> dict[str, object]:
    data = json.loads(Path(file).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "fingerprint" not in data:
        raise click.UsageError(f"{file}: not a plan saved by `reconciler plan --out`")
    return data

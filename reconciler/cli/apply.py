"""`reconciler apply`: make n8n and the state match the repository."""

from __future__ import annotations

import sys
from typing import Any

import click

from reconciler.apply.runtime import load_declared, make_engine, open_store
from reconciler.cli.output import color, output_option
from reconciler.cli.plan import _parse, load_saved, repo_options
from reconciler.cli.progress import ApplyProgress
from reconciler.errors import UsageError
from reconciler.plan.held import held_lines
from reconciler.report.show import render_run
from reconciler.store.lock import StateLock


def run(repo: str | None, ref: str | None, path: str | None, publish: tuple[str, ...],
        state: str | None, expect: tuple[int, str] | None, fmt: str,
        wait_lock: bool = False) -> int:
    declared = load_declared(repo, ref, path)
    store = open_store(state)
    engine = make_engine(store)
    lock = StateLock(store.path)  # one writer: a running daemon, or another apply
    lock.acquire(wait=wait_lock)
    err = sys.stderr
    try:
        with ApplyProgress(err, color=color(err)) as progress:
            engine.on_step = progress.on_step
            outcome = engine.reconcile(
                declared.state, trigger="cli",
                publications=frozenset(declared.releases.publications | _parse(publish)),
                releases=declared.releases.contents,
                release_problems=declared.releases.problems, expect=expect)
    finally:
        lock.release()
    assert outcome.run_id is not None
    click.echo(render_run(store, outcome.run_id, fmt, color=color()))
    if outcome.plan is not None:
        for line in held_lines(outcome.plan):
            click.echo(f"error: {line}", err=True)
    return 0 if outcome.outcome in ("applied", "no_changes") else 1


@click.command("apply")
@click.argument("plan_file", required=False)
@repo_options
@click.option("--yes", is_flag=True, help="Apply without a saved plan.")
@output_option("text", "markdown", "json")
@click.option("--wait-lock", is_flag=True,
              help="Wait for another writer (a daemon, another apply) instead of exiting 3.")
def apply(plan_file: str | None, repo: str | None, ref: str | None, path: str | None,
          publish: tuple[str, ...], state: str | None, yes: bool, fmt: str,
          wait_lock: bool) -> int:
    """Apply a saved plan (refused if anything moved since), or plan and apply with --yes."""
    if plan_file is not None:
        saved: dict[str, Any] = load_saved(plan_file)
        source = saved["source"]
        expect = (int(saved["state_version"]), str(saved["fingerprint"]))
        # The saved revision, not the ref: the branch may have moved since.
        rev = source["revision"] if source.get("repo") and source.get("ref") else None
        return run(source.get("repo") if source.get("ref") else None, rev,
                   None if source.get("ref") else source.get("repo"),
                   tuple(source.get("publish", [])), state, expect, fmt, wait_lock)
    if not yes:
        raise UsageError("apply changes n8n: pass --yes, or a plan saved with "
                         "`reconciler plan --out FILE`")
    return run(repo, ref, path, publish, state, None, fmt, wait_lock)

"""`reconciler test USE_CASE [--instance ID]`: run a use case's smoke tests now."""

from __future__ import annotations

import click

from reconciler.api.smoke import run_tests
from reconciler.apply.runtime import load_declared
from reconciler.cli.api_support import STATE, open_service
from reconciler.cli.output import output_option
from reconciler.errors import InvalidInput, PermanentError, Problem
from reconciler.model.repository import owner_instance_id
from reconciler.report.smoke import render_batches


@click.command("test")
@click.argument("use_case", metavar="USE_CASE")
@click.option("--instance", "instance_id", help="An instance of USE_CASE (default: the "
              "owner's dev instance).")
@click.option("--test", "only", multiple=True, metavar="NAME", help="Only these tests.")
@click.option("--repo", help="Git repository (path or URL) holding the tests.")
@click.option("--ref", help="Branch, tag or commit of --repo (default HEAD).")
@click.option("--path", "path", help="A plain folder instead of --repo (default .).")
@output_option("text", "markdown", "json", "junit")
@STATE
def test(use_case: str, instance_id: str | None, only: tuple[str, ...], repo: str | None,
         ref: str | None, path: str | None, fmt: str, state: str | None) -> int:
    """Call each smoke test's workflow through the instance's trigger; exit 1 on a failure."""
    declared = load_declared(repo, ref, path).state
    uc = declared.use_cases.get(use_case)
    where = f"use-cases/{use_case}/tests"
    if uc is None:
        raise InvalidInput([Problem(f"use-cases/{use_case}", "no such use case loads here")])
    tests = [t for t in uc.tests if not only or t.name in only]
    if not tests:
        raise InvalidInput([Problem(where, "no smoke tests to run" + (
            f" named {', '.join(only)}" if only else ""))])
    target = instance_id or owner_instance_id(use_case, "dev")
    service = open_service(state)
    try:
        found = service.instance(target)
        if found.use_case != use_case:  # another use case's instance: its webhooks are not ours
            raise PermanentError(f"instance {target!r} runs {found.use_case}, not {use_case}")
        batch = run_tests(service, target, uc, trigger="cli", tests=tests)
    finally:
        service.close()
    click.echo(render_batches([batch], fmt))
    return 0 if batch.passed else 1

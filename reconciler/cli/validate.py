"""`reconciler validate`: lint a folder or a git revision of the repository.

Exit 0 valid, 1 invalid (a `must` problem, or any problem with `--strict`),
64 usage error (including an unknown rule id).
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.adapters import git
from reconciler.cli.output import color, output_option
from reconciler.load.releases import read_releases
from reconciler.load.source import GitSource, Source, open_source
from reconciler.validate.docs import rules_listing
from reconciler.validate.engine import Result, UnknownRule, lint_source, select_rules
from reconciler.validate.fixer import fix_folder
from reconciler.validate.report import json_report, junit_report, sarif_report, text_report
from reconciler.validate.rules import Options, Rule
from reconciler.validate.rules.registry import GitContext


def _ids(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _rules(only: str | None, exclude: str | None) -> list[Rule]:
    try:
        return select_rules(_ids(only), _ids(exclude))
    except UnknownRule as exc:
        raise click.UsageError(str(exc)) from None


def render(result: Result, rules: list[Rule], fmt: str, strict: bool) -> str:
    problems = result.problems
    valid = not result.blocking(strict)
    if fmt == "json":
        return json_report(problems, valid)
    if fmt == "sarif":
        return sarif_report(problems, rules)
    if fmt == "junit":
        return junit_report(problems, rules, result.lint, strict)
    return text_report(problems, color=color())


def _check_usage(path: str | None, repo: str | None, ref: str | None, fix: bool,
                 dry_run: bool) -> None:
    if path is not None and repo is not None:
        raise click.UsageError("give a folder or --repo, not both")
    if ref is not None and repo is None:
        raise click.UsageError("--ref reads a git revision: name the repository with --repo")
    if fix and repo is not None:
        raise click.UsageError("--fix rewrites files: give a folder, not --repo")
    if dry_run and not fix:
        raise click.UsageError("--dry-run goes with --fix")


def _source(repo: str | None, ref: str | None,
            path: str | None) -> tuple[Source, GitContext | None]:
    """The revision to check and, from git, its history and tags for the git rules."""
    if repo is None:
        return open_source(None, None, path), None
    repository = git.open_repository(repo)
    source = GitSource(repository, ref or "HEAD", label=f"{repo}@{ref or 'HEAD'}")
    assert source.revision is not None
    return source, GitContext(repository, source.revision, read_releases(repository))


def _fix(root: str, rules: list[Rule], options: Options, dry_run: bool) -> Result:
    outcome = fix_folder(Path(root), rules, options)
    if dry_run:
        click.echo(outcome.diff(), nl=False)
    else:
        outcome.write(Path(root))
        for file in sorted(outcome.after):
            click.echo(f"fixed {file}", err=True)
    return outcome.result


@click.command("validate")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--repo", help="A git repository (path or URL) to read a revision from.")
@click.option("--ref", help="Branch, tag or commit (with --repo; default HEAD).")
@output_option("text", "json", "sarif", "junit")
@click.option("--strict", is_flag=True, help="'should' problems block too.")
@click.option("--rules", "only", metavar="ID,..", help="Run only these rules.")
@click.option("--exclude-rules", "exclude", metavar="ID,..", help="Skip these rules.")
@click.option("--fix", is_flag=True, help="Repair what can be repaired safely (a folder only).")
@click.option("--dry-run", is_flag=True, help="With --fix: print the diff, write nothing.")
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
def validate(path: str | None, repo: str | None, ref: str | None, fmt: str, strict: bool,
             only: str | None, exclude: str | None, fix: bool, dry_run: bool,
             list_rules: bool) -> int:
    """Lint the declared state: exit 0 valid, 1 invalid, 64 usage error."""
    rules = _rules(only, exclude)
    if list_rules:
        click.echo(rules_listing())
        return 0
    _check_usage(path, repo, ref, fix, dry_run)
    if path is None and repo is None:
        path = "."
    options = Options()  # the daemon's options: what passes here is what deploys
    if fix:
        assert path is not None
        result = _fix(path, rules, options, dry_run)
        if dry_run:
            return 1 if result.blocking(strict) else 0
    else:
        source, git_ctx = _source(repo, ref, path)
        result = lint_source(source, rules, options, git=git_ctx)
    click.echo(render(result, rules, fmt, strict))
    return 1 if result.blocking(strict) else 0


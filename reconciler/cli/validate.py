"""`reconciler validate`: check a folder or a git revision of the repository."""

from __future__ import annotations

import json

import click

from reconciler.errors import Problem
from reconciler.load.repository import checkable, load_all
from reconciler.load.source import open_source
from reconciler.validate.references import check_references


def collect_problems(path: str | None, repo: str | None, ref: str | None) -> list[Problem]:
    """Every problem: of each file on its own, then across files for what loaded.

    Cross-file checks run even when some files are broken, so fixing one problem
    does not reveal the next only on the following run.
    """
    loaded = load_all(open_source(repo, ref, path))
    problems = list(loaded.problems)
    state = checkable(loaded)
    if state is not None:
        problems.extend(check_references(state))
    return sorted(problems, key=lambda p: (p.file, p.line or 0))


_LABEL = {"must": "error", "should": "warning"}


def render_problems(problems: list[Problem], fmt: str) -> str:
    if fmt == "json":
        blocking = [p for p in problems if p.severity == "must"]
        return json.dumps({
            "valid": not blocking,
            "problems": [
                {"file": p.file, "line": p.line, "field": p.field, "rule": p.rule,
                 "severity": p.severity, "message": p.message, "hint": p.hint}
                for p in problems
            ],
        }, indent=2)
    if not problems:
        return "valid: no problems found"
    lines = [f"{_LABEL.get(p.severity, p.severity)}: {p}" + (f" ({p.rule})" if p.rule else "")
             for p in problems]
    lines.append(f"{len(problems)} problem(s)")
    return "\n".join(lines)


def run(path: str | None, repo: str | None, ref: str | None, fmt: str) -> int:
    if path is not None and repo is not None:
        raise click.UsageError("give a folder or --repo, not both")
    if ref is not None and repo is None:
        raise click.UsageError("--ref reads a git revision: name the repository with --repo")
    problems = collect_problems(path, repo, ref)
    click.echo(render_problems(problems, fmt))
    return 1 if any(p.severity == "must" for p in problems) else 0


@click.command("validate")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--repo", help="A git repository (path or URL) to read a revision from.")
@click.option("--ref", help="Branch, tag or commit (with --repo; default HEAD).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def validate(path: str | None, repo: str | None, ref: str | None, fmt: str) -> int:
    """Check the declared state: exit 0 valid, 1 invalid, 2 usage error."""
    if path is None and repo is None:
        path = "."
    return run(path, repo, ref, fmt)

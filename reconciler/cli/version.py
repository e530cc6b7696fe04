"""`reconciler version bump USE_CASE patch|minor|major`: edit version.json."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.errors import UsageError
from reconciler.model.declared import is_semver


def bump(version: str, part: str) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


@click.group("version")
def version() -> None:
    """Versions of use cases."""


@version.command("bump")
@click.argument("use_case")
@click.argument("part", type=click.Choice(["patch", "minor", "major"]))
@click.option("--path", default=".", show_default=True, help="The repository folder.")
def bump_command(use_case: str, part: str, path: str) -> int:
    """Raise the version of USE_CASE in its version.json."""
    file = Path(path) / "use-cases" / use_case / "version.json"
    if not file.is_file():
        raise UsageError(f"{file}: no such file (is {use_case!r} a use case?)")
    current = json.loads(file.read_text(encoding="utf-8")).get("version", "")
    if not is_semver(str(current)):
        raise UsageError(f"{file}: version {current!r} is not X.Y.Z")
    new = bump(str(current), part)
    file.write_text(json.dumps({"version": new}) + "\n", encoding="utf-8")
    click.echo(f"{use_case}: {current} -> {new}")
    return 0

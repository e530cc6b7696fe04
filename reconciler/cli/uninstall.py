"""`reconciler uninstall INSTANCE --into REPO`: archive an instance through its file.

Archiving is `archived: true` in `instances/<id>.yaml` (the repository format's way;
removing the file would archive too, but loses the parameters a reviewer sees). The
rest of the file, comments included, is kept as written.
"""

from __future__ import annotations

import re

import click
import yaml

from reconciler.cli.install import instances_dir, load_into, write_checked
from reconciler.plan.install import SLUG, Refused

_ARCHIVED = re.compile(r"^archived[ \t]*:.*$", re.MULTILINE)


def archived_text(text: str) -> str:
    """The file's text with `archived: true` at the top level."""
    if _ARCHIVED.search(text):
        return _ARCHIVED.sub("archived: true", text, count=1)
    return text + ("" if text.endswith("\n") or not text else "\n") + "archived: true\n"


@click.command("uninstall")
@click.argument("instance")
@click.option("--into", "into", required=True, metavar="REPO",
              help="The repository working tree holding instances/<id>.yaml.")
def uninstall(instance: str, into: str) -> int:
    """Archive INSTANCE: set `archived: true` in its file (records kept)."""
    if ".owner-" in instance:
        raise Refused(f"{instance} is a use case owner's automatic environment, not a file: "
                      "change the use case's process.owner instead")
    if not SLUG.fullmatch(instance):
        raise Refused(f"{instance!r} is not an instance id (a slug: a-z, 0-9 and -)")
    declared = load_into(into)
    decl = declared.state.instances.get(instance)
    if decl is None:
        raise Refused(f"no instance {instance!r} in {into}/instances/ "
                      "(or its file does not load: run `reconciler validate`)")
    if decl.spec.archived:
        click.echo(f"{decl.path} is archived already")
        return 0
    folder = instances_dir(into)
    name = decl.path.rsplit("/", 1)[-1]
    text = (folder / name).read_text(encoding="utf-8")
    new = archived_text(text)
    try:
        archived = (yaml.safe_load(new) or {}).get("archived") is True
    except yaml.YAMLError:
        archived = False
    if not archived:  # an unusual layout the line edit did not reach: say so, write nothing
        raise Refused(f"{decl.path}: could not set archived: true; edit the file by hand")
    write_checked(into, f"instances/{name}", new, create=False)
    click.echo(f"archived {instance} in {decl.path}; commit it for review")
    return 0

"""`reconciler catalog --for user:ID`: what one user may install."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from reconciler.apply.runtime import Declared, load_declared
from reconciler.cli.output import output_option
from reconciler.errors import UsageError
from reconciler.plan.catalog import Entry, catalog_for
from reconciler.plan.install import Refused, parse_owner
from reconciler.store.db import Store, state_path


def published_versions(declared: Declared, state: str | None) -> dict[str, set[str]]:
    """Published versions per use case: the release tags, and what the state (when
    there is a state file) has published or deprecated. Never makes a state file."""
    found: dict[str, set[str]] = {}
    for slug, version in declared.releases.publications:
        found.setdefault(slug, set()).add(version)
    file = state_path(state)
    if file.is_file():
        store = Store(file)
        try:
            rows = store.conn.execute("SELECT use_case, version FROM templates WHERE status "
                                      "IN ('published', 'deprecated')").fetchall()
        finally:
            store.close()
        for slug, version in rows:
            found.setdefault(str(slug), set()).add(str(version))
    return found


def render_text(user: str, entries: Sequence[Entry]) -> str:
    if not entries:
        return f"user:{user} may install nothing in this repository"
    lines = [f"user:{user} may install {len(entries)} use case(s):"]
    for e in entries:
        published = ", ".join(e.published) or "none yet"
        lines += ["", f"{e.use_case}  {e.title}  ({e.type}, visibility {e.visibility})",
                  f"  {e.description}",
                  f"  versions: branch {e.branch_version}; published: {published}",
                  f"  install as: {', '.join(e.install_as)}"]
        if e.installed:
            lines.append(f"  installed: {', '.join(e.installed)}")
        for r in e.required:
            label = f" - {r.label}" if r.label else ""
            lines.append(f"  requires --param {r.name}=<{r.type}>{label}")
        for c in e.integrations:
            scope = f" ({c.scope})" if c.scope else ""
            lines.append(f"  integration {c.integration}{scope}: {c.whose} credential")
    return "\n".join(lines)


@click.command("catalog")
@click.option("--for", "who", required=True, metavar="user:ID",
              help="The user whose catalogue to list.")
@click.option("--repo", help="Git repository (path or URL); default: a plain folder.")
@click.option("--ref", help="Branch, tag or commit of --repo (default HEAD).")
@click.option("--path", "path", help="A plain folder instead of --repo (default .).")
@click.option("--state", help="SQLite state file (default $RECONCILER_STATE), for the "
                              "versions it has published.")
@output_option("text", "json")
def catalog(who: str, repo: str | None, ref: str | None, path: str | None,
            state: str | None, fmt: str) -> int:
    """List the use cases a user may install, with versions, parameters and integrations."""
    try:
        kind, user = parse_owner(who)
    except Refused as exc:
        raise UsageError(str(exc)) from None
    if kind != "user":
        raise UsageError("catalog lists a user's catalogue: --for user:ID")
    declared = load_declared(repo, ref, path)
    if user not in {u.id for u in declared.state.platform.users}:
        raise UsageError(f"user {user!r} is not declared in platform.yaml")
    entries = catalog_for(declared.state, user, published_versions(declared, state))
    if fmt == "json":
        click.echo(json.dumps({"user": user, "use_cases": [e.as_dict() for e in entries]},
                              indent=2))
    else:
        click.echo(render_text(user, entries))
    return 0

"""Rules that read git: release tags and the versions earlier commits already hold.

They run with `reconciler validate --repo R [--ref REF]` (a plain folder has no
history). The planner holds the same problems from the tags it reads and from the
templates the state already stores.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.load.history import changed_files, earlier_holders
from reconciler.validate.rules.registry import Finding, Layer, Lint, rule

F = Layer.folder


def _tag_problems(lint: Lint, rule_id: str) -> Iterator[Finding]:
    if lint.git is None:
        return
    for p in lint.git.releases.problems:
        if p.rule == rule_id:
            yield Finding(p.file, p.message, hint=p.hint, line=1, field="version")


@rule("TAG-VERSION", F, "must", "A release tag's name agrees with version.json at its commit")
def tag_version(lint: Lint) -> Iterator[Finding]:
    """A tag `<use-case>@<version>` publishes that version of that use case, read at
    the tagged commit. If the commit has no such use case, or its `version.json`
    says another version, nothing is published and the use case is held back until
    the tag is moved or deleted. Checked with `--repo`."""
    yield from _tag_problems(lint, "TAG-VERSION")


@rule("TAG-LOAD", F, "must", "A release tag's use case loads at the tagged commit")
def tag_load(lint: Lint) -> Iterator[Finding]:
    """The use case a release tag names must load at the tagged commit (other use
    cases there may be broken: they do not hold this tag back). Checked with
    `--repo`."""
    yield from _tag_problems(lint, "TAG-LOAD")


@rule("TAG-CONTENT", F, "must",
      "The branch holds the content a release tag published under that version")
def tag_content(lint: Lint) -> Iterator[Finding]:
    """A publication uses the tagged commit's content. When the branch holds other
    content under the same version, the version would mean two things: the
    publication is refused and the use case held back, naming the tag and the files
    that differ. Bump the version on the branch. Checked with `--repo`."""
    if lint.git is None:
        return
    for (slug, version), tagged in sorted(lint.git.releases.contents.items()):
        uc = lint.state.use_cases.get(slug)
        if uc is None or uc.version != version or uc.fingerprint == tagged.fingerprint:
            continue
        yield Finding(f"{uc.path}/version.json",
                      f"tag {slug}@{version} published other content under {version}; "
                      f"these files differ: {', '.join(changed_files(uc, tagged))}",
                      hint=f"bump the version: reconciler version bump {slug} patch",
                      line=1, field="version")


@rule("TEMPLATE-HISTORY", F, "must",
      "Content does not change under a version an earlier commit already holds")
def template_history(lint: Lint) -> Iterator[Finding]:
    """Templates are immutable: once a commit carried `<use-case>@<version>`, a later
    commit with other content under the same version is refused (the daemon may
    already have stored and deployed the first). The planner refuses the same against
    the templates in its state. Checked with `--repo`, over the ref's ancestors."""
    if lint.git is None:
        return
    for uc in lint.state.use_cases.values():
        holders = earlier_holders(lint.git.repo, lint.git.commit, uc)
        if holders:
            commit, old = holders[0]
            yield Finding(f"{uc.path}/version.json",
                          f"{uc.slug}@{uc.version} is already held by commit {commit[:12]} "
                          f"with other content; these files changed: "
                          f"{', '.join(changed_files(uc, old))}",
                          hint=f"bump the version: reconciler version bump {uc.slug} patch",
                          line=1, field="version")


@rule("PIN-KNOWN", F, "must", "A pinned version is the branch's or a released one")
def pin_known(lint: Lint) -> Iterator[Finding]:
    """An instance's `version` pin names a version the reconciler can deploy: the
    branch's own, or one a release tag published. (The daemon also knows the versions
    its state already stores; a pin it cannot find holds the instance back, with what
    is live left running.) Checked with `--repo`."""
    if lint.git is None:
        return
    for inst in lint.state.instances.values():
        uc = lint.state.use_cases.get(inst.spec.use_case)
        pin = inst.spec.version
        if uc is None or pin is None or pin == uc.version:
            continue
        if (uc.slug, pin) not in lint.git.releases.contents:
            released = sorted(v for s, v in lint.git.releases.contents if s == uc.slug)
            yield Finding(inst.path, f"pins {uc.slug} {pin}, which is neither the branch's "
                          f"{uc.version} nor released (tags: {', '.join(released) or 'none'})",
                          ("version",))

"""The cross-file reference checks of `reconciler.validate.references`, as rules.

`check_references` stays the planner's entry point; here each of its rule ids is
registered with its documentation, and reads its share of one cached run.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.validate.rules.registry import Check, Finding, Layer, Lint, rule

_DOCS: dict[str, tuple[str, str]] = {
    "REF-OWNER": (
        "Owners are declared users and organizations, of the right kind",
        "A use case's owner is a member of its declared organization. An instance of a "
        "personal process is owned by a declared user (naming the org when the user is "
        "in several), one of an organizational process by a declared organization."),
    "REF-VISIBILITY": (
        "Visibility lists name declared users and teams",
        "`process.visibility.users` and `.teams` name users and teams of platform.yaml."),
    "REF-USE-CASE": (
        "Instances name an existing use case",
        "An instance's `use_case` is a folder under `use-cases/`."),
    "REF-SHARING": (
        "Instances share with teams of their own organization",
        "`sharing.teams` of an instance are teams of the organization it belongs to."),
    "ACCESS": (
        "Instances are allowed by the process's visibility",
        "private: the owner only; userList/teamList: those listed; organizational: "
        "members of the owner's organization; public: anyone."),
    "PARAMS": (
        "Parameters given are declared, well typed, and every required one is given",
        "Each parameter an instance (or the use case's owner) sets is declared in "
        "use-case.yaml `parameters` with a value of its type; every required parameter "
        "without a default is set by each instance."),
    "SUBWKFL-REFERENCES": (
        "SUBWKFL placeholders name workflows of the same use case",
        "`{{SUBWKFL_<id>_LFKWBUS}}` is replaced by the live id of the use case's "
        "workflow `<id>`; any other name cannot be rendered."),
    "INSTPARM-DECLARED": (
        "Every INSTPARM used is declared",
        "`{{INSTPARM_<NAME>_MRAPTSNI}}` reads deployment parameter `<NAME>`, which "
        "use-case.yaml `parameters` must declare."),
    "SKILL-CONSISTENCY": (
        "Skills name a workflow of their use case, once",
        "A skill's `workflowTemplateId` is a workflow id of its use case, and no two "
        "skills of a use case share a `name`. Front matter shape, the name format "
        "(`^[a-z0-9-]+$`, at most 64 characters) and the description length are "
        "checked when loading (LOAD)."),
}


def _share(rule_id: str) -> Check:
    def check(lint: Lint) -> Iterator[Finding]:
        for p in lint.references:
            if p.rule == rule_id:
                yield Finding(p.file, p.message, hint=p.hint, line=p.line, field=p.field)

    return check


for _id, (_summary, _doc) in _DOCS.items():
    _check = _share(_id)
    _check.__doc__ = _doc
    rule(_id, Layer.folder, "must", _summary)(_check)

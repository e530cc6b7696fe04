"""Who may install a process: the one answer the validator (ACCESS), the catalogue,
`reconciler install` and the API's catalogue share.

It reads only the organizations (members and teams) and the process, so it works on
a loaded repository as well as on what the daemon's state recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler.model.declared import Organization, Process, VisibilityLevel


def may_install(orgs: Sequence[Organization], process: Process, user: str | None,
                org: str | None) -> bool:
    """May this owner hold an instance of `process`?

    `user` is the owner of a user-owned instance (None for an org-owned one); `org` is
    the organization the instance belongs to (a user's own, resolved by the caller).
    """
    vis = process.visibility
    owner = process.owner
    if vis.level is VisibilityLevel.public:
        return True
    if vis.level is VisibilityLevel.organizational:
        return org is not None and org == owner.org
    if vis.level is VisibilityLevel.private:
        return user == owner.user if user else org == owner.org
    if vis.level is VisibilityLevel.userList:
        return user in vis.users if user else False
    # teamList: a member of a listed team of the owner's organization. Team ids are
    # slugs local to an org: another tenant's team of the same name grants nothing.
    for o in orgs:
        if o.id != owner.org:
            continue
        for team in o.teams:
            if team.id in vis.teams and (user in team.members if user else o.id == org):
                return True
    return False


def orgs_of(orgs: Iterable[Organization], user: str) -> list[str]:
    """The organizations a user is a member of, in declaration order."""
    return [o.id for o in orgs if user in {m.user for m in o.members}]

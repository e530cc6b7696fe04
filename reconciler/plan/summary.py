"""What a list of steps does, counted once for plans and run reports alike.

Works on `(kind, detail)` pairs: a planned step's `as_dict()` or a recorded run step's
`detail`, so `reconciler plan` and `reconciler report` count the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.plan import steps as S

WORKFLOW_ACTIONS = ("create", "update", "publish", "unpublish", "archive", "delete")
CREDENTIAL_ACTIONS = ("create", "rotate", "delete")


def _classes() -> dict[str, type[S.Step]]:
    found = {}
    pending = list(S.Step.__subclasses__())
    while pending:
        cls = pending.pop()
        found[cls.kind] = cls
        pending.extend(cls.__subclasses__())
    return found


STEP_CLASSES = _classes()


def writes_n8n(kind: str) -> bool:
    cls = STEP_CLASSES.get(kind)
    return bool(cls and cls.writes_n8n)


def workflow_action(kind: str, detail: dict[str, Any]) -> str | None:
    if kind == "put_workflow":
        return "update" if detail.get("n8n_id") else "create"
    if kind == "archive_workflow":
        return "delete" if detail.get("delete") else "archive"
    return {"publish_workflow": "publish", "unpublish_workflow": "unpublish",
            "delete_stray": "delete"}.get(kind)


def credential_action(kind: str) -> str | None:
    return {"create_credential": "create", "rotate_credential": "rotate",
            "delete_credential": "delete"}.get(kind)


@dataclass
class Counts:
    workflows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WORKFLOW_ACTIONS, 0))
    credentials: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(CREDENTIAL_ACTIONS, 0))
    steps: int = 0
    n8n_writes: int = 0  # steps that write to n8n

    def add(self, kind: str, detail: dict[str, Any]) -> None:
        self.steps += 1
        self.n8n_writes += writes_n8n(kind)
        if (action := workflow_action(kind, detail)) is not None:
            self.workflows[action] += 1
        if (action := credential_action(kind)) is not None:
            self.credentials[action] += 1

    def as_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "n8n_writes": self.n8n_writes,
                "workflows": dict(self.workflows), "credentials": dict(self.credentials)}


@dataclass
class Summary:
    """Totals, per-instance counts (in plan order), and what each instance becomes."""

    total: Counts = field(default_factory=Counts)
    instances: dict[str, Counts] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # SaveInstance details

    def line(self) -> str:
        """The one-line summary every format starts with."""
        t = self.total
        wf = ", ".join(f"{n} to {a}" for a, n in t.workflows.items() if n) or "none"
        cred = ", ".join(f"{n} to {a}" for a, n in t.credentials.items() if n) or "none"
        return (f"{len(self.instances)} instance(s) touched; workflows: {wf}; "
                f"credentials: {cred}; {t.n8n_writes} n8n write(s) in {t.steps} step(s)")

    def as_dict(self) -> dict[str, Any]:
        return {"instances_touched": len(self.instances), **self.total.as_dict(),
                "instances": {i: c.as_dict() for i, c in self.instances.items()}}


def summarize(items: Iterable[tuple[str, str, dict[str, Any]]]) -> Summary:
    """Count `(group, kind, detail)` triples; the empty group is the platform's."""
    out = Summary()
    for group, kind, detail in items:
        out.total.add(kind, detail)
        if group:
            out.instances.setdefault(group, Counts()).add(kind, detail)
            if kind == "save_instance":
                out.records[group] = detail
    return out


def plan_items(steps: Sequence[S.Step]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(s.group, s.kind, s.as_dict()) for s in steps]


def production_impact(items: Sequence[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Sentences for every prod instance the steps take offline, switch or archive."""
    summary = summarize(items)
    dev_active = {d.get("use_case") for _, k, d in items
                  if k == "save_process" and (d.get("record") or {}).get("active_env") == "dev"}
    found: list[str] = []
    for group, counts in summary.instances.items():
        detail = summary.records.get(group, {})
        record = detail.get("record") or {}
        if record.get("environment") != "prod":
            continue
        wf = counts.workflows
        if wf["delete"]:
            found.append(f"`{group}`: {wf['delete']} workflow(s) **deleted**")
        if wf["archive"]:
            found.append(f"`{group}`: {wf['archive']} workflow(s) **archived** (goes offline)")
        if wf["unpublish"]:
            why = ""
            if record.get("use_case") in dev_active:
                why = (f": the branch's new commit makes dev the active environment of "
                       f"`{record.get('use_case')}`; prod stays offline until a release tag "
                       f"`{record.get('use_case')}@<version>` publishes it")
            found.append(f"`{group}`: {wf['unpublish']} workflow(s) **unpublished** "
                         f"(its webhooks and schedules stop){why}")
        previous, version = detail.get("previous_version"), record.get("version")
        if detail.get("deploy_template") and previous and version and previous != version:
            found.append(f"`{group}`: **switches** from {previous} to {version}")
    return found

"""The plan is data: small frozen steps that one interpreter applies and others render.

Steps of one instance share a `group`; the applier treats a group as one unit
(all-or-nothing from the user's side) and goes on with the other groups when one
fails. A step with `after_group` waits on another group: it is held back (skipped,
with the reason) unless that group succeeded and its instance is live; the owner's
dev/prod switch uses it so one side goes down only once the other is up. Values
that only exist after an earlier step ran (the n8n id of a workflow
or credential created in this run) are written as `pending(...)` strings and
resolved by the applier.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

PENDING = "\x00pending:"


def pending(kind: str, key: str) -> str:
    """Stands for an id known only after apply (Terraform's "known after apply")."""
    return f"{PENDING}{kind}:{key}\x00"


@dataclass(frozen=True)
class Step:
    kind: ClassVar[str] = "step"
    writes_n8n: ClassVar[bool] = False
    group: str = ""
    after_group: str = ""  # held back unless this group succeeded and its instance is live

    def target(self) -> str:
        return self.group

    def summary(self) -> str:
        return self.kind

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("body", None)  # bodies are big; the report shows the diff instead
        return {"kind": self.kind, **data}


# --- templates and processes (SQLite only) ------------------------------------------


@dataclass(frozen=True)
class CreateTemplate(Step):
    kind: ClassVar[str] = "create_template"
    use_case: str = ""
    version: str = ""
    fingerprint: str = ""
    revision: str | None = None

    def target(self) -> str:
        return f"{self.use_case}@{self.version}"

    def summary(self) -> str:
        return f"store template {self.use_case}@{self.version} ({self.fingerprint[:19]})"


@dataclass(frozen=True)
class PublishTemplate(Step):
    kind: ClassVar[str] = "publish_template"
    use_case: str = ""
    version: str = ""
    deprecates: str | None = None

    def target(self) -> str:
        return f"{self.use_case}@{self.version}"

    def summary(self) -> str:
        extra = f", deprecate {self.deprecates}" if self.deprecates else ""
        return f"publish template {self.use_case}@{self.version}{extra}"


@dataclass(frozen=True)
class SaveProcess(Step):
    kind: ClassVar[str] = "save_process"
    use_case: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    removed: bool = False  # the use case left the repository: records kept, marked
    access: str = ""  # who gains or loses access (plan.catalog.access_change), if anyone

    def target(self) -> str:
        return self.use_case

    def summary(self) -> str:
        if self.removed:
            return f"mark process {self.use_case} removed (its instances are archived)"
        access = f"; {self.access}" if self.access else ""
        return (f"record process {self.use_case} (active environment "
                f"{self.record['active_env']}){access}")


# --- credentials (n8n + SQLite) -------------------------------------------------------


@dataclass(frozen=True)
class CreateCredential(Step):
    kind: ClassVar[str] = "create_credential"
    writes_n8n: ClassVar[bool] = True
    key: str = ""
    name: str = ""
    type: str = ""
    secret: str = ""  # the SecretKey, as text: where the data comes from (never the data)
    digest: str = ""

    def target(self) -> str:
        return self.key

    def summary(self) -> str:
        return f"create credential {self.name} ({self.type}) from {self.secret}"


@dataclass(frozen=True)
class RotateCredential(Step):
    kind: ClassVar[str] = "rotate_credential"
    writes_n8n: ClassVar[bool] = True
    key: str = ""
    n8n_id: str = ""
    secret: str = ""
    digest: str = ""

    def target(self) -> str:
        return self.key

    def summary(self) -> str:
        return f"rotate credential {self.key} (secret {self.secret} changed)"


@dataclass(frozen=True)
class DeleteCredential(Step):
    kind: ClassVar[str] = "delete_credential"
    writes_n8n: ClassVar[bool] = True
    key: str = ""
    n8n_id: str = ""

    def target(self) -> str:
        return self.key

    def summary(self) -> str:
        return f"delete credential {self.key} (no instance uses it)"


# --- workflows of one instance (n8n + SQLite) ----------------------------------------


@dataclass(frozen=True)
class PutWorkflow(Step):
    """Create a workflow, or update its draft (`publishIfActive=false`)."""

    kind: ClassVar[str] = "put_workflow"
    writes_n8n: ClassVar[bool] = True
    workflow_id: str = ""
    n8n_id: str | None = None  # None: create
    body: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    reason: str = ""  # new | changed | drift | recreate
    diff: list[dict[str, Any]] = field(default_factory=list)  # plan.diff.field_diff

    def target(self) -> str:
        return f"{self.group}/{self.workflow_id}"

    def summary(self) -> str:
        verb = "create" if self.n8n_id is None else "update"
        return f"{verb} workflow {self.target()} ({self.reason})"


@dataclass(frozen=True)
class AdoptWorkflow(Step):
    """Record a live workflow we made but never recorded (a run killed mid-way)."""

    kind: ClassVar[str] = "adopt_workflow"
    writes_n8n: ClassVar[bool] = True  # when it adds the tag
    workflow_id: str = ""
    n8n_id: str = ""
    content_hash: str = ""
    version_id: str | None = None
    tag: bool = False  # it lacks our tag: add it

    def target(self) -> str:
        return f"{self.group}/{self.workflow_id}"

    def summary(self) -> str:
        return f"adopt workflow {self.target()} (n8n {self.n8n_id}, made by an interrupted run)"


@dataclass(frozen=True)
class PublishWorkflow(Step):
    kind: ClassVar[str] = "publish_workflow"
    writes_n8n: ClassVar[bool] = True
    workflow_id: str = ""
    n8n_id: str | None = None  # None: the one PutWorkflow creates in this run

    def target(self) -> str:
        return f"{self.group}/{self.workflow_id}"

    def summary(self) -> str:
        return f"publish workflow {self.target()}"


@dataclass(frozen=True)
class UnpublishWorkflow(Step):
    kind: ClassVar[str] = "unpublish_workflow"
    writes_n8n: ClassVar[bool] = True
    workflow_id: str = ""
    n8n_id: str = ""
    reason: str = ""

    def target(self) -> str:
        return f"{self.group}/{self.workflow_id}"

    def summary(self) -> str:
        return f"unpublish workflow {self.target()} ({self.reason})"


@dataclass(frozen=True)
class ArchiveWorkflow(Step):
    kind: ClassVar[str] = "archive_workflow"
    writes_n8n: ClassVar[bool] = True
    workflow_id: str = ""
    n8n_id: str = ""
    delete: bool = False  # prune: delete after archiving

    def target(self) -> str:
        return f"{self.group}/{self.workflow_id}"

    def summary(self) -> str:
        return f"{'delete' if self.delete else 'archive'} workflow {self.target()}"


@dataclass(frozen=True)
class UnarchiveWorkflow(Step):
    """Bring back an archived workflow we own: n8n refuses to update or publish it."""

    kind: ClassVar[str] = "unarchive_workflow"
    writes_n8n: ClassVar[bool] = True
    workflow_id: str = ""
    n8n_id: str = ""
    live_archived: bool = True  # False: only our record still says archived

    def target(self) -> str:
        return f"{self.group}/{self.workflow_id}"

    def summary(self) -> str:
        return f"unarchive workflow {self.target()} (n8n {self.n8n_id}, instance restored)"


@dataclass(frozen=True)
class DeleteStray(Step):
    """A duplicate of a workflow we own (a killed run made it twice)."""

    kind: ClassVar[str] = "delete_stray"
    writes_n8n: ClassVar[bool] = True
    n8n_id: str = ""
    name: str = ""
    published: bool = False

    def target(self) -> str:
        return self.n8n_id

    def summary(self) -> str:
        return f"delete duplicate workflow {self.name!r} (n8n {self.n8n_id})"


@dataclass(frozen=True)
class ReportDrift(Step):
    """Drift seen but left alone (drift mode `report`)."""

    kind: ClassVar[str] = "report_drift"
    workflow_id: str = ""
    n8n_id: str = ""
    diff: list[dict[str, Any]] = field(default_factory=list)  # plan.diff.field_diff

    def target(self) -> str:
        return f"{self.group}/{self.workflow_id}"

    def summary(self) -> str:
        return f"drift in {self.target()} (reported, not reverted)"


# --- records of one instance (SQLite) ------------------------------------------------


@dataclass(frozen=True)
class SaveInstance(Step):
    """Write the instance record; with a template, a new deployment instance too."""

    kind: ClassVar[str] = "save_instance"
    record: dict[str, Any] = field(default_factory=dict)
    deploy_template: str | None = None  # template id when this run deploys it
    previous_version: str | None = None

    def target(self) -> str:
        return self.group

    def summary(self) -> str:
        rec = self.record
        what = f"state {rec['state']}, version {rec['version'] or '-'}"
        if self.deploy_template:
            what += f", deploy {self.deploy_template}"
        return f"record instance {self.group} ({what})"


@dataclass(frozen=True)
class AddNotice(Step):
    kind: ClassVar[str] = "add_notice"
    notice: str = ""  # update_available | update_failed | missing_integration | ...
    version: str = ""
    message: str = ""

    def target(self) -> str:
        return self.group

    def summary(self) -> str:
        return f"notice for {self.group}: {self.message}"

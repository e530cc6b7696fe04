"""The one interpreter that applies a plan to n8n and SQLite.

Every n8n write is followed at once by the SQLite write that records it, each in
its own transaction, and every step is journaled in `run_steps`. A run killed at
any point converges on the next one: a workflow created but not recorded is found
again by its name and adopted; a credential likewise. The steps of one instance
form a group applied all-or-nothing from the user's side: drafts are saved
without publishing, published in order, and on failure the previous versions are
published again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.adapters.n8n_client import N8nClient
from reconciler.adapters.secrets import SecretKey, SecretSource
from reconciler.apply.gate import held_back
from reconciler.apply.parallel import run_blocks
from reconciler.errors import N8nBadRequest, ReconcilerError, SecretMissing
from reconciler.load.stored import template_payload
from reconciler.model.platform import template_id
from reconciler.model.repository import UseCase
from reconciler.plan import org_errors
from reconciler.plan.inputs import MANAGED_TAG, PlanInput
from reconciler.plan.planner import Plan
from reconciler.plan.steps import (
    PENDING,
    AddNotice,
    AdoptWorkflow,
    ArchiveWorkflow,
    CreateCredential,
    CreateTemplate,
    DeleteCredential,
    DeleteStray,
    PublishTemplate,
    PublishWorkflow,
    PutWorkflow,
    ReportDrift,
    RotateCredential,
    SaveInstance,
    SaveProcess,
    Step,
    UnarchiveWorkflow,
    UnpublishWorkflow,
)
from reconciler.render.error_workflow import error_credential
from reconciler.render.normalize import content_hash, normalize_for_compare
from reconciler.store.db import Store, now
from reconciler.store.state import StateWriter


class RevertNotKept(ReconcilerError):
    """A drift revert was written, but reading the workflow back shows the drift."""


class GroupFailed(Exception):
    def __init__(self, step: Step, cause: ReconcilerError) -> None:
        super().__init__(str(cause))
        self.step = step
        self.cause = cause


@dataclass
class StepResult:
    step: Step
    outcome: str  # applied | failed | skipped | rolled_back
    error: str | None = None
    duration_ms: float = 0.0


@dataclass
class ApplyResult:
    results: list[StepResult] = field(default_factory=list)
    failed_groups: dict[str, str] = field(default_factory=dict)
    held_back: dict[str, str] = field(default_factory=dict)  # group -> why it waited
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed_groups and not self.held_back \
            and not any(r.outcome == "failed" for r in self.results)


@dataclass
class _Group:
    id: str
    published: list[tuple[str, str | None]] = field(default_factory=list)  # (n8n id, prev)
    deployment_id: int | None = None


class Applier:
    def __init__(self, client: N8nClient, store: Store, secrets: SecretSource,
                 hash_key: bytes, inp: PlanInput, run_id: int,
                 stop: threading.Event | None = None,
                 on_step: Callable[[StepResult], None] | None = None,
                 workers: int = 1) -> None:
        self.client = client
        self.store = store
        self.writer = StateWriter(store)
        self.secrets = secrets
        self.hash_key = hash_key
        self.inp = inp
        self.run_id = run_id
        self.stop = stop or threading.Event()
        self.on_step = on_step
        self.wf_ids: dict[str, str] = {}  # "instance/workflow" -> n8n id made this run
        self.cred_ids: dict[str, str] = {k: c.n8n_id for k, c in inp.state.credentials.items()}
        self._tag_id: str | None = None
        self._live_credentials: list[dict[str, Any]] | None = None
        self._seq = 0
        self.workers = workers  # > 1: independent groups concurrently (apply/parallel.py)
        self._journal = threading.Lock()  # one journal sequence across worker threads

    # --- driver ---------------------------------------------------------------------

    def apply(self, plan: Plan) -> ApplyResult:
        result = ApplyResult()
        index = 0
        steps = list(plan.steps)
        if self.workers > 1:
            result.stopped = not run_blocks(
                steps, self.workers, self.stop.is_set, lambda s: self._run(s, result),
                lambda block: self._apply_group(block, result))
            index = len(steps)
        while index < len(steps):
            if self.stop.is_set():
                result.stopped = True
                break
            group = steps[index].group
            end = index + 1
            while group and end < len(steps) and steps[end].group == group:
                end += 1
            if group:
                self._apply_group(steps[index:end], result)
            else:
                self._run(steps[index], result)
            index = end
        if result.results:
            self.writer.bump_version()
        return result

    def _run(self, step: Step, result: ApplyResult) -> bool:
        held = held_back(self.store, [step], result.failed_groups, result.held_back)
        if held is not None:
            self._record(result, StepResult(step, "skipped", held), now())
            return False
        started, t0 = now(), time.perf_counter()
        try:
            self._dispatch(step, None)
        except ReconcilerError as exc:
            self._record(result, StepResult(step, "failed", _safe(exc), _ms(t0)), started)
            return False
        self._record(result, StepResult(step, "applied", None, _ms(t0)), started)
        return True

    def _apply_group(self, steps: list[Step], result: ApplyResult) -> None:
        group = _Group(steps[0].group)
        held = held_back(self.store, steps, result.failed_groups, result.held_back)
        if held is not None:  # left exactly as it is: nothing of it runs
            result.held_back[group.id] = held
            for step in steps:
                self._record(result, StepResult(step, "skipped", held), now())
            return
        save = next((s for s in steps if isinstance(s, SaveInstance)), None)
        if save is not None and save.deploy_template:
            status = "updating" if save.previous_version else "deploying"
            group.deployment_id = self.writer.insert_returning_id(
                "INSERT INTO deployments (instance_id, template_id, status, run_id, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)", group.id, save.deploy_template,
                status, self.run_id, now(), now())
        for position, step in enumerate(steps):
            started, t0 = now(), time.perf_counter()
            try:
                self._dispatch(step, group)
            except ReconcilerError as exc:
                self._record(result, StepResult(step, "failed", _safe(exc), _ms(t0)), started)
                self._fail_group(group, save, step, exc, steps[position + 1:], result)
                return
            self._record(result, StepResult(step, "applied", None, _ms(t0)), started)
        if group.deployment_id is not None:
            self.writer.execute("UPDATE deployments SET status='deployed', updated_at=? "
                                "WHERE id=?", now(), group.deployment_id)

    def _fail_group(self, group: _Group, save: SaveInstance | None, step: Step,
                    exc: ReconcilerError, rest: list[Step], result: ApplyResult) -> None:
        cause = f"{step.summary()}: {_safe(exc)}"
        result.failed_groups[group.id] = cause
        for skipped in rest:
            self._record(result, StepResult(skipped, "skipped", "earlier step failed"), now())
        self._roll_back(group)
        if group.deployment_id is not None:
            self.writer.execute("UPDATE deployments SET status='failed', error=?, updated_at=?"
                                " WHERE id=?", cause, now(), group.deployment_id)
        rec = self.inp.state.instances.get(group.id)
        working = rec is not None and rec.version is not None and rec.state == "active"
        if rec is not None and working and save is not None \
                and save.record.get("version") != rec.version:
            version = str(save.record.get("version"))
            self.writer.add_notice(group.id, "update_failed", version,
                                   f"automatic update to {version} failed; still on "
                                   f"{rec.version}: {cause}")
            return
        record = dict(save.record) if save else (rec.row() if rec is not None else None)
        if record is not None:
            if rec is not None:
                record["version"] = rec.version  # still what it ran before
            record.update(state="deploy_failed", state_detail=cause,
                          created_at=now(), updated_at=now())
            self.writer.upsert("instances", record, "id")

    def _roll_back(self, group: _Group) -> None:
        """Publish again what was live before this group touched it."""
        for n8n_id, previous in reversed(group.published):
            try:
                if previous:
                    self.client.publish_workflow(n8n_id, previous)
                else:
                    self.client.unpublish_workflow(n8n_id)
            except ReconcilerError:
                continue  # best effort: the next run sees the difference and repairs it

    def _record(self, result: ApplyResult, res: StepResult, started: str) -> None:
        with self._journal:
            self._journal_step(result, res, started)

    def _journal_step(self, result: ApplyResult, res: StepResult, started: str) -> None:
        result.results.append(res)
        self._seq += 1
        step = res.step
        self.writer.execute(
            "INSERT INTO run_steps (run_id, seq, kind, instance_id, target, detail, outcome,"
            " error, started_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.run_id, self._seq, step.kind, step.group or None, step.target(),
            json.dumps(step.as_dict(), sort_keys=True, default=str), res.outcome, res.error,
            started, res.duration_ms)
        if self.on_step is not None:
            self.on_step(res)

    # --- steps ----------------------------------------------------------------------

    def _dispatch(self, step: Step, group: _Group | None) -> None:
        handler = getattr(self, f"_do_{step.kind}")
        handler(step, group)

    def _use_case(self, slug: str, version: str) -> UseCase:
        head = self.inp.declared.use_cases.get(slug)
        if head is not None and head.version == version:
            return head
        return self.inp.releases[(slug, version)]

    def _do_create_template(self, step: CreateTemplate, _: _Group | None) -> None:
        uc = self._use_case(step.use_case, step.version)
        row: dict[str, Any] = {
            "id": template_id(step.use_case, step.version), "use_case": step.use_case,
            "version": step.version, "fingerprint": step.fingerprint, "status": "inactive",
            "revision": step.revision, "created_at": now(), **template_payload(uc)}
        self.writer.upsert("templates", row, "id")

    def _do_publish_template(self, step: PublishTemplate, _: _Group | None) -> None:
        with self.store.transaction() as c:
            c.execute("UPDATE templates SET status='deprecated', deprecated_at=? WHERE "
                      "use_case=? AND status='published'", (now(), step.use_case))
            c.execute("UPDATE templates SET status='published', published_at=? WHERE id=?",
                      (now(), template_id(step.use_case, step.version)))

    def _do_save_process(self, step: SaveProcess, _: _Group | None) -> None:
        if step.removed:
            self.writer.execute("UPDATE processes SET removed=1 WHERE use_case=?",
                                step.use_case)
            return
        self.writer.upsert("processes", step.record, "use_case")

    def _secret(self, text: str) -> dict[str, Any]:
        kind, owner, name = text.split(".", 2)
        data = self.secrets.get(SecretKey(kind, owner, name))  # type: ignore[arg-type]
        if data is None and text == org_errors.secret_key(owner):
            data = error_credential(owner, self.hash_key)["data"]
        if data is None:
            raise SecretMissing(f"secret {text} disappeared before it could be used")
        return dict(data)

    def _do_create_credential(self, step: CreateCredential, _: _Group | None) -> None:
        data = self._secret(step.secret)
        if self._live_credentials is None:  # one list per run, only when creating
            self._live_credentials = self.client.list_credentials()
        existing = [c for c in self._live_credentials if c.get("name") == step.name
                    and c.get("type") == step.type]
        if existing:  # made by an interrupted run: adopt, then bring its data up to date
            n8n_id = str(existing[0]["id"])
            self.client.patch_credential(n8n_id, data=data)
        else:
            _check_schema(self.client.credential_schema(step.type), data, step)
            n8n_id = str(self.client.create_credential(step.name, step.type, data)["id"])
        self.cred_ids[step.key] = n8n_id
        self.writer.upsert("credentials", {
            "key": step.key, "n8n_id": n8n_id, "name": step.name, "type": step.type,
            "digest": step.digest, "created_at": now(), "updated_at": now()}, "key")

    def _do_rotate_credential(self, step: RotateCredential, _: _Group | None) -> None:
        self.client.patch_credential(step.n8n_id, data=self._secret(step.secret))
        self.writer.execute("UPDATE credentials SET digest=?, updated_at=? WHERE key=?",
                            step.digest, now(), step.key)

    def _do_delete_credential(self, step: DeleteCredential, _: _Group | None) -> None:
        self.client.delete_credential(step.n8n_id)
        self.writer.execute("DELETE FROM credentials WHERE key=?", step.key)

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        if isinstance(value, str) and PENDING in value:
            return _replace_pending(value, self.wf_ids, self.cred_ids)
        return value

    def _managed_tag(self) -> str:
        if self._tag_id is None:
            self._tag_id = str(self.client.ensure_tag(MANAGED_TAG)["id"])
        return self._tag_id

    def _do_put_workflow(self, step: PutWorkflow, group: _Group | None) -> None:
        body = self._resolve(step.body)
        if step.n8n_id is None:
            # No tag write: the SQLite mapping and the bracketed name identify the
            # workflow (a run killed before the mapping is written finds it by name),
            # so a create is one write, not two.
            created = self.client.create_workflow(body)
            n8n_id = str(created["id"])
            version_id = created.get("versionId")
        else:
            n8n_id = str(self._resolve(step.n8n_id))  # pending: made earlier in this run
            updated = self.client.update_workflow(n8n_id, body, publish_if_active=False)
            version_id = updated.get("versionId")
            if step.reason == "drift":
                self._check_reverted(n8n_id, body)
        self.wf_ids[f"{step.group}/{step.workflow_id}"] = n8n_id
        self.writer.upsert("workflow_mappings", {
            "instance_id": step.group, "workflow_id": step.workflow_id, "n8n_id": n8n_id,
            # Hashed after resolving pending ids: the plan's hash may hold placeholders.
            "content_hash": content_hash(body, ignore_positions=self.inp.defaults.ignore_positions),
            "version_id": version_id,
            "deployment_id": group.deployment_id if group else None, "archived": 0},
            ("instance_id", "workflow_id"))

    def _check_reverted(self, n8n_id: str, body: dict[str, Any]) -> None:
        """One GET: a drift revert that n8n did not keep is a failure, not "applied"."""
        positions = self.inp.defaults.ignore_positions
        back = normalize_for_compare(self.client.get_workflow(n8n_id),
                                     ignore_positions=positions)
        sent = normalize_for_compare(body, ignore_positions=positions)
        if back != sent:
            diff = sorted(k for k, v in sent.items() if back.get(k) != v)
            raise RevertNotKept(f"n8n kept the drifted content of workflow {n8n_id} after "
                                f"the revert (differs in: {', '.join(diff)})")

    def _do_adopt_workflow(self, step: AdoptWorkflow, _: _Group | None) -> None:
        if step.tag:
            self.client.set_workflow_tags(step.n8n_id, [self._managed_tag()])
        self.writer.upsert("workflow_mappings", {
            "instance_id": step.group, "workflow_id": step.workflow_id, "n8n_id": step.n8n_id,
            "content_hash": step.content_hash, "version_id": step.version_id, "archived": 0},
            ("instance_id", "workflow_id"))

    def _n8n_id(self, step: PublishWorkflow) -> str:
        return step.n8n_id or self.wf_ids[f"{step.group}/{step.workflow_id}"]

    def _do_publish_workflow(self, step: PublishWorkflow, group: _Group | None) -> None:
        n8n_id = self._n8n_id(step)
        live = self.inp.observed.workflows.get(n8n_id)
        published = self.client.publish_workflow(n8n_id)
        if group is not None:
            group.published.append((n8n_id, live.active_version_id if live else None))
        version = published.get("activeVersionId") or published.get("versionId")
        self.writer.execute("UPDATE workflow_mappings SET published_version_id=? WHERE "
                            "instance_id=? AND workflow_id=?", version, step.group,
                            step.workflow_id)

    def _do_unpublish_workflow(self, step: UnpublishWorkflow, _: _Group | None) -> None:
        self.client.unpublish_workflow(step.n8n_id)
        self.writer.execute("UPDATE workflow_mappings SET published_version_id=NULL WHERE "
                            "instance_id=? AND workflow_id=?", step.group, step.workflow_id)

    def _do_archive_workflow(self, step: ArchiveWorkflow, _: _Group | None) -> None:
        live = self.inp.observed.workflows.get(step.n8n_id)
        if live is not None and live.published:
            self.client.unpublish_workflow(step.n8n_id)
        self.client.archive_workflow(step.n8n_id)
        if step.delete:
            self.client.delete_workflow(step.n8n_id)
            self.writer.execute("DELETE FROM workflow_mappings WHERE instance_id=? AND "
                                "workflow_id=?", step.group, step.workflow_id)
            return
        self.writer.execute("UPDATE workflow_mappings SET archived=1, published_version_id="
                            "NULL WHERE instance_id=? AND workflow_id=?", step.group,
                            step.workflow_id)

    def _do_unarchive_workflow(self, step: UnarchiveWorkflow, _: _Group | None) -> None:
        if step.live_archived:
            try:
                self.client.unarchive_workflow(step.n8n_id)
            except N8nBadRequest:
                # 400 "not archived": a retried request that had already landed
                if self.client.get_workflow(step.n8n_id).get("isArchived"):
                    raise
        self.writer.execute("UPDATE workflow_mappings SET archived=0 WHERE instance_id=? AND "
                            "workflow_id=?", step.group, step.workflow_id)

    def _do_delete_stray(self, step: DeleteStray, _: _Group | None) -> None:
        if step.published:
            self.client.unpublish_workflow(step.n8n_id)
        self.client.archive_workflow(step.n8n_id)
        self.client.delete_workflow(step.n8n_id)

    def _do_report_drift(self, step: ReportDrift, _: _Group | None) -> None:
        return None  # recorded in run_steps like every step; nothing to change

    def _do_save_instance(self, step: SaveInstance, _: _Group | None) -> None:
        record = dict(step.record)
        record.update(updated_at=now())
        existing = self.store.conn.execute("SELECT created_at FROM instances WHERE id=?",
                                           (step.group,)).fetchone()
        record["created_at"] = existing[0] if existing else now()
        self.writer.upsert("instances", record, "id")
        self._dismiss_resolved(step.group, record)

    def _dismiss_resolved(self, instance_id: str, record: dict[str, Any]) -> None:
        """Notices whose cause is gone: a version arrived, a secret appeared."""
        kinds = []
        if record.get("version"):
            kinds.append("waiting_for_publish")
        if record.get("state") != "missing_integration":
            kinds.append("missing_integration")
        if record.get("state") == "active":
            kinds.append("update_failed")
        for kind in kinds:
            self.writer.execute("UPDATE notices SET dismissed=1 WHERE instance_id=? AND kind=?"
                                " AND dismissed=0", instance_id, kind)
        if record.get("version"):
            # an update that arrived, a held release that was published at last
            rows = self.store.conn.execute(
                "SELECT id, version FROM notices WHERE instance_id=? AND kind IN "
                "('update_available', 'release_held') AND dismissed=0",
                (instance_id,)).fetchall()
            current = _semver(str(record["version"]))
            for notice_id, version in rows:
                if _semver(version) <= current:
                    self.writer.execute("UPDATE notices SET dismissed=1 WHERE id=?", notice_id)

    def _do_add_notice(self, step: AddNotice, _: _Group | None) -> None:
        self.writer.add_notice(step.group, step.notice, step.version, step.message)


def _replace_pending(text: str, wf_ids: dict[str, str], cred_ids: dict[str, str]) -> str:
    out, rest = [], text
    while PENDING in rest:
        head, _, tail = rest.partition(PENDING)
        token, _, rest = tail.partition("\x00")
        kind, _, key = token.partition(":")
        table = wf_ids if kind == "wf" else cred_ids
        if key not in table:
            raise SecretMissing(f"{kind} {key} was not created earlier in this run")
        out.extend([head, table[key]])
    out.append(rest)
    return "".join(out)


def _semver(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return ()


def _check_schema(schema: dict[str, Any], data: dict[str, Any], step: CreateCredential) -> None:
    required = [k for k in schema.get("required", []) if isinstance(k, str)]
    absent = [k for k in required if k not in data]
    if absent:
        raise SecretMissing(f"secret {step.secret} lacks field(s) {', '.join(absent)} that "
                            f"n8n credential type {step.type} requires")


def _safe(exc: ReconcilerError) -> str:
    return f"{type(exc).__name__}: {exc}"


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)

"""One reconcile: gather inputs, plan, apply, log the run. The CLI and daemon call this."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.adapters.n8n_client import N8nClient
from reconciler.adapters.secrets import SecretKey, SecretSource, secret_digest
from reconciler.apply.applier import Applier, ApplyResult, StepResult
from reconciler.apply.observe import observe
from reconciler.errors import PlanError, Problem, ReconcilerError, StateConflict
from reconciler.load.stored import use_case_from_template
from reconciler.model.platform import PlatformState
from reconciler.model.repository import DeclaredState, UseCase, owner_instance_id
from reconciler.plan import org_errors
from reconciler.plan.credentials import SYSTEM_OWNER, template_needs
from reconciler.plan.held import held_lines
from reconciler.plan.inputs import PlanInput
from reconciler.plan.planner import Plan, make_plan
from reconciler.plan.values import BUILT_IN, value_names
from reconciler.render.error_workflow import error_credential
from reconciler.store import ledger
from reconciler.store.db import Store, now
from reconciler.store.smoke import latest_by_version
from reconciler.store.state import StateWriter, snapshot


@dataclass
class RunOutcome:
    run_id: int | None
    plan: Plan | None
    result: ApplyResult | None
    reads: int
    writes: int
    outcome: str  # no_changes | applied | partial | failed | planned | stopped
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def gather_secrets(declared: DeclaredState, releases: Mapping[tuple[str, str], UseCase],
                   state: PlatformState, source: SecretSource, key: bytes) -> dict[str, str]:
    """Digests of every secret any instance could need; never the values themselves."""
    integrations: set[str] = set()
    use_cases = [*declared.use_cases.values(), *releases.values()]
    for uc in use_cases:
        integrations |= {n[1].lower().replace("_", "-") for n in template_needs(uc.workflows)}
    owners: list[tuple[str, str]] = [("system", SYSTEM_OWNER)]
    owners += [("org", o.id) for o in declared.platform.organizations]
    owners += [("user", u.id) for u in declared.platform.users]
    owners += [("instance", i) for i in declared.instances]
    owners += [("instance", i) for i in state.instances]
    digests: dict[str, str] = {}
    for kind, owner in owners:
        for integ in sorted(integrations):
            try:
                secret_key = SecretKey(kind, owner, integ)  # type: ignore[arg-type]
            except ValueError:
                continue
            data = source.get(secret_key)
            if data is not None:
                digests[str(secret_key)] = secret_digest(data, key)
    for org in declared.platform.organizations:  # org error workflows' tokens are derived
        digests.setdefault(org_errors.secret_key(org.id),
                           secret_digest(derived_secret(org.id, key), key))
    return digests


def gather_values(declared: DeclaredState, releases: Mapping[tuple[str, str], UseCase],
                  state: PlatformState, source: SecretSource
                  ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """(member values by user, org values by org) for the MEMSECRT/ORGSECRET names used."""
    names = {"MEMSECRT": set[str](), "ORGSECRET": set[str]()}
    stored = [use_case_from_template(rec) for rec in state.templates.values()]
    for uc in [*declared.use_cases.values(), *releases.values(), *stored]:
        for scope, found in value_names(uc.workflows).items():
            names[scope] |= found
    members = _values(source, "member", [u.id for u in declared.platform.users],
                      names["MEMSECRT"])
    orgs = _values(source, "org", [o.id for o in declared.platform.organizations],
                   names["ORGSECRET"] - BUILT_IN)
    return members, orgs


def _values(source: SecretSource, kind: str, owners: list[str],
            names: set[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for owner in owners:
        for name in sorted(names):
            try:
                data = source.get(SecretKey(kind, owner, name))  # type: ignore[arg-type]
            except ValueError:
                continue
            if data is not None:
                value = data["value"] if set(data) == {"value"} else json.dumps(dict(data))
                out.setdefault(owner, {})[name] = str(value)
    return out


def derived_secret(org: str, key: bytes) -> dict[str, Any]:
    """The data of the org error workflow's credential: a token derived from the key."""
    data: dict[str, Any] = error_credential(org, key)["data"]
    return data


def sync_platform(store: Store, declared: DeclaredState) -> None:
    """Mirror orgs, users, members and teams into SQLite; writes only what changed."""
    platform = declared.platform
    rows: dict[str, list[dict[str, Any]]] = {
        "users": [{"id": u.id, "name": u.name, "email": u.email} for u in platform.users],
        "organizations": [{"id": o.id, "name": o.name} for o in platform.organizations],
        "memberships": [{"org": o.id, "user": m.user, "role": m.role.value}
                        for o in platform.organizations for m in o.members],
        "teams": [{"org": o.id, "id": t.id, "name": t.name,
                   "members": json.dumps(sorted(t.members))}
                  for o in platform.organizations for t in o.teams],
    }
    for table, wanted in rows.items():
        current = store.rows(table)
        key = sorted(json.dumps(r, sort_keys=True) for r in wanted)
        if key != sorted(json.dumps(r, sort_keys=True) for r in current):
            with store.transaction() as c:
                c.execute(f"DELETE FROM {table}")
                for row in wanted:
                    cols = ", ".join(row)
                    marks = ", ".join("?" for _ in row)
                    c.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                              list(row.values()))


@dataclass
class Engine:
    store: Store
    client: N8nClient
    secrets: SecretSource
    hash_key: bytes
    base_url: str
    error_callback: str | None = None  # the daemon's URL as n8n sees it
    stop: threading.Event = field(default_factory=threading.Event)
    on_step: Callable[[StepResult], None] | None = None
    apply_workers: int = 1  # > 1: independent instance groups applied concurrently

    def build_input(self, declared: DeclaredState,
                    publications: frozenset[tuple[str, str]] = frozenset(),
                    releases: dict[tuple[str, str], UseCase] | None = None,
                    release_problems: Sequence[Problem] = ()) -> PlanInput:
        state = snapshot(self.store)
        rel = releases or {}
        members, orgs = gather_values(declared, rel, state, self.secrets)
        return PlanInput(
            declared=declared, state=state,
            observed=observe(self.client,
                             ignore_positions=declared.platform.defaults.ignore_positions),
            publications=publications, releases=rel,
            secrets=gather_secrets(declared, rel, state, self.secrets, self.hash_key),
            n8n_base_url=self.base_url, defaults=declared.platform.defaults,
            error_callback=self.error_callback, member_values=members, org_values=orgs,
            release_problems=tuple(release_problems),
            smoke_results=latest_by_version(self.store, {
                owner_instance_id(slug, "dev"): slug for slug in declared.use_cases}))

    def plan(self, declared: DeclaredState, publications: frozenset[tuple[str, str]] = frozenset(),
             releases: dict[tuple[str, str], UseCase] | None = None,
             release_problems: Sequence[Problem] = ()) -> tuple[Plan, PlanInput]:
        inp = self.build_input(declared, publications, releases, release_problems)
        return make_plan(inp), inp

    def reconcile(self, declared: DeclaredState, *, trigger: str = "cli",
                  publications: frozenset[tuple[str, str]] = frozenset(),
                  releases: dict[tuple[str, str], UseCase] | None = None,
                  release_problems: Sequence[Problem] = (),
                  expect: tuple[int, str] | None = None,
                  extra_summary: dict[str, Any] | None = None) -> RunOutcome:
        """Plan and apply; `expect` = (state version, plan fingerprint) of a saved plan."""
        self.client.counter.reset()
        started = time.perf_counter()
        self.store.mark_interrupted()  # the caller holds the lock: unfinished runs are dead
        writer = StateWriter(self.store)
        run_id = writer.insert_returning_id(
            "INSERT INTO runs (started_at, trigger, revision) VALUES (?, ?, ?)",
            now(), trigger, declared.revision)
        plan: Plan | None = None
        result: ApplyResult | None = None
        try:
            plan, inp = self.plan(declared, publications, releases, release_problems)
            if expect is not None and (plan.state_version, plan.fingerprint()) != expect:
                raise StateConflict("the state or n8n changed since the plan was made; "
                                    "make a new plan")
            # Only once the gate let the platform through: a refused platform.yaml
            # changes nothing in the state either.
            sync_platform(self.store, declared)
            ledger.sync_accounts(self.store, declared.platform)
            result = Applier(self.client, self.store, self.secrets, self.hash_key, inp,
                             run_id, self.stop, self._counting(writer, run_id),
                             workers=self.apply_workers).apply(plan)
            outcome = _outcome(plan, result)
            error = "; ".join([*(f"{g}: {c}" for g, c in [*result.failed_groups.items(),
                                                           *result.held_back.items()]),
                               *held_lines(plan)]) or None
        except PlanError as exc:
            outcome, error = "failed", "; ".join(str(p) for p in exc.problems)
        except ReconcilerError as exc:
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
        counts = self.client.counter.snapshot()
        summary = _summary(plan, result, time.perf_counter() - started)
        summary.update(extra_summary or {})
        if credits := ledger.run_summary(self.store):  # metered or debited accounts only
            summary["usage"] = credits
        writer.execute(
            "UPDATE runs SET finished_at=?, outcome=?, reads=?, writes=?, plan=?, summary=?,"
            " error=? WHERE id=?", now(), outcome, counts["reads"], counts["writes"],
            json.dumps([s.as_dict() for s in plan.steps], default=str) if plan else None,
            json.dumps(summary, sort_keys=True), error, run_id)
        return RunOutcome(run_id, plan, result, counts["reads"], counts["writes"], outcome,
                          error, summary)

    def _counting(self, writer: StateWriter, run_id: int) -> Callable[[StepResult], None]:
        """After each step, the run's row gets the requests so far: a run killed
        mid-way is never recorded with fewer reads and writes than it made."""
        def counted(res: StepResult) -> None:
            counts = self.client.counter.snapshot()
            writer.execute("UPDATE runs SET reads=?, writes=? WHERE id=?",
                           counts["reads"], counts["writes"], run_id)
            if self.on_step is not None:
                self.on_step(res)
        return counted


def _outcome(plan: Plan, result: ApplyResult) -> str:
    if result.stopped:
        return "stopped"
    if result.ok and plan.held:
        return "held"  # what the gate let through is applied; the rest waits for a fix
    if not plan.steps:
        return "no_changes"
    if result.ok:
        return "applied"
    applied = any(r.outcome == "applied" for r in result.results)
    return "partial" if applied else "failed"


def _summary(plan: Plan | None, result: ApplyResult | None, seconds: float) -> dict[str, Any]:
    summary: dict[str, Any] = {"duration_s": round(seconds, 3)}
    if plan is not None:
        kinds: dict[str, int] = {}
        for step in plan.steps:
            kinds[step.kind] = kinds.get(step.kind, 0) + 1
        summary["steps"] = kinds
        summary["drift"] = [s.target() for s in plan.steps
                            if getattr(s, "reason", "") == "drift" or s.kind == "report_drift"]
        if plan.held:
            summary["held"] = [{"kind": k, "id": i,
                                "problems": [f"{p} ({p.rule})" for p in ps]}
                               for k, i, ps in plan.held]
    if result is not None:
        summary["failed"] = result.failed_groups
        summary["held_back"] = result.held_back
        summary["outcomes"] = {o: sum(1 for r in result.results if r.outcome == o)
                               for o in ("applied", "failed", "skipped")}
    return summary

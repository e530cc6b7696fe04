"""Execution tracking: link a record to its n8n execution, read its outcome, walk sub-runs.

A trigger passes the record's UUIDv7 in a header and in the JSON body; the webhook
node's output keeps both, so the n8n execution is the one whose trigger item
carries that id (`analysis.link_id`). Candidates are the workflow's executions that
started after the record (less a little clock skew) and are not linked yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reconciler.adapters.n8n_client import N8nClient
from reconciler.api import analysis
from reconciler.api.prices import PriceTable
from reconciler.api.records import Outcome, Record, Records
from reconciler.errors import N8nNotFound

MAX_DEPTH = 6  # sub-workflow nesting followed
MAX_FETCHES = 40  # n8n reads for one tree
CANDIDATES = 25  # recent executions of the workflow searched for a link
SKEW = timedelta(seconds=5)


@dataclass
class Tree:
    """One n8n execution (with data) and the sub-executions it started."""

    execution: dict[str, Any]
    node: str | None = None  # the calling node in the parent
    children: list[Tree] = field(default_factory=list)

    def walk(self) -> list[Tree]:
        return [self, *(t for child in self.children for t in child.walk())]


def fetch_tree(client: N8nClient, execution: dict[str, Any], *, depth: int = MAX_DEPTH,
               budget: list[int] | None = None) -> Tree:
    left = budget if budget is not None else [MAX_FETCHES]
    tree = Tree(execution)
    if depth <= 0:
        return tree
    for ref in analysis.sub_executions(execution):
        if left[0] <= 0:
            break
        left[0] -= 1
        try:
            child = client.get_execution(ref.execution_id, include_data=True)
        except N8nNotFound:
            continue  # pruned by n8n's execution retention
        sub = fetch_tree(client, child, depth=depth - 1, budget=left)
        sub.node = ref.node
        tree.children.append(sub)
    return tree


def root_cause(tree: Tree) -> Tree:
    """The deepest failed execution along failed sub-calls."""
    for child in tree.children:
        if analysis.status(child.execution) == "failed":
            return root_cause(child)
    return tree


def token_totals(tree: Tree, prices: PriceTable) -> tuple[dict[str, Any], float | None]:
    models: dict[str, dict[str, Any]] = {}
    for part in tree.walk():
        for use in analysis.token_usage(part.execution):
            entry = models.setdefault(use.model, {"prompt": 0, "completion": 0, "total": 0})
            entry["prompt"] += use.prompt
            entry["completion"] += use.completion
            entry["total"] += use.total
    if not models:
        return {}, None
    cost = 0.0
    for model, entry in models.items():
        entry["cost"] = prices.cost(model, entry["prompt"], entry["completion"])
        cost += entry["cost"] or 0.0
    totals = {k: sum(e[k] for e in models.values()) for k in ("prompt", "completion", "total")}
    return {**totals, "models": models}, round(cost, 8)


def outcome_of(tree: Tree, prices: PriceTable) -> Outcome:
    execution = tree.execution
    state = analysis.status(execution)
    if state == "pending":
        return Outcome(status="pending", n8n_execution_id=str(execution.get("id")))
    cause = root_cause(tree).execution
    tokens, cost = token_totals(tree, prices)
    stopped = execution.get("stoppedAt")
    return Outcome(
        status=state, n8n_execution_id=str(execution.get("id")),
        finished_at=_iso(stopped), duration_ms=analysis.duration_ms(execution),
        error_class=analysis.classify(cause) if state == "failed" else None,
        error_name=(str(analysis.main_error(cause).get("name") or "") or None)
        if state == "failed" else None,
        failed_node=analysis.failed_node(execution),
        last_node=analysis.last_successful_node(execution), tokens=tokens, cost=cost)


def _iso(value: Any) -> str | None:
    parsed = analysis.parse_time(value)
    return parsed.isoformat(timespec="milliseconds") if parsed is not None else None


class Tracker:
    def __init__(self, records: Records, client: N8nClient, prices: PriceTable) -> None:
        self.records = records
        self.client = client
        self.prices = prices

    def execution_for(self, record: Record) -> dict[str, Any] | None:
        """The n8n execution (with data) of a record, linking it on first sight."""
        if record.n8n_execution_id:
            try:
                return self.client.get_execution(record.n8n_execution_id, include_data=True)
            except N8nNotFound:
                return None
        if not record.n8n_workflow_id:
            return None
        found = self._discover(record, record.n8n_workflow_id)
        if found is not None:
            self.records.link(record, str(found.get("id")))
        return found

    def _discover(self, record: Record, n8n_workflow_id: str) -> dict[str, Any] | None:
        since = datetime.fromisoformat(record.started_at) - SKEW
        taken = self.records.linked(record.instance_id, n8n_workflow_id)
        listed = self.client.list_executions(workflow_id=n8n_workflow_id, limit=CANDIDATES)
        for summary in reversed(listed):  # oldest first: ours is usually among them
            started = analysis.parse_time(summary.get("startedAt"))
            if str(summary.get("id")) in taken or started is None or started < since:
                continue
            full = self.client.get_execution(str(summary.get("id")), include_data=True)
            if analysis.link_id(full) == record.id:
                return full
        return None

    def refresh(self, record: Record) -> Record:
        """Bring a pending record up to date with n8n (no waiting)."""
        if record.status != "pending":
            return record
        execution = self.execution_for(record)
        if execution is None:
            return self.records.get(record.id, record.instance_id) or record
        outcome = outcome_of(self.tree(execution), self.prices)
        return self.records.finish(record, outcome)

    def tree(self, execution: dict[str, Any]) -> Tree:
        if analysis.status(execution) == "pending":
            return Tree(execution)
        return fetch_tree(self.client, execution)

    def wait(self, record: Record, deadline: float) -> Record:
        interval = 0.2
        while True:
            record = self.refresh(record)
            if record.status != "pending" or time.monotonic() >= deadline:
                return record
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 1.5, 1.0)

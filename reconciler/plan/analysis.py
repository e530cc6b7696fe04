"""What a template is, worked out once: every instance of it reuses the analysis.

A template's placeholders, value names, credential needs, sub-workflow graph and its
topological order belong to the template, not to an instance; the planner used to
derive them again for every instance, which made planning scale with instances times
template size. Templates are immutable per fingerprint, so the analysis is kept per
(use case, folder, fingerprint) for the process's life (bounded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from reconciler.errors import Problem
from reconciler.model.repository import UseCase, WorkflowFile
from reconciler.render.requirements import credential_needs, placeholders

_MAX = 4096  # analyses kept; a process planning more distinct templates starts over


@dataclass(frozen=True)
class TemplateAnalysis:
    order: tuple[str, ...]  # workflow ids, callees before callers (empty on a cycle)
    cycle: Problem | None
    callers: Mapping[str, tuple[str, ...]]  # workflow id -> same-template workflows calling it
    needs: frozenset[tuple[str, str, str]]  # (scope, integration, n8n type) of credentials
    values: Mapping[str, frozenset[str]]  # MEMSECRT / ORGSECRET -> value names


    def ordered(self, uc: UseCase) -> list[WorkflowFile]:
        """This use case's workflow files in `order`."""
        by_id = {wf.spec.id: wf for wf in uc.workflows}
        return [by_id[wid] for wid in self.order]


_CACHE: dict[tuple[str, str, str], TemplateAnalysis] = {}


def analyse(uc: UseCase) -> TemplateAnalysis:
    # Only a content fingerprint names the content: the built-in org error use case
    # has a constant one and differs per org, so it is analysed each time (it is small).
    if not uc.fingerprint.startswith("sha256:"):
        return _analyse(uc)
    key = (uc.slug, uc.path, uc.fingerprint)
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) >= _MAX:
            _CACHE.clear()
        found = _CACHE[key] = _analyse(uc)
    return found


def _analyse(uc: UseCase) -> TemplateAnalysis:
    refs = {wf.spec.id: {ph.body for ph in placeholders(wf) if ph.scope == "SUBWKFL"}
            for wf in uc.workflows}
    order, cycle = _topological(uc, refs)
    own = set(refs)
    callers: dict[str, list[str]] = {wid: [] for wid in own}
    for wid in sorted(own):
        for ref in sorted((refs[wid] & own) - {wid}):
            callers[ref].append(wid)
    values: dict[str, set[str]] = {"MEMSECRT": set(), "ORGSECRET": set()}
    needs: set[tuple[str, str, str]] = set()
    for wf in uc.workflows:
        for ph in placeholders(wf):
            if ph.scope in values:
                values[ph.scope].add(ph.body)
        needs |= {(n.scope, n.integration, n.credential_type) for n in credential_needs(wf)}
    return TemplateAnalysis(
        order=tuple(wf.spec.id for wf in order), cycle=cycle,
        callers=MappingProxyType({k: tuple(v) for k, v in callers.items()}),
        needs=frozenset(needs),
        values=MappingProxyType({k: frozenset(v) for k, v in values.items()}))


def _topological(uc: UseCase, refs: dict[str, set[str]]) -> tuple[list[WorkflowFile],
                                                                  Problem | None]:
    """Callees before callers; a cycle is a problem naming the workflows in it."""
    by_id = {wf.spec.id: wf for wf in uc.workflows}
    deps = {wid: sorted(refs[wid] & set(by_id)) for wid in by_id}
    order: list[WorkflowFile] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(wid: str, trail: list[str]) -> list[str] | None:
        if state.get(wid) == 2:
            return None
        if state.get(wid) == 1:
            return [*trail, wid]
        state[wid] = 1
        for dep in deps[wid]:
            cycle = visit(dep, [*trail, wid])
            if cycle:
                return cycle
        state[wid] = 2
        order.append(by_id[wid])
        return None

    for wid in sorted(by_id):
        cycle = visit(wid, [])
        if cycle:
            return [], Problem(f"{uc.path}/use-case.yaml", "sub-workflow cycle: "
                               + " -> ".join(cycle), rule="SUBWKFL-CYCLE")
    return order, None

"""Planning from a state snapshot alone, for CI that cannot reach production.

The live n8n is assumed to equal what the state file recorded: every mapped workflow
exists with its recorded content hash and published version, every recorded
credential exists, and every recorded secret is unchanged. No n8n call is made and
no secret is read. What this cannot see: hand edits in n8n (drift) and secrets that
changed or appeared since the snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.daemon.records import N8N_URL_KEY, get_meta
from reconciler.errors import Problem
from reconciler.model.platform import PlatformState
from reconciler.model.repository import DeclaredState, UseCase, owner_instance_id
from reconciler.plan.inputs import LiveWorkflow, Observed, PlanInput
from reconciler.plan.offline_diff import with_template_diffs
from reconciler.plan.planner import Plan, make_plan
from reconciler.store.db import Store
from reconciler.store.smoke import latest_by_version
from reconciler.store.state import snapshot


def recorded_observation(state: PlatformState) -> Observed:
    workflows = {
        m.n8n_id: LiveWorkflow(
            id=m.n8n_id, name=f"recorded [{m.instance_id}/{m.workflow_id}]",
            version_id=m.version_id, active_version_id=m.published_version_id,
            archived=m.archived, content_hash=m.content_hash, normalized={})
        for m in state.mappings.values()
    }
    credential_ids = frozenset(c.n8n_id for c in state.credentials.values())
    return Observed(workflows=workflows, credential_ids=credential_ids)


def recorded_secrets(state: PlatformState) -> dict[str, str]:
    """Secret key -> keyed digest, as the credentials were last made (key is secret:type)."""
    return {key.rsplit(":", 1)[0]: rec.digest for key, rec in state.credentials.items()}


def offline_plan(store: Store, declared: DeclaredState,
                 publications: frozenset[tuple[str, str]],
                 releases: Mapping[tuple[str, str], UseCase],
                 base_url: str | None = None,
                 release_problems: Sequence[Problem] = ()) -> Plan:
    state = snapshot(store)
    # The URL the daemon deployed with wins: rendered workflows embed it.
    url = get_meta(store, N8N_URL_KEY) or base_url or ""
    plan = make_plan(PlanInput(
        declared=declared, state=state, observed=recorded_observation(state),
        publications=publications, releases=dict(releases),
        secrets=recorded_secrets(state), n8n_base_url=url,
        defaults=declared.platform.defaults, release_problems=tuple(release_problems),
        smoke_results=latest_by_version(store, {  # the snapshot's results, as the daemon
            owner_instance_id(slug, "dev"): slug for slug in declared.use_cases})))
    return with_template_diffs(plan, state, declared, releases)

"""A generated repository at scale, shared by the benchmarks.

`generate` writes U use cases and N declared instances. The use cases' owner is a user
that owns no declared instance: one instance per owner and environment is a rule
(INSTANCE-UNIQUE), and the owner already has its dev and prod environments.

`applied_state` is the platform state a successful first apply of a plan leaves, made
from the plan's steps alone (no n8n): an offline plan against it is the no-op plan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.load.stored import template_payload
from reconciler.model.platform import (
    InstanceRec,
    MappingRec,
    PlatformState,
    ProcessRec,
    TemplateRec,
    template_id,
)
from reconciler.model.repository import DeclaredState
from reconciler.plan.planner import Plan
from reconciler.plan.steps import (
    AddNotice,
    CreateTemplate,
    PublishTemplate,
    PublishWorkflow,
    PutWorkflow,
    SaveInstance,
    SaveProcess,
)

HOOK = "{{PROCDATA_PROCESS_ID_ATADCORP}}/{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}/run"
OWNER = "owner"
BARE = "@@GREETING@@"  # replaced by the bare placeholder in the file


def workflow(index: int) -> dict[str, Any]:
    return {
        "name": f"Bench {index}",
        "nodes": [
            {"name": "Run", "type": "n8n-nodes-base.webhook", "typeVersion": 2.1,
             "position": [0, 0], "webhookId": f"00000000-0000-4000-8000-{index:012d}",
             "parameters": {"httpMethod": "POST", "path": HOOK, "responseMode": "lastNode",
                            "options": {}}},
            {"name": "Answer", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
             "position": [220, 0],
             "parameters": {"assignments": {"assignments": [
                 {"id": "a", "name": "greeting", "type": "string",
                  "value": BARE}]}, "options": {}}},
        ],
        "connections": {"Run": {"main": [[{"node": "Answer", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1",
                     "errorWorkflow": "{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}"},
    }


def workflow_text(index: int) -> str:
    """The file as written: the parameter bare, so it renders as a JSON value."""
    text = json.dumps(workflow(index), indent=2) + "\n"
    return text.replace(json.dumps(BARE), "{{INSTPARM_GREETING_MRAPTSNI}}")


def generate(root: Path, use_cases: int, instances: int) -> None:
    """U use cases owned by OWNER; instances spread evenly, one per user and use case
    (none: the owners' dev environments alone, one workflow a use case)."""
    per_use_case = max(1, instances // use_cases) if instances else 0
    people = [{"id": OWNER, "name": "Owner", "email": "owner@bench.example"}]
    people += [{"id": f"u{i}", "name": f"User {i}", "email": f"u{i}@bench.example"}
               for i in range(per_use_case)]
    platform = {"users": people, "organizations": [
        {"id": "bench", "name": "Bench", "members": [{"user": p["id"]} for p in people]}]}
    (root / "instances").mkdir(parents=True)
    (root / "platform.yaml").write_text(json.dumps(platform), encoding="utf-8")
    for u in range(use_cases):
        folder = root / "use-cases" / f"uc{u}"
        (folder / "workflows").mkdir(parents=True)
        (folder / "workflows" / "main.json").write_text(workflow_text(u),
                                                         encoding="utf-8")
        (folder / "version.json").write_text('{"version": "1.0.0"}\n', encoding="utf-8")
        config = {
            "process": {"title": f"Bench {u}", "description": "benchmark", "type": "personal",
                        "visibility": {"level": "organizational"},
                        "owner": {"user": OWNER, "org": "bench"}},
            "workflows": [{"id": "main", "file": "workflows/main.json", "name": f"Bench {u}",
                           "triggers": [{"type": "http", "path": "run"}]}],
            "parameters": {"GREETING": {"type": "string", "default": "hello"}},
        }
        (folder / "use-case.yaml").write_text(json.dumps(config), encoding="utf-8")
        for i in range(per_use_case):
            spec = {"use_case": f"uc{u}", "owner": {"user": f"u{i}"},
                    "parameters": {"GREETING": f"hi {i}"}, "environment": "prod"}
            (root / "instances" / f"uc{u}-u{i}.yaml").write_text(json.dumps(spec),
                                                                  encoding="utf-8")


def publications(use_cases: int, version: str = "1.0.0") -> frozenset[tuple[str, str]]:
    return frozenset((f"uc{u}", version) for u in range(use_cases))


def applied_state(plan: Plan, declared: DeclaredState) -> PlatformState:
    """The state a first apply of `plan` records, every step applied (ids made up)."""
    templates: dict[str, TemplateRec] = {}
    processes: dict[str, ProcessRec] = {}
    instances: dict[str, InstanceRec] = {}
    mappings: dict[tuple[str, str], MappingRec] = {}
    notices: set[tuple[str, str, str]] = set()
    for step in plan.steps:
        if isinstance(step, CreateTemplate):
            payload = template_payload(declared.use_cases[step.use_case])
            templates[template_id(step.use_case, step.version)] = TemplateRec(
                id=template_id(step.use_case, step.version), use_case=step.use_case,
                version=step.version, fingerprint=step.fingerprint, status="inactive",
                revision=step.revision, config=payload["config"],
                workflows=json.loads(payload["workflows"]), skills=json.loads(payload["skills"]),
                file_digests=json.loads(payload["file_digests"]))
        elif isinstance(step, PublishTemplate):
            key = template_id(step.use_case, step.version)
            rec = templates[key]
            templates[key] = TemplateRec(**{**rec.__dict__, "status": "published"})
        elif isinstance(step, SaveProcess):
            processes[step.use_case] = ProcessRec(
                use_case=step.use_case, active_env=step.record["active_env"], removed=False)
        elif isinstance(step, PutWorkflow):
            n8n_id = f"w{len(mappings):07d}"
            mappings[(step.group, step.workflow_id)] = MappingRec(
                instance_id=step.group, workflow_id=step.workflow_id, n8n_id=n8n_id,
                content_hash=step.content_hash, version_id="v1", published_version_id=None,
                archived=False)
        elif isinstance(step, PublishWorkflow):
            m = mappings[(step.group, step.workflow_id)]
            mappings[(step.group, step.workflow_id)] = MappingRec(
                **{**m.__dict__, "published_version_id": m.version_id})
        elif isinstance(step, SaveInstance):
            r = step.record
            instances[r["id"]] = InstanceRec(
                id=r["id"], use_case=r["use_case"], owner_user=r["owner_user"],
                owner_org=r["owner_org"], environment=r["environment"],
                automatic=bool(r["automatic"]), version=r["version"], pinned=bool(r["pinned"]),
                active=bool(r["active"]), state=r["state"], state_detail=r["state_detail"],
                sharing=r["sharing"], parameters=r["parameters"])
        elif isinstance(step, AddNotice):
            notices.add((step.group, step.notice, step.version))
    return PlatformState(version=1, processes=processes, templates=templates,
                         instances=instances, mappings=mappings, notices=frozenset(notices))

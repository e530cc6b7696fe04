"""Use-case folder rules: use-case.yaml, the workflow files and skills agree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconciler.model.declared import (
    DataIngestionTrigger,
    FieldType,
    HttpTrigger,
    ScheduleTrigger,
    ServiceEventTrigger,
    SubworkflowTrigger,
)
from reconciler.model.placeholders import find_placeholders
from reconciler.model.repository import UseCase, WorkflowFile
from reconciler.render.context import integration_key
from reconciler.validate.rules import n8n
from reconciler.validate.rules.cron import cron_error
from reconciler.validate.rules.jsontext import json_fix
from reconciler.validate.rules.n8n import shown as _shown
from reconciler.validate.rules.registry import Finding, FixContext, Layer, Lint, rule
from reconciler.validate.rules.yamledit import set_list

F = Layer.folder


def config_file(uc: UseCase) -> str:
    return f"{uc.path}/use-case.yaml"


def calls(wf: WorkflowFile) -> list[str]:
    """Template ids this workflow calls through SUBWKFL placeholders, in order."""
    found: list[str] = []
    for _, text in n8n.strings(wf.content):
        for ph in find_placeholders(text):
            if ph.scope == "SUBWKFL" and ph.suffix_ok and ph.body not in found:
                found.append(ph.body)
    return found


def _ids(uc: UseCase) -> dict[str, int]:
    return {wf.spec.id: i for i, wf in enumerate(uc.workflows)}


@rule("SUBWKFL-CALLABLE", F, "must", "A workflow called as a sub-workflow declares a "
      "subworkflow trigger")
def subwkfl_callable(lint: Lint) -> Iterator[Finding]:
    """A SUBWKFL placeholder must name a workflow that can be called: one whose
    use-case.yaml entry declares a `subworkflow` trigger (and so has an Execute
    Workflow Trigger node). Unknown names are SUBWKFL-REFERENCES'."""
    for uc in lint.state.use_cases.values():
        by_id = {wf.spec.id: wf for wf in uc.workflows}
        for wf in uc.workflows:
            for callee in calls(wf):
                target = by_id.get(callee)
                if target and not any(isinstance(t, SubworkflowTrigger)
                                      for t in target.spec.triggers):
                    yield Finding(wf.path, f"calls {callee!r}, which declares no subworkflow "
                                  "trigger", line=_line(wf.text, f"SUBWKFL_{callee}_"))


def _line(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _cycles(uc: UseCase) -> list[list[str]]:
    graph = {wf.spec.id: calls(wf) for wf in uc.workflows}
    found: list[list[str]] = []

    def walk(node: str, trail: list[str]) -> None:
        for nxt in graph.get(node, []):
            if nxt in trail:
                cycle = trail[trail.index(nxt):]
                turn = cycle.index(min(cycle))
                canonical = cycle[turn:] + cycle[:turn]
                if canonical not in found:
                    found.append(canonical)
            elif nxt in graph:
                walk(nxt, [*trail, nxt])

    for start in graph:
        walk(start, [start])
    return found


@rule("SUBWKFL-CYCLE", F, "must", "Sub-workflow calls do not form a cycle")
def subwkfl_cycle(lint: Lint) -> Iterator[Finding]:
    """Sub-workflows are deployed before their callers, which needs an order: a
    workflow that calls itself, directly or through others, has none."""
    for uc in lint.state.use_cases.values():
        for cycle in _cycles(uc):
            index = _ids(uc)[cycle[0]]
            yield Finding(config_file(uc), "sub-workflow cycle: " + " -> ".join(
                [*cycle, cycle[0]]), ("workflows", index, "id"))


def _callers(uc: UseCase) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {wf.spec.id: [] for wf in uc.workflows}
    for wf in uc.workflows:
        for callee in calls(wf):
            if callee in found:
                found[callee].append(wf.spec.id)
    return found


def _fix_called_by(text: str, ctx: FixContext) -> str:
    """Set each subworkflow trigger's called_by to the workflows that call it."""
    uc = ctx.lint.use_case_of(ctx.file)
    if uc is None:
        return text
    callers = _callers(uc)
    for i, wf in enumerate(uc.workflows):
        for j, trigger in enumerate(wf.spec.triggers):
            if isinstance(trigger, SubworkflowTrigger) and set(trigger.called_by) != set(
                    callers[wf.spec.id]):
                text = set_list(text, ("workflows", i, "triggers", j, "called_by"),
                                callers[wf.spec.id], after="type")
    return text


@rule("CALLEDBY-CONSISTENCY", F, "should",
      "called_by lists exactly the workflows that call the sub-workflow", fix=_fix_called_by)
def called_by(lint: Lint) -> Iterator[Finding]:
    """`called_by` of a subworkflow trigger documents who calls it (agents and
    readers rely on it); it must be the set of workflows whose files hold its
    SUBWKFL placeholder. The fix rewrites the list in use-case.yaml."""
    for uc in lint.state.use_cases.values():
        callers = _callers(uc)
        for i, wf in enumerate(uc.workflows):
            for j, trigger in enumerate(wf.spec.triggers):
                if not isinstance(trigger, SubworkflowTrigger):
                    continue
                real = callers[wf.spec.id]
                if set(trigger.called_by) != set(real):
                    yield Finding(config_file(uc), f"{wf.spec.id}: called_by "
                                  f"{trigger.called_by} but it is called by {real}",
                                  ("workflows", i, "triggers", j, "called_by"))


def _credential_integrations(wf: WorkflowFile) -> list[str]:
    found: list[str] = []
    for node in n8n.nodes(wf):
        creds = node.data.get("credentials")
        for ref in creds.values() if isinstance(creds, dict) else ():
            for value in ref.values() if isinstance(ref, dict) else ():
                for ph in find_placeholders(value) if isinstance(value, str) else []:
                    part = ph.credential_part
                    if part and ph.suffix_ok:
                        name = part[0].lower().replace("_", "-")
                        if name not in found:
                            found.append(name)
    return found


def _has(declared: list[str], name: str) -> bool:
    return integration_key(name) in {integration_key(d) for d in declared}


def _wanted(uc: UseCase) -> dict[str, list[str]]:
    """Integrations each workflow should declare: its own, its credentials', and
    (transitively) those of the sub-workflows it calls. Order: declared first."""
    by_id = {wf.spec.id: wf for wf in uc.workflows}
    memo: dict[str, list[str]] = {}

    def wanted(wf_id: str, trail: tuple[str, ...]) -> list[str]:
        if wf_id in memo:
            return memo[wf_id]
        wf = by_id[wf_id]
        result = list(wf.spec.integrations)
        extra = _credential_integrations(wf)
        for callee in calls(wf):
            if callee in by_id and callee not in trail:
                extra += wanted(callee, (*trail, callee))
        for name in extra:
            if not _has(result, name):
                result.append(name)
        memo[wf_id] = result
        return result

    return {wf_id: wanted(wf_id, (wf_id,)) for wf_id in by_id}


def _fix_integrations(text: str, ctx: FixContext) -> str:
    """Declare the integrations each workflow and the use case need."""
    uc = ctx.lint.use_case_of(ctx.file)
    if uc is None:
        return text
    wanted = _wanted(uc)
    for i, wf in enumerate(uc.workflows):
        if wanted[wf.spec.id] != list(wf.spec.integrations):
            text = set_list(text, ("workflows", i, "integrations"), wanted[wf.spec.id],
                            after="name")
    total = list(uc.config.integrations)
    for names in wanted.values():
        total += [n for n in names if not _has(total, n)]
    if total != list(uc.config.integrations):
        text = set_list(text, ("integrations",), total)
    return text


@rule("INTEGRATION-CREDENTIALS", F, "should",
      "A workflow declares the integrations of its credentials", fix=_fix_integrations)
def integration_credentials(lint: Lint) -> Iterator[Finding]:
    """Each credential placeholder names an integration (`{{ORGCRED_SLACK_ID_...}}`
    is `slack`); the workflow's `integrations` list in use-case.yaml names it too,
    so installers see what must be connected. The fix adds it."""
    for uc in lint.state.use_cases.values():
        for i, wf in enumerate(uc.workflows):
            for name in _credential_integrations(wf):
                if not _has(wf.spec.integrations, name):
                    yield Finding(config_file(uc), f"{wf.spec.id} uses a {name!r} credential "
                                  "but does not list the integration",
                                  ("workflows", i, "integrations"))


@rule("INTEGRATION-INHERITANCE", F, "should",
      "A workflow declares the integrations of the sub-workflows it calls",
      fix=_fix_integrations)
def integration_inheritance(lint: Lint) -> Iterator[Finding]:
    """Running a workflow runs its sub-workflows, so it needs their integrations
    too (transitively). The fix adds the missing ones to its `integrations`."""
    for uc in lint.state.use_cases.values():
        wanted = _wanted(uc)
        by_id = {wf.spec.id: wf for wf in uc.workflows}
        for i, wf in enumerate(uc.workflows):
            for callee in calls(wf):
                if callee not in by_id:
                    continue
                missing = [n for n in wanted[callee] if not _has(wf.spec.integrations, n)]
                if missing:
                    yield Finding(config_file(uc), f"{wf.spec.id} calls {callee}, which needs "
                                  f"{missing}", ("workflows", i, "integrations"))


@rule("INTEGRATION-USE-CASE", F, "should",
      "The use case declares every integration its workflows declare",
      fix=_fix_integrations)
def integration_use_case(lint: Lint) -> Iterator[Finding]:
    """The use case's top-level `integrations` is what an installer connects before
    installing: the union of its workflows' integrations. The fix adds the
    missing ones."""
    for uc in lint.state.use_cases.values():
        for wf in uc.workflows:
            for name in wf.spec.integrations:
                if not _has(uc.config.integrations, name):
                    yield Finding(config_file(uc), f"integration {name!r} of {wf.spec.id} is "
                                  "not in the use case's integrations", ("integrations",))


def _kind(node: n8n.Node) -> str:
    kinds = {n8n.WEBHOOK: "http", n8n.SCHEDULE: "schedule", n8n.CRON_NODE: "schedule",
             "n8n-nodes-base.interval": "schedule", n8n.EXEC_TRIGGER: "subworkflow",
             n8n.MANUAL: "manual", n8n.ERROR_TRIGGER: "error"}
    return kinds.get(node.type, "service_event")


# A data-ingestion workflow starts from its embed/delete webhooks.
_DECLARED = {HttpTrigger: "http", ScheduleTrigger: "schedule",
             ServiceEventTrigger: "service_event", SubworkflowTrigger: "subworkflow",
             DataIngestionTrigger: "http"}


@rule("TRIGGER-TYPE-CONSISTENCY", F, "must",
      "Declared trigger types match the workflow's trigger nodes")
def trigger_types(lint: Lint) -> Iterator[Finding]:
    """Each declared trigger has a node of its kind (http: Webhook; schedule:
    Schedule Trigger; subworkflow: Execute Workflow Trigger; service_event: a
    service's trigger node) and each trigger node is declared. A Webhook next to a
    schedule with `manual_trigger_path` is that schedule's manual run."""
    for uc in lint.state.use_cases.values():
        for i, wf in enumerate(uc.workflows):
            declared = {_DECLARED[type(t)] for t in wf.spec.triggers}
            if any(isinstance(t, ScheduleTrigger) and t.manual_trigger_path
                   for t in wf.spec.triggers):
                declared.add("http")
            nodes = {node.name: _kind(node) for node in n8n.Graph.of(wf).triggers()}
            for j, trigger in enumerate(wf.spec.triggers):
                kind = _DECLARED[type(trigger)]
                if kind not in nodes.values():
                    yield Finding(config_file(uc), f"{wf.spec.id} declares a {kind} trigger "
                                  f"but {wf.spec.file} has no such trigger node",
                                  ("workflows", i, "triggers", j, "type"))
            for name, kind in nodes.items():
                if kind not in declared and kind != "manual":
                    yield Finding(wf.path, f"trigger node {name!r} ({kind}) is not declared "
                                  "in use-case.yaml", _node_path(wf, name))


def _node_path(wf: WorkflowFile, name: str) -> tuple[str | int, ...]:
    return next((n.path for n in n8n.nodes(wf) if n.name == name), ("nodes",))


def _slug(node: n8n.Node) -> str:
    return str(node.params.get("path", "")).rstrip("/").rsplit("/", 1)[-1]


@rule("WEBHOOK-PATH-CONSISTENCY", F, "must",
      "Declared webhook paths and methods match the Webhook nodes")
def webhook_paths(lint: Lint) -> Iterator[Finding]:
    """An http trigger's `path` (and a schedule's `manual_trigger_path`) is the last
    segment of a Webhook node's path, with the declared method; every Webhook node
    has a declared path (a data_ingestion trigger's `embed_path` and `delete_path`
    count as declared). The URLs given to agents come from use-case.yaml."""
    for uc in lint.state.use_cases.values():
        for i, wf in enumerate(uc.workflows):
            hooks = {_slug(n): n for n in n8n.nodes(wf) if n.type == n8n.WEBHOOK}
            declared: dict[str, str | None] = {}
            for j, t in enumerate(wf.spec.triggers):
                where = ("workflows", i, "triggers", j)
                if isinstance(t, DataIngestionTrigger):
                    # Either webhook may be absent (a folder may embed only).
                    declared.update({p: None for p in (t.embed_path, t.delete_path) if p})
                    continue
                slug = t.path if isinstance(t, HttpTrigger) else (
                    t.manual_trigger_path if isinstance(t, ScheduleTrigger) else None)
                if slug is None:
                    continue
                declared[slug] = t.method if isinstance(t, HttpTrigger) else None
                node = hooks.get(slug)
                if node is None:
                    yield Finding(config_file(uc), f"no Webhook node of {wf.spec.file} ends its "
                                  f"path with {slug!r}", where)
                elif declared[slug] and node.params.get("httpMethod", "GET") != declared[slug]:
                    yield Finding(wf.path, f"webhook {node.name!r} method "
                                  f"{node.params.get('httpMethod', 'GET')!r} is declared as "
                                  f"{declared[slug]!r}", (*node.path, "parameters", "httpMethod"))
            for slug, node in hooks.items():
                if slug not in declared:
                    yield Finding(wf.path, f"webhook {node.name!r} path ends with {slug!r}, "
                                  "which use-case.yaml does not declare",
                                  (*node.path, "parameters", "path"))


def _schedules(uc: UseCase) -> Iterator[tuple[int, WorkflowFile, int, ScheduleTrigger]]:
    for i, wf in enumerate(uc.workflows):
        for j, t in enumerate(wf.spec.triggers):
            if isinstance(t, ScheduleTrigger):
                yield i, wf, j, t


@rule("SCHEDULE-CRON", F, "must", "Schedule triggers have a valid cron expression")
def schedule_cron(lint: Lint) -> Iterator[Finding]:
    """`cron` has five fields (minute 0-59, hour 0-23, day of month 1-31, month
    1-12 or JAN-DEC, day of week 0-7 or SUN-SAT), each a `*`, value, range or list
    with an optional `/step`."""
    for uc in lint.state.use_cases.values():
        for i, _, j, trigger in _schedules(uc):
            error = cron_error(trigger.cron)
            if error:
                yield Finding(config_file(uc), f"cron {trigger.cron!r}: {error}",
                              ("workflows", i, "triggers", j, "cron"))


def _node_crons(node: n8n.Node) -> list[str] | None:
    rule_ = node.params.get("rule")
    items = rule_.get("interval") if isinstance(rule_, dict) else None
    if not isinstance(items, list) or not items:
        return None
    crons = [it.get("expression") for it in items
             if isinstance(it, dict) and it.get("field") == "cronExpression"]
    return [str(c) for c in crons] if len(crons) == len(items) else None


@rule("SCHEDULE-FIELDS", F, "must",
      "Schedule nodes run the declared cron, in a real time zone")
def schedule_fields(lint: Lint) -> Iterator[Finding]:
    """The Schedule Trigger node uses cron intervals (`field: cronExpression`) whose
    expressions are the declared `cron`, so the schedule shown to users is the one
    that runs; the declared `timezone` is an IANA zone name."""
    for uc in lint.state.use_cases.values():
        for i, _, j, trigger in _schedules(uc):
            try:
                ZoneInfo(trigger.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                yield Finding(config_file(uc), f"unknown time zone {trigger.timezone!r}",
                              ("workflows", i, "triggers", j, "timezone"))
        for wf in uc.workflows:
            crons = {t.cron for t in wf.spec.triggers if isinstance(t, ScheduleTrigger)}
            for node in n8n.nodes(wf) if crons else ():
                if node.type != n8n.SCHEDULE:
                    continue
                used = _node_crons(node)
                if used is None or not set(used) <= crons:
                    yield Finding(wf.path, f"schedule node {node.name!r} does not run the "
                                  f"declared cron {sorted(crons)}",
                                  (*node.path, "parameters", "rule"))


def _timezone_of(uc: UseCase, wf: WorkflowFile) -> str | None:
    zones = {t.timezone for t in wf.spec.triggers if isinstance(t, ScheduleTrigger)}
    return zones.pop() if len(zones) == 1 else None


def _fix_timezone(text: str, ctx: FixContext) -> str:
    """Set settings.timezone to the declared schedule time zone."""
    uc = ctx.lint.use_case_of(ctx.file)
    wf = ctx.lint.workflow_at(ctx.file)
    zone = _timezone_of(uc, wf) if uc and wf else None
    if zone is None:
        return text

    @json_fix
    def change(content: dict[str, Any], _: FixContext) -> None:
        settings = content.setdefault("settings", {})
        if isinstance(settings, dict):
            settings["timezone"] = zone

    return change(text, ctx)


@rule("SCHEDULE-TIMEZONE", F, "must",
      "A scheduled workflow runs in its declared time zone", fix=_fix_timezone)
def schedule_timezone(lint: Lint) -> Iterator[Finding]:
    """n8n evaluates a schedule in the workflow's `settings.timezone`, else in the
    server's default zone: without it "every weekday at 8:00" fires at 8:00
    somewhere else. The fix sets `settings.timezone` to the declared zone."""
    for uc in lint.state.use_cases.values():
        for wf in uc.workflows:
            zones = {t.timezone for t in wf.spec.triggers if isinstance(t, ScheduleTrigger)}
            value = n8n.settings(wf).get("timezone")
            if zones and (not isinstance(value, str) or value not in zones):
                yield Finding(wf.path, f"settings.timezone is {_shown(value)}, not the declared "
                              f"{' or '.join(sorted(zones))}", ("settings",))


_N8N_TYPES = {
    "string": {FieldType.string, FieldType.text, FieldType.date, FieldType.select,
               FieldType.radio, FieldType.file},
    "number": {FieldType.number},
    "boolean": {FieldType.boolean},
    "array": {FieldType.array, FieldType.multiselect, FieldType.objectArray},
    "object": {FieldType.object, FieldType.section},
}


@rule("SCHEMA-TYPES", F, "must",
      "Sub-workflow input types agree with the declared input_schema")
def schema_types(lint: Lint) -> Iterator[Finding]:
    """An Execute Workflow Trigger input typed `number` while use-case.yaml says
    `string` converts (or rejects) what callers send. Each input's n8n type fits
    its declared field type (`any` fits all)."""
    for uc in lint.state.use_cases.values():
        for wf in uc.workflows:
            schema = next((t.input_schema for t in wf.spec.triggers
                           if isinstance(t, SubworkflowTrigger)), {})
            for node in n8n.nodes(wf):
                if node.type != n8n.EXEC_TRIGGER:
                    continue
                block = node.params.get("workflowInputs")
                values = block.get("values") if isinstance(block, dict) else None
                for k, item in enumerate(values if isinstance(values, list) else []):
                    if not isinstance(item, dict):
                        continue
                    name, kind = item.get("name"), item.get("type", "string")
                    spec = schema.get(str(name))
                    if spec is None or kind == "any":
                        continue
                    if spec.type not in _N8N_TYPES.get(str(kind), set()):
                        yield Finding(wf.path, f"input {name!r} is {kind!r} in n8n but "
                                      f"{spec.type.value!r} in use-case.yaml",
                                      (*node.path, "parameters", "workflowInputs", "values", k,
                                       "type"))


@rule("PARAMS-UNUSED", F, "should", "Every declared parameter is used by a workflow")
def params_unused(lint: Lint) -> Iterator[Finding]:
    """A deployment parameter no workflow reads (no INSTPARM placeholder) still has
    to be filled in by every installer. Use it or remove it."""
    for uc in lint.state.use_cases.values():
        used = {ph.body for wf in uc.workflows for ph in find_placeholders(wf.text)
                if ph.scope == "INSTPARM"}
        for name in uc.config.parameters:
            if name not in used:
                yield Finding(config_file(uc), f"parameter {name!r} is used by no workflow",
                              ("parameters", name))


@rule("SKILL-STRUCTURE", F, "should",
      "A skill's folder is named after it and its body explains it")
def skill_structure(lint: Lint) -> Iterator[Finding]:
    """`skills/<name>/SKILL.md` has `name: <name>` (agents find skills by folder and
    by name) and a body below the front matter telling an agent how to call the
    workflow and what comes back."""
    for uc in lint.state.use_cases.values():
        for skill in uc.skills:
            if skill.front.name != skill.name:
                yield Finding(skill.path, f"front matter name {skill.front.name!r} differs from "
                              f"the folder {skill.name!r}", ("name",))
            if not skill.body.strip():
                yield Finding(skill.path, "the skill has no body after its front matter",
                              line=skill.text.count("\n") + 1)


def _semver(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


@rule("VERSION-PIN", F, "must", "Instances pin versions that exist")
def version_pin(lint: Lint) -> Iterator[Finding]:
    """A pin newer than the use case's `version.json` names a version this
    revision cannot publish. (version.json itself must be `X.Y.Z`: the loader
    enforces it.)"""
    for inst in lint.state.instances.values():
        uc = lint.state.use_cases.get(inst.spec.use_case)
        pin = inst.spec.version
        if uc is not None and pin is not None and _semver(pin) > _semver(uc.version):
            yield Finding(inst.path, f"pins {pin}, newer than {uc.slug}'s {uc.version}",
                          ("version",))

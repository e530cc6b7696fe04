"""Platform rules: patterns our platform relies on to run one workflow per installation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reconciler.model.declared import ProcessType, SubworkflowTrigger
from reconciler.model.placeholders import find_placeholders
from reconciler.validate.rules import n8n
from reconciler.validate.rules.jsontext import json_fix, node_dicts, text_of
from reconciler.validate.rules.n8n import shown as _shown
from reconciler.validate.rules.registry import Finding, FixContext, Layer, Lint, rule
from reconciler.validate.webhooks import (
    INSTANCE_UID,
    PATH_NODES,
    PROCESS_ID,
    namespace_problem,
    path_nodes,
)

P = Layer.platform
ERROR_WORKFLOW = "{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}"


def declared_inputs(node: n8n.Node) -> list[str] | None:
    """Input names a sub-workflow trigger declares; None when it accepts anything."""
    params = node.params
    source = params.get("inputSource", "workflowInputs")
    if source == "jsonExample":
        return ["(json example)"] if params.get("jsonExample") else []
    if source != "workflowInputs":
        return None
    block = params.get("workflowInputs")
    values = block.get("values") if isinstance(block, dict) else None
    if not isinstance(values, list):
        return []
    return [str(v.get("name")) for v in values if isinstance(v, dict)]


@rule("PLATFORM-SUBWORKFLOW-INPUTS", P, "must",
      "Sub-workflow triggers declare their inputs, as use-case.yaml does")
def subworkflow_inputs(lint: Lint) -> Iterator[Finding]:
    """An Execute Workflow Trigger must list its inputs (`inputSource:
    workflowInputs` with at least one value), so callers and agents know what to
    send; "accept all data" hides the contract. The names must be those of the
    declared subworkflow trigger's `input_schema`."""
    for _, wf in lint.workflows():
        declared = [t for t in wf.spec.triggers if isinstance(t, SubworkflowTrigger)]
        for node in n8n.Graph.of(wf).triggers():
            if node.type != n8n.EXEC_TRIGGER:
                continue
            names = declared_inputs(node)
            where = (*node.path, "parameters")
            if not names:
                yield Finding(wf.path, f"sub-workflow trigger {node.name!r} declares no "
                              "inputs", where, "set inputSource 'workflowInputs' and list them")
            elif declared and "(json example)" not in names:
                schema = set(declared[0].input_schema)
                if set(names) != schema:
                    yield Finding(wf.path, f"sub-workflow trigger {node.name!r} inputs "
                                  f"{sorted(names)} differ from use-case.yaml input_schema "
                                  f"{sorted(schema)}", (*where, "workflowInputs"))


@rule("PLATFORM-SCHEDULE-MANUAL", P, "must",
      "A scheduled workflow has a webhook converging on the same node")
def schedule_manual(lint: Lint) -> Iterator[Finding]:
    """Members and agents must be able to run scheduled work on demand: next to each
    Schedule Trigger, a Webhook trigger leads into the same first node, so a manual
    run does exactly what the schedule does."""
    for _, wf in lint.workflows():
        graph = n8n.Graph.of(wf)
        hooks = [n for n in graph.triggers() if n.type == n8n.WEBHOOK]
        for node in graph.triggers():
            if node.type not in (n8n.SCHEDULE, n8n.CRON_NODE):
                continue
            firsts = set(graph.main_out(node.name))
            if not any(firsts & set(graph.main_out(h.name)) for h in hooks):
                yield Finding(wf.path, f"schedule trigger {node.name!r} has no webhook "
                              "leading into the same node", node.path,
                              "add a Webhook trigger connected to the schedule's first node")


@json_fix
def _prefix_paths(content: dict[str, Any], ctx: FixContext) -> None:
    """Prefix plain webhook paths with the process id and instance uid placeholders."""
    for node in node_dicts(content):
        if text_of(node, "type") not in PATH_NODES:
            continue
        params = node.get("parameters")
        if not isinstance(params, dict):
            continue
        path = params.get("path")
        if isinstance(path, str) and path and not path.startswith("=") and "{{" not in path:
            params["path"] = f"{PROCESS_ID}/{INSTANCE_UID}/{path.strip('/')}"


@rule("PLATFORM-WEBHOOK-PATH", P, "must",
      "Webhook paths stay in their installation's own space", fix=_prefix_paths)
def webhook_path(lint: Lint) -> Iterator[Finding]:
    """Every installation of a use case runs its own copy of the workflow on one n8n,
    which routes production calls by method and path alone. A webhook (or form or MCP
    trigger) path is therefore exactly `{{PROCDATA_PROCESS_ID_ATADCORP}}/`
    `{{USERDATA_PROCESS_INSTANCE_UID_ATADRESU}}/<slug>`, in that order, where the slug
    is static (letters, digits, `.`, `_`, `~`, `-`, and `:param` segments): reordered
    placeholders, parameters, expressions or an empty path could render into another
    tenant's space. No two webhooks of a use case share method and path. The fix
    prefixes a plain slug with both placeholders."""
    seen: dict[tuple[str, str, str], str] = {}
    for uc, wf in lint.workflows():
        for index, node in path_nodes(wf.content):
            params = node.get("parameters")
            params = params if isinstance(params, dict) else {}
            path = params.get("path")
            where = ("nodes", index, "parameters", "path")
            name = node.get("name")
            why = namespace_problem(path)
            if why is not None:
                yield Finding(wf.path, f"webhook {name!r}: {why}", where,
                              f"use '{PROCESS_ID}/{INSTANCE_UID}/<slug>'")
                continue
            key = (uc.slug, str(params.get("httpMethod", "GET")).upper(), str(path).strip())
            if key in seen:
                yield Finding(wf.path, f"webhook {name!r} has the same method and path as "
                              f"a webhook in {seen[key]}", where)
            seen.setdefault(key, wf.path)


@json_fix
def _set_error_workflow(content: dict[str, Any], ctx: FixContext) -> None:
    """Point settings.errorWorkflow at the organization's error workflow."""
    settings = content.setdefault("settings", {})
    if isinstance(settings, dict):
        settings["errorWorkflow"] = ERROR_WORKFLOW


@rule("PLATFORM-ERROR-WORKFLOW", P, "must",
      "settings.errorWorkflow is the organization's error workflow", fix=_set_error_workflow)
def error_workflow(lint: Lint) -> Iterator[Finding]:
    """Failures are reported through each organization's error workflow, so every
    workflow sets `settings.errorWorkflow` to
    `{{ORGSECRET_ERROR_WORKFLOW_ID_TERCESORG}}`. The fix sets it. A sub-workflow
    (called only by other workflows) is exempt, as on the reference platform: its
    failure fails its caller, which reports it."""
    for _, wf in lint.workflows():
        if all(isinstance(t, SubworkflowTrigger) for t in wf.spec.triggers):
            continue
        value = n8n.settings(wf).get("errorWorkflow")
        if value != ERROR_WORKFLOW:
            yield Finding(wf.path, f"settings.errorWorkflow is {_shown(value)}, not the "
                          "organization's error workflow", ("settings", "errorWorkflow")
                          if value is not None else ("settings",), f"set it to {ERROR_WORKFLOW}")


@json_fix
def _caller_policy(content: dict[str, Any], ctx: FixContext) -> None:
    """Restrict who may call the workflow to workflows of the same owner."""
    settings = content.get("settings")
    if isinstance(settings, dict) and settings.get("callerPolicy") == "any":
        settings["callerPolicy"] = "workflowsFromSameOwner"


@rule("PLATFORM-CALLER-POLICY", P, "must",
      "Workflows are not callable by any workflow", fix=_caller_policy)
def caller_policy(lint: Lint) -> Iterator[Finding]:
    """Every tenant's workflows live on the same n8n. `settings.callerPolicy: any`
    would let any workflow there start this one as a sub-workflow, across tenants.
    The fix sets `workflowsFromSameOwner`."""
    for _, wf in lint.workflows():
        if n8n.settings(wf).get("callerPolicy") == "any":
            yield Finding(wf.path, "settings.callerPolicy 'any' lets other tenants' workflows "
                          "call this one", ("settings", "callerPolicy"))


def _exec_nodes(lint: Lint) -> Iterator[tuple[Any, n8n.Node]]:
    for _, wf in lint.workflows():
        for node in n8n.nodes(wf):
            if node.type == n8n.EXEC:
                yield wf, node


@json_fix
def _wait(content: dict[str, Any], ctx: FixContext) -> None:
    """Make Execute Workflow nodes wait for the sub-workflow."""
    for node in node_dicts(content):
        params = node.get("parameters")
        if text_of(node, "type") == n8n.EXEC and isinstance(params, dict):
            options = params.setdefault("options", {})
            if isinstance(options, dict) and options.get("waitForSubWorkflow") is not True:
                options["waitForSubWorkflow"] = True


@rule("PLATFORM-EXEC-WAIT", P, "should",
      "Execute Workflow nodes wait for the sub-workflow", fix=_wait)
def exec_wait(lint: Lint) -> Iterator[Finding]:
    """A parent that does not wait (`options.waitForSubWorkflow: false`) finishes
    before its sub-workflow: its result, errors and cost no longer include the
    sub-workflow's. Left out, n8n's default applies, which has changed across node
    versions; as on the reference platform it is written out. The fix sets
    `waitForSubWorkflow` to true."""
    for wf, node in _exec_nodes(lint):
        options = node.params.get("options")
        value = options.get("waitForSubWorkflow") if isinstance(options, dict) else None
        if value is False:
            yield Finding(wf.path, f"node {node.name!r} does not wait for its sub-workflow",
                          (*node.path, "parameters", "options", "waitForSubWorkflow"))
        elif value is not True:
            yield Finding(wf.path, f"node {node.name!r} does not say whether it waits for "
                          "its sub-workflow", (*node.path, "parameters"),
                          "set options.waitForSubWorkflow to true")


@rule("PLATFORM-SUBWKFL-CALL", P, "must",
      "Execute Workflow nodes name their sub-workflow with a SUBWKFL placeholder")
def subwkfl_call(lint: Lint) -> Iterator[Finding]:
    """Each installation has its own copy of every sub-workflow, with an id known
    only at deploy time, so an Execute Workflow node reads its sub-workflow from
    the database by `workflowId` = `{{SUBWKFL_<workflow id>_LFKWBUS}}` (the id of
    a workflow of the same use case), never a fixed id, URL, file or parameter. The
    same holds for the AI agent's Call n8n Workflow tool, which runs workflows alike
    (with `source: parameter` it would run any workflow JSON, past every rule)."""
    calls = ((wf, node) for _, wf in lint.workflows() for node in n8n.nodes(wf)
             if node.type in n8n.WORKFLOW_CALLERS)
    for wf, node in calls:
        source = node.params.get("source", "database")
        value = node.params.get("workflowId")
        if isinstance(value, dict):
            value = value.get("value")
        found = find_placeholders(value) if isinstance(value, str) else []
        ok = (source == "database" and len(found) == 1 and found[0].scope == "SUBWKFL"
              and value == found[0].text)
        if not ok:
            yield Finding(wf.path, f"node {node.name!r} does not call its sub-workflow "
                          f"through a SUBWKFL placeholder (workflowId {value!r})",
                          (*node.path, "parameters", "workflowId"),
                          "use {{SUBWKFL_<workflow id>_LFKWBUS}}")


@rule("PLATFORM-OWNER-SCOPE", P, "must",
      "Organizational processes use no per-user placeholders")
def owner_scope(lint: Lint) -> Iterator[Finding]:
    """An organizational process is installed for an organization, with no member
    behind it: a USERCRED credential or `{{USERDATA_USER_ID_ATADRESU}}` has nothing
    to resolve to. Use ORGCRED, INSTCRED or FLEXCRED credentials instead."""
    for uc, wf in lint.workflows():
        if uc.config.process.type is not ProcessType.organizational:
            continue
        for path, text in n8n.strings(wf.content):
            for ph in find_placeholders(text):
                if ph.scope == "USERCRED" or (ph.scope == "USERDATA" and ph.body == "USER_ID"):
                    yield Finding(wf.path, f"{ph.text} needs a user, but {uc.slug} is "
                                  "installed by organizations", path)


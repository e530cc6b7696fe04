"""Counterparts of reference-platform (Codika) rules this project had no rule for.

Workflows written for that platform use its own n8n nodes (`n8n-nodes-codika`),
which cannot be installed here; `reconciler import codika` translates them. These
rules catch a Codika workflow copied in by hand, and what Codika's own validator
would have said about its structure.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.model.declared import ScheduleTrigger, SubworkflowTrigger
from reconciler.validate.rules import n8n
from reconciler.validate.rules.folder import config_file
from reconciler.validate.rules.registry import Finding, Layer, Lint, rule

CODIKA_PREFIX = "n8n-nodes-codika."
_ENDS = {"workflowOutputs", "errorHandling"}


def _resource(node: n8n.Node) -> str:
    return str(node.params.get("resource") or "")


@rule("CODIKA-NODES", Layer.platform, "must", "No Codika platform nodes (not installable here)")
def codika_nodes(lint: Lint) -> Iterator[Finding]:
    """Nodes of the `n8n-nodes-codika` package (Codika Init, Codika Event: Submit
    Result / Report Error, Upload File, ...) exist only on the reference platform:
    n8n here refuses a workflow that holds them. `reconciler import codika`
    translates each into a built-in node that keeps its name and connections."""
    for _, wf in lint.workflows():
        for node in n8n.nodes(wf):
            if node.type.startswith(CODIKA_PREFIX):
                yield Finding(wf.path, f"node {node.name!r} is a Codika node ({node.type}), "
                              "which this platform's n8n cannot run", node.path,
                              "import the folder with `reconciler import codika`, which "
                              "translates it")


@rule("CODIKA-STRUCTURE", Layer.platform, "must",
      "Workflows with Codika nodes start with Codika Init and end in Submit / Report")
def codika_structure(lint: Lint) -> Iterator[Finding]:
    """Where a workflow uses Codika's nodes, it follows their structure (Codika's
    CODIKA-INIT and CODIKA-SUBMIT): a workflow that is not a sub-workflow has a
    Codika Init node, and every terminal node reachable from a trigger is a Submit
    Result or Report Error node."""
    for _, wf in lint.workflows():
        nodes = n8n.nodes(wf)
        codika = [n for n in nodes if n.type.startswith(CODIKA_PREFIX)]
        if not codika or all(isinstance(t, SubworkflowTrigger) for t in wf.spec.triggers):
            continue
        if not any(_resource(n) == "initializeExecution" for n in codika):
            yield Finding(wf.path, "the workflow uses Codika nodes but has no Codika Init",
                          ("nodes",), "add Codika Init right after the trigger")
        graph = n8n.Graph.of(wf)
        ends = {n.name: n for n in codika if _resource(n) in _ENDS}
        for trigger in graph.triggers():
            for name in graph.terminals(trigger.name):
                if name not in ends:
                    where = next((n.path for n in nodes if n.name == name), ("nodes",))
                    yield Finding(wf.path, f"{name!r} ends a run from {trigger.name!r} "
                                  "without Codika Submit Result or Report Error", where)


@rule("SCHEDULE-HUMAN-READABLE", Layer.folder, "should",
      "Schedule triggers say when they run, in words")
def schedule_human_readable(lint: Lint) -> Iterator[Finding]:
    """`human_readable` ("Every weekday at 8:00") is what people installing the use
    case read instead of the cron expression (Codika's SCHEDULE-TRIGGER-FIELDS
    requires it)."""
    for uc in lint.state.use_cases.values():
        for i, wf in enumerate(uc.workflows):
            for j, trigger in enumerate(wf.spec.triggers):
                if isinstance(trigger, ScheduleTrigger) and not trigger.human_readable:
                    yield Finding(config_file(uc), f"{wf.spec.id}: the schedule "
                                  f"{trigger.cron!r} has no human_readable",
                                  ("workflows", i, "triggers", j),
                                  "add e.g. human_readable: Every Monday at 9:00")


# Where `reconciler validate` deliberately differs from `codika verify`: (the
# conformance case showing it, or "-", Codika's rule, why). docs/rules.md lists them.
DIFFERENCES: tuple[tuple[str, str, str], ...] = (
    ("webhook-auth-none", "WEBHOOK-AUTH",
     "Codika wants every webhook to authenticate with the organization's header "
     "credential. Here authentication is optional (WEBHOOK-AUTH): a webhook without it is "
     "public, callers that must prove who they are use the trigger API's instance keys, "
     "and `reconciler import codika` removes Codika's standard credential (printing it)."),
    ("init-missing", "CODIKA-INIT",
     "Codika Init registers a run with their platform. Here the reconciler links runs "
     "itself (the trigger's record id travels with the run), so a workflow without it "
     "is tracked the same; CODIKA-STRUCTURE applies only where Codika nodes remain, "
     "and `reconciler import codika` prints that Codika would refuse the workflow."),
    ("schedule-bad-cron", "SCHEDULE-TRIGGER-FIELDS",
     "Codika checks that the schedule fields are present; here the cron expression "
     "must also be five valid fields (LOAD, SCHEDULE-CRON): it would never fire."),
    ("-", "EXEC-WORKFLOW-WAIT",
     "Codika accepts an explicit `waitForSubWorkflow: false` as intended; here it is "
     "flagged too (PLATFORM-EXEC-WAIT): the caller's result, errors and cost would "
     "leave out the sub-workflow's."),
    ("-", "INSTPARM-QUOTE",
     "Codika looks for quotes in the file's raw text, so `\\\"{{INSTPARM_X_MRAPTSNI}}\\\"` "
     "inside a JSON string (escaped quotes) escapes it; here the quotes are looked for "
     "in the string's value, where they are as wrong."),
    ("-", "LLM-OUTPUT-ACCESS",
     "Codika scans the node's JSON text for `$json.x` and `$('Chain')...json.x`, and "
     "skips every LLM chain node; here `$input.first().json.x` after the chain, and a "
     "second chain reading the first one's fields, are flagged too: they are as "
     "undefined."),
    ("-", "CONFIG-EXPORTS, WEBHOOK-PATH-CONSISTENCY",
     "Codika reads config.ts with patterns: a config.ts that does not parse (as "
     "`codika init` 3.6.0 writes it) can pass, and trigger URLs held in variables are "
     "not checked. Here config.ts is evaluated by the importer and what it returns is "
     "checked."),
)

"""Content rules: what one workflow file holds, node by node."""

from __future__ import annotations

import fnmatch
import re
import uuid
from collections.abc import Iterator
from typing import Any

from reconciler.model.n8n_api import ALLOWED_SETTINGS as SETTINGS_KEYS
from reconciler.model.placeholders import (
    LOOSE_RE,
    PLACEHOLDER_RE,
    SUFFIXES,
    Placeholder,
    bare_marker,
    find_placeholders,
    is_bare_marker,
)
from reconciler.model.repository import WorkflowFile
from reconciler.validate.rules import n8n
from reconciler.validate.rules.jsontext import dump_workflow, json_fix, node_dicts, text_of
from reconciler.validate.rules.n8n import shown as _shown
from reconciler.validate.rules.registry import Finding, FixContext, Layer, Lint, rule
from reconciler.validate.rules.repairs import (
    AUTH_CREDENTIAL,
    fix_models,
    fix_webhook_auth,
    is_llm,
    model_value,
)

C = Layer.content
DATA_NAMES = {
    "PROCDATA": {"PROCESS_ID", "NAMESPACE"},
    "USERDATA": {"PROCESS_INSTANCE_UID", "USER_ID", "ORGANIZATION_ID"},
}


def _loose(lint: Lint) -> Iterator[tuple[WorkflowFile, tuple[str | int, ...], str]]:
    """Every `{{UPPER...}}` in a workflow's strings, with where it stands."""
    for _, wf in lint.workflows():
        for path, text in n8n.strings(wf.content):
            for match in LOOSE_RE.finditer(text):
                yield wf, path, match.group(0)


def _scope_of(text: str) -> str | None:
    inner = text.strip("{} ")
    return next((s for s in SUFFIXES if inner.startswith(s + "_")), None)


def _fix_suffixes(text: str, ctx: FixContext) -> str:
    """Replace a wrong suffix of a known scope with the right one, in place."""

    def right(match: re.Match[str]) -> str:
        scope = match.group(1)
        if scope in SUFFIXES and match.group(3) != SUFFIXES[scope]:
            return f"{{{{{scope}_{match.group(2)}_{SUFFIXES[scope]}}}}}"
        return match.group(0)

    return PLACEHOLDER_RE.sub(right, text)


@rule("PLACEHOLDER-SYNTAX", C, "must",
      "Placeholders of known scopes are well formed", fix=_fix_suffixes)
def placeholder_syntax(lint: Lint) -> Iterator[Finding]:
    """A placeholder is `{{SCOPE_BODY_SUFFIX}}` where the suffix is the scope spelt
    backwards (`ORGSECRET` -> `TERCESORG`). A wrong suffix, a missing suffix or an
    unknown PROCDATA/USERDATA name leaves the text unrendered. The fix corrects
    wrong suffixes."""
    for wf, path, text in _loose(lint):
        scope = _scope_of(text)
        if scope is None:
            continue
        found = find_placeholders(text)
        if not found or found[0].text != text:
            yield Finding(wf.path, f"{text} is not a well-formed {scope} placeholder", path,
                          f"write {{{{{scope}_<NAME>_{SUFFIXES[scope]}}}}}")
            continue
        ph = found[0]
        if not ph.suffix_ok:
            yield Finding(wf.path, f"{ph.text}: the suffix of {scope} is {SUFFIXES[scope]}",
                          path)
        elif scope in DATA_NAMES and ph.body not in DATA_NAMES[scope]:
            yield Finding(wf.path, f"{ph.text}: {scope} has no value {ph.body!r}", path,
                          f"known: {', '.join(sorted(DATA_NAMES[scope]))}")


@rule("PLACEHOLDER-SCOPE", C, "should", "Placeholder-shaped text uses a known scope")
def placeholder_scope(lint: Lint) -> Iterator[Finding]:
    """Text shaped like a placeholder (`{{WORD_WORD}}`) with an unknown scope is
    left in the workflow as it is; usually a typo of a scope name."""
    for wf, path, text in _loose(lint):
        if _scope_of(text) is None and "_" in text:
            yield Finding(wf.path, f"{text} does not start with a known placeholder scope",
                          path, f"scopes: {', '.join(SUFFIXES)}")


# An INSTPARM wrapped in quotes inside a string: `'{{INSTPARM_X_MRAPTSNI}}'`.
_QUOTED_IN = re.compile(r"""(['"])(\{\{INSTPARM_[A-Za-z0-9_-]+?_MRAPTSNI\}\})\1""")


def _whole(value: object) -> Placeholder | None:
    """The INSTPARM placeholder that `value` is exactly (a JSON string of it alone)."""
    if not isinstance(value, str) or is_bare_marker(value):
        return None
    found = find_placeholders(value)
    if len(found) != 1 or found[0].text != value or found[0].scope != "INSTPARM":
        return None
    return found[0]


def _unquote_in(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _unquote_in(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unquote_in(v) for v in node]
    ph = _whole(node)
    if ph is not None:
        return bare_marker(ph.text)
    if isinstance(node, str) and not is_bare_marker(node):
        return _QUOTED_IN.sub(r"\2", node)
    return node


@json_fix
def _unquote(content: dict[str, Any], _: FixContext) -> None:
    """Remove the quotes around INSTPARM placeholders (a whole-string one stands bare)."""
    new = _unquote_in(content)
    content.clear()
    content.update(new)


@rule("INSTPARM-QUOTE", C, "must",
      "INSTPARM placeholders are not wrapped in quotes", fix=_unquote)
def instparm_quote(lint: Lint) -> Iterator[Finding]:
    """An INSTPARM is written as its value's JSON text, quotes included for a
    string (as on the reference platform): `const x = {{INSTPARM_X_MRAPTSNI}};`
    becomes `const x = "Acme";`. Quoting it again (`'{{INSTPARM_X_MRAPTSNI}}'`, or
    a JSON string holding only the placeholder, `"{{INSTPARM_X_MRAPTSNI}}"`) gives
    the value with its quotes inside a string (`'"Acme"'`), and a number, boolean,
    list or object loses its type. The fix removes the quotes: a placeholder that
    was a whole JSON string then stands bare (`"value": {{INSTPARM_X_MRAPTSNI}}`)."""
    for _, wf in lint.workflows():
        for path, text in n8n.strings(wf.content):
            ph = _whole(text)
            if ph is not None:
                yield Finding(wf.path, f"{ph.text} is quoted as a JSON string, so it "
                              "renders as a string holding its value's JSON text", path,
                              "write it bare: \"value\": " + ph.text)
                continue
            if is_bare_marker(text):
                continue
            for match in _QUOTED_IN.finditer(text):
                yield Finding(wf.path, f"{match.group(0)} is wrapped in quotes; the value "
                              "already carries its own", path,
                              f"write {match.group(2)} without the quotes")


def _credentials(wf: WorkflowFile) -> Iterator[tuple[n8n.Node, str, dict[str, Any]]]:
    for node in n8n.nodes(wf):
        creds = node.data.get("credentials")
        for ctype, ref in creds.items() if isinstance(creds, dict) else ():
            yield node, ctype, ref if isinstance(ref, dict) else {}


@rule("CRED-HARDCODED", C, "must", "Credential ids are placeholders, never fixed ids")
def cred_hardcoded(lint: Lint) -> Iterator[Finding]:
    """A credential id copied from one n8n would give every installation the same
    credential (or none, on another server). Each node credential's `id` is a
    credential placeholder (FLEXCRED, USERCRED, ORGCRED, INSTCRED or SYSCREDS)
    resolved per installation."""
    for _, wf in lint.workflows():
        for node, ctype, ref in _credentials(wf):
            value = ref.get("id")
            if not isinstance(value, str) or not find_placeholders(value):
                yield Finding(wf.path, f"node {node.name!r} credential {ctype!r} has a fixed "
                              f"id {value!r}", (*node.path, "credentials", ctype, "id"),
                              "use e.g. {{ORGCRED_SLACK_ID_DERCGRO}}")


def _cred_part(value: object) -> tuple[Placeholder, str, str] | None:
    found = find_placeholders(value) if isinstance(value, str) else []
    if len(found) != 1 or found[0].text != value:
        return None
    part = found[0].credential_part
    return (found[0], *part) if part else None


@rule("CRED-ID-NAME", C, "must",
      "A credential's id uses an _ID_ placeholder and its name the matching _NAME_")
def cred_id_name(lint: Lint) -> Iterator[Finding]:
    """`credentials.<type>.id` is exactly `{{<SCOPE>_<INTEGRATION>_ID_<SUFFIX>}}` and
    `.name` exactly `{{<SCOPE>_<INTEGRATION>_NAME_<SUFFIX>}}`, of the same scope and
    integration: n8n matches credentials by id and shows the name."""
    for _, wf in lint.workflows():
        for node, ctype, ref in _credentials(wf):
            base = (*node.path, "credentials", ctype)
            if not find_placeholders(str(ref.get("id", ""))):
                continue  # CRED-HARDCODED
            got_id, got_name = _cred_part(ref.get("id")), _cred_part(ref.get("name"))
            if got_id is None or got_id[2] != "ID":
                yield Finding(wf.path, f"{ctype}.id is not one credential _ID_ placeholder",
                              (*base, "id"))
            elif got_name is None or got_name[2] != "NAME":
                yield Finding(wf.path, f"{ctype}.name is not one credential _NAME_ placeholder",
                              (*base, "name"), f"use {got_id[0].text.replace('_ID_', '_NAME_')}")
            elif (got_id[0].scope, got_id[1]) != (got_name[0].scope, got_name[1]):
                yield Finding(wf.path, f"{ctype}: id and name name different credentials",
                              (*base, "name"))


@rule("CRED-ONE-SCOPE", C, "must", "A node's credentials all come from one scope")
def cred_one_scope(lint: Lint) -> Iterator[Finding]:
    """Mixing scopes on one node (a user's OAuth next to an organization key) makes
    the node run with two owners' rights; split it into two nodes."""
    for _, wf in lint.workflows():
        scopes: dict[int, set[str]] = {}
        for node, _, ref in _credentials(wf):
            for value in ref.values():
                for ph in find_placeholders(value) if isinstance(value, str) else []:
                    scopes.setdefault(node.index, set()).add(ph.scope)
        for index, found in sorted(scopes.items()):
            if len(found) > 1:
                yield Finding(wf.path, f"node mixes credential scopes {sorted(found)}",
                              ("nodes", index, "credentials"))


@json_fix
def _execution_order(content: dict[str, Any], ctx: FixContext) -> None:
    """Set settings.executionOrder to v1."""
    settings = content.setdefault("settings", {})
    if isinstance(settings, dict):
        settings["executionOrder"] = "v1"


@rule("SETTINGS-EXECUTION-ORDER", C, "must", "settings.executionOrder is \"v1\"",
      fix=_execution_order)
def execution_order(lint: Lint) -> Iterator[Finding]:
    """n8n 1.0+ runs branches one after the other (`v1`); the legacy order
    interleaves them and changes results. Every workflow sets `executionOrder: v1`.
    The fix sets it."""
    for _, wf in lint.workflows():
        value = n8n.settings(wf).get("executionOrder")
        if value != "v1":
            yield Finding(wf.path, f"settings.executionOrder is {_shown(value)}, not 'v1'",
                          ("settings", "executionOrder") if value is not None else ("settings",))


SERVER_FIELDS = ("id", "versionId", "meta", "active", "tags", "pinData", "createdAt",
                 "updatedAt", "isArchived", "shared", "triggerCount", "activeVersion",
                 "activeVersionId")


@json_fix
def _strip_server(content: dict[str, Any], ctx: FixContext) -> None:
    """Remove fields that n8n manages itself."""
    for key in SERVER_FIELDS:
        content.pop(key, None)


@rule("SERVER-FIELDS", C, "must", "No server-managed top-level fields", fix=_strip_server)
def server_fields(lint: Lint) -> Iterator[Finding]:
    """An export from n8n carries fields the server owns (`id`, `versionId`, `meta`,
    `active`, `tags`, `pinData`, timestamps...). The reconciler decides ids,
    activation and tags per installation, and pinned test data must not ship. The
    fix removes them."""
    for _, wf in lint.workflows():
        for key in SERVER_FIELDS:
            if key in wf.content:
                yield Finding(wf.path, f"top-level field {key!r} is managed by n8n", (key,),
                              "remove it")


@rule("SETTINGS-KEYS", C, "must", "settings holds only keys n8n's API accepts")
def settings_keys(lint: Lint) -> Iterator[Finding]:
    """n8n's public API rejects a workflow whose `settings` holds an unknown key
    (often a typo, or a key an editor export adds), so the deploy would fail.
    Known keys: see `SETTINGS_KEYS`; `settings` itself is an object."""
    for _, wf in lint.workflows():
        raw = wf.content.get("settings")
        if raw is not None and not isinstance(raw, dict):
            yield Finding(wf.path, "settings is not an object", ("settings",))
        for key in n8n.settings(wf):
            if key not in SETTINGS_KEYS:
                yield Finding(wf.path, f"settings key {key!r} is not accepted by n8n",
                              ("settings", key))


_WEBHOOK_TYPES = {n8n.WEBHOOK, "n8n-nodes-base.formTrigger", "@n8n/n8n-nodes-langchain.chatTrigger"}


def webhook_uuid(file: str, node_name: str) -> str:
    """A stable webhookId: the same file and node always get the same one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"n8n-reconciler:{file}#{node_name}"))


def _add_webhook_ids(text: str, ctx: FixContext) -> str:
    """Give webhook nodes without one a deterministic webhookId."""

    @json_fix
    def change(content: dict[str, Any], _: FixContext) -> None:
        for node in node_dicts(content):
            if (text_of(node, "type") in _WEBHOOK_TYPES
                    and not node.get("webhookId")):
                node["webhookId"] = webhook_uuid(ctx.file, str(node.get("name")))

    return change(text, ctx)


@rule("WEBHOOK-ID", C, "must", "Webhook nodes have their own webhookId", fix=_add_webhook_ids)
def webhook_id(lint: Lint) -> Iterator[Finding]:
    """n8n registers a webhook node under its `webhookId`; without one the editor
    makes a new one on every import, and two nodes sharing one collide. The fix
    derives a stable id from the file and the node name (UUID 5)."""
    for uc in lint.state.use_cases.values():
        seen: dict[str, str] = {}
        for wf in uc.workflows:
            for node in n8n.nodes(wf):
                if node.type not in _WEBHOOK_TYPES:
                    continue
                value = node.data.get("webhookId")
                if not isinstance(value, str) or not value:
                    yield Finding(wf.path, f"webhook node {node.name!r} has no webhookId",
                                  node.path)
                elif value in seen:
                    yield Finding(wf.path, f"webhook node {node.name!r} reuses webhookId of "
                                  f"{seen[value]}", (*node.path, "webhookId"))
                else:
                    seen[value] = f"{wf.path} {node.name!r}"


AUTH_SCOPES = {"ORGCRED", "INSTCRED", "SYSCREDS"}


@rule("WEBHOOK-AUTH", C, "must",
      "Webhooks that authenticate use an installation's credential, never a member's",
      fix=fix_webhook_auth)
def webhook_auth(lint: Lint) -> Iterator[Finding]:
    """A webhook URL is namespaced by its installation (PLATFORM-WEBHOOK-PATH:
    `<use case>/<instance id>/<slug>`), so it never collides with another tenant's,
    but it is not a secret: whoever reads the repository can write it down. An
    unauthenticated webhook (`authentication` absent or `none`) is therefore public;
    callers that must prove who they are go through the trigger API (an instance
    key) or a webhook with authentication. A webhook may add `basicAuth`,
    `headerAuth` or `jwtAuth`; it then carries the matching n8n credential
    (`httpBasicAuth`, `httpHeaderAuth`, `jwtAuth`) from an organization,
    installation or platform scope (ORGCRED, INSTCRED, SYSCREDS) — never a
    member's own (USERCRED, FLEXCRED), which other callers could not present. The
    fix moves a member's credential to the organization's (ORGCRED) of the same
    integration, and drops the reference platform's standard webhook credential
    (`{{ORGSECRET_WEBHOOK_AUTH_CRED_ID_TERCESORG}}`), which has no counterpart here."""
    for _, wf in lint.workflows():
        for node in n8n.nodes(wf):
            if node.type != n8n.WEBHOOK:
                continue
            mode = node.params.get("authentication", "none")
            where = (*node.path, "parameters", "authentication")
            if mode == "none":
                continue
            ctype = AUTH_CREDENTIAL.get(str(mode))
            if ctype is None:
                yield Finding(wf.path, f"webhook {node.name!r}: unknown authentication "
                              f"{mode!r}", where, "none, basicAuth, headerAuth or jwtAuth")
                continue
            creds = node.data.get("credentials")
            ref = creds.get(ctype) if isinstance(creds, dict) else None
            scopes = {ph.scope for ph in find_placeholders(str(ref))} if ref else set()
            if not ref:
                yield Finding(wf.path, f"webhook {node.name!r} uses {mode} without a "
                              f"{ctype!r} credential", (*node.path, "credentials"))
            elif not scopes or not scopes <= AUTH_SCOPES:
                yield Finding(wf.path, f"webhook {node.name!r} authenticates with "
                              f"{sorted(scopes) or 'a fixed credential'}",
                              (*node.path, "credentials", ctype), "use ORGCRED or INSTCRED")


def _external(graph: n8n.Graph, node: n8n.Node) -> bool:
    """Nodes that call an outside service and can fail transiently."""
    if node.is_trigger or node.type in (n8n.EXEC, n8n.RESPOND):
        return False
    if any(e.source == node.name and e.kind != "main" for e in graph.edges):
        return False  # an AI sub-node: its parent node runs (and retries) it
    return node.type == n8n.HTTP_REQUEST or bool(node.data.get("credentials"))


def _external_nodes(wf: WorkflowFile) -> list[n8n.Node]:
    graph = n8n.Graph.of(wf)
    return [n for n in graph.by_name.values() if _external(graph, n)]


def _add_retries(text: str, ctx: FixContext) -> str:
    """Turn on retries (3 tries, 2 s apart) on external API nodes."""
    wf = ctx.lint.workflow_at(ctx.file)
    if wf is None:
        return text
    names = {n.name for n in _external_nodes(wf)}

    @json_fix
    def change(content: dict[str, Any], _: FixContext) -> None:
        for node in node_dicts(content):
            if text_of(node, "name") in names and "retryOnFail" not in node:
                node["retryOnFail"] = True
                node.setdefault("maxTries", 3)
                node.setdefault("waitBetweenTries", 2000)

    return change(text, ctx)


@rule("RETRY-BACKOFF", C, "should", "External API nodes retry on failure", fix=_add_retries)
def retry_backoff(lint: Lint) -> Iterator[Finding]:
    """Nodes that call outside services (HTTP Request, and any node with a
    credential, AI sub-nodes aside) meet rate limits and brief outages; with
    `retryOnFail` n8n tries again after `waitBetweenTries` ms. The fix sets
    `retryOnFail: true`, `maxTries: 3`, `waitBetweenTries: 2000` where retries are
    not configured at all; an explicit `retryOnFail: false` (a call that must not
    repeat) is left to a human."""
    for _, wf in lint.workflows():
        for node in _external_nodes(wf):
            if node.data.get("retryOnFail") is not True:
                yield Finding(wf.path, f"node {node.name!r} calls an external service "
                              "without retries", node.path, "set retryOnFail")


@rule("LLM-MODEL-ID", C, "must", "AI model ids are on the allow-list", fix=fix_models)
def llm_model(lint: Lint) -> Iterator[Finding]:
    """A model id a provider does not serve (a typo, a retired model) fails every
    run. Language-model and embedding nodes name a model from the allow-list:
    built in, extended by `platform.yaml` `defaults.allowed_models` (a trailing `*`
    matches a prefix; the daemon reads the same list, so what validate accepts is
    what deploys). Expressions and placeholders are not checked. The fix
    replaces an id off the list with the current model of its family (Opus, Haiku,
    Sonnet, GPT, Gemini, Mistral) when that one is on the list."""
    patterns = lint.options.llm_models | frozenset(lint.state.platform.defaults.allowed_models)
    for _, wf in lint.workflows():
        for node in n8n.nodes(wf):
            found = model_value(node) if is_llm(node) else None
            if found is None or found[1].startswith("=") or "{{" in found[1]:
                continue
            if is_bare_marker(found[1]):
                continue
            if not any(fnmatch.fnmatchcase(found[1], p) for p in patterns):
                yield Finding(wf.path, f"model {found[1]!r} of node {node.name!r} is not on "
                              "the allow-list", found[0],
                              "or add it to platform.yaml defaults.allowed_models")


def _reformat(text: str, ctx: FixContext) -> str:
    """Rewrite the file in canonical form."""
    return json_fix(lambda content, _: None)(text, ctx)


@rule("WORKFLOW-FORMAT", C, "should",
      "Workflow JSON is indented by 2 spaces and ends with a newline", fix=_reformat)
def workflow_format(lint: Lint) -> Iterator[Finding]:
    """One canonical layout (2-space indent, one key per line, trailing newline, the
    order of keys kept) keeps diffs small and reviews readable. The fix rewrites the
    file in that form, bare placeholders kept bare."""
    for _, wf in lint.workflows():
        canonical = dump_workflow(wf.content)
        if wf.text != canonical:
            line = _first_difference(wf.text, canonical)
            yield Finding(wf.path, "not in canonical JSON layout (2-space indent, trailing "
                          "newline)", line=line)


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a.split("\n"), b.split("\n"), strict=False)):
        if x != y:
            return i + 1
    return min(a.count("\n"), b.count("\n")) + 1


DATABASE_TYPES = {f"n8n-nodes-base.{t}" for t in
                  ("postgres", "mySql", "microsoftSql", "mongoDb", "supabase", "snowflake",
                   "oracleDb", "crateDb", "questDb", "timescaleDb")}


@json_fix
def _always_output(content: dict[str, Any], ctx: FixContext) -> None:
    """Set alwaysOutputData on database nodes."""
    for node in node_dicts(content):
        if text_of(node, "type") in DATABASE_TYPES:
            node["alwaysOutputData"] = True


@rule("DB-ALWAYS-OUTPUT", C, "should",
      "Database nodes always output data", fix=_always_output)
def db_always_output(lint: Lint) -> Iterator[Finding]:
    """A query that finds no rows outputs no items, and the rest of the workflow
    silently does not run (a webhook then answers nothing useful). With
    `alwaysOutputData` the node passes an empty item on. The fix sets it."""
    for _, wf in lint.workflows():
        for node in n8n.nodes(wf):
            if node.type in DATABASE_TYPES and node.data.get("alwaysOutputData") is not True:
                yield Finding(wf.path, f"database node {node.name!r} stops the run when it "
                              "finds nothing", node.path, "set alwaysOutputData")


_EXPRESSION = re.compile(r"\{\{\s*\$")
_CODE_KEYS = {"jsCode", "pythonCode", "code", "functionCode"}


def _unprefixed(path: tuple[str | int, ...], text: str) -> bool:
    return (len(path) > 3 and path[2] == "parameters" and not text.startswith("=")
            and not is_bare_marker(text) and bool(_EXPRESSION.search(text))
            and not _CODE_KEYS & {p for p in path if isinstance(p, str)})


@json_fix
def _prefix_expressions(content: dict[str, Any], ctx: FixContext) -> None:
    """Prefix n8n expressions with '='."""
    for path, text in list(n8n.strings(content)):
        if path and path[0] == "nodes" and _unprefixed(path, text):
            target: Any = content
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = "=" + text


@rule("EXPRESSION-PREFIX", C, "should",
      "Parameters holding n8n expressions start with '='", fix=_prefix_expressions)
def expression_prefix(lint: Lint) -> Iterator[Finding]:
    """n8n evaluates `{{ $json.x }}` only in a value that starts with `=`; without
    it the braces are sent as literal text. Code node sources are exempt. The fix
    adds the `=`."""
    for _, wf in lint.workflows():
        for path, text in n8n.strings(wf.content):
            if path and path[0] == "nodes" and _unprefixed(path, text):
                yield Finding(wf.path, "value holds an n8n expression but does not start "
                              "with '='", path, "prefix it with '='")

"""Egress rules: what a tenant's workflow may reach beyond its own installation.

Every tenant's workflows run in one n8n process, on one host and one network. A
workflow that reads the host's files, runs commands, drives n8n's own API, or sends
HTTP requests to loopback or internal addresses (n8n itself, other tenants' webhooks,
a cloud metadata service) reaches other tenants' data without going through any
check of ours. These rules refuse what can be seen in the template; a host name
that resolves to an internal address at run time (DNS rebinding) needs egress
filtering on the network, which no repository check can give.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from reconciler.model.placeholders import find_placeholders
from reconciler.model.repository import UseCase, WorkflowFile
from reconciler.validate.rules import n8n
from reconciler.validate.rules.registry import Finding, Layer, Lint, rule
from reconciler.validate.webhooks import INSTANCE_UID, PROCESS_ID

# Node types that act on the shared host or on n8n itself, across every tenant.
HOST_NODES = {
    "n8n-nodes-base.executeCommand": "runs commands on the n8n host",
    "n8n-nodes-base.readWriteFile": "reads and writes the n8n host's files",
    "n8n-nodes-base.readBinaryFile": "reads the n8n host's files",
    "n8n-nodes-base.readBinaryFiles": "reads the n8n host's files",
    "n8n-nodes-base.writeBinaryFile": "writes the n8n host's files",
    "n8n-nodes-base.localFileTrigger": "watches the n8n host's files",
    "n8n-nodes-base.git": "works on repositories in the n8n host's file system",
    "n8n-nodes-base.n8n": "drives n8n's own API (every tenant's workflows)",
    "n8n-nodes-base.ssh": "opens shells (keys and files are the host's)",
}
# Generic request nodes: the parameter that says where the request goes.
URL_NODES = {n8n.HTTP_REQUEST: "url", "@n8n/n8n-nodes-langchain.toolHttpRequest": "url",
             "n8n-nodes-base.httpRequestTool": "url", "n8n-nodes-base.graphql": "endpoint",
             "@n8n/n8n-nodes-langchain.mcpClientTool": "endpointUrl"}
# Paths on which n8n serves installations: a literal one names another installation.
N8N_ROUTES = ("webhook", "webhook-test", "webhook-waiting", "form", "form-test",
              "form-waiting", "mcp", "mcp-test")
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*)://([^\s'\"`<>()\\]*)")
_NAMES = ("localhost", ".localhost", ".internal", ".local", ".home.arpa")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _host_of(authority: str) -> str:
    """The host of `user@host:port`, as a URL parser would see it."""
    host = unquote(authority.rsplit("@", 1)[-1])
    host = unicodedata.normalize("NFKC", host).translate(_DOTS).lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        found = ipaddress.ip_address(host)
    except ValueError:
        try:  # 127.1, 2130706433, 0x7f.0.0.1, 0177.0.0.1: what inet_aton (and curl) accept
            found = ipaddress.ip_address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    mapped = getattr(found, "ipv4_mapped", None)
    return mapped or found


def internal_host(host: str) -> bool:
    """Whether a host is the n8n host, its network, or a link-local service."""
    host = host.rstrip(".")
    if host == "" or host == _NAMES[0] or host.endswith(_NAMES[1:]):
        return True
    ip = _ip(host)
    return ip is not None and (ip.is_private or ip.is_loopback or ip.is_link_local
                               or ip.is_unspecified or ip.is_reserved or ip.is_multicast)


def _route_problem(path: str, slugs: set[str]) -> str | None:
    """Why a URL path names another installation's webhook, form or MCP route."""
    text = unicodedata.normalize("NFKC", unquote(path)).lower()
    parts = [p for p in text.split("?", 1)[0].split("#", 1)[0].split("/") if p not in ("", ".")]
    if len(parts) < 2 or parts[0] not in N8N_ROUTES:
        return None
    own = [PROCESS_ID.lower(), INSTANCE_UID.lower()]
    if parts[1] in slugs or (parts[1] == own[0] and parts[2:3] != own[1:]) or ".." in parts:
        return f"/{parts[0]}/{'/'.join(parts[1:3])} is an installation's webhook"
    return None


def url_problem(text: str, slugs: set[str]) -> str | None:
    """Why one literal URL reaches what a tenant may not, or None."""
    match = _URL.match(text.strip())
    if match is None:
        return None
    scheme, rest = match[1].lower(), match[2]
    authority, _, path = rest.partition("/")
    if "{{" in authority:
        return None  # left to the caller: a placeholder the platform fills, or run time
    if scheme not in ("http", "https", "ws", "wss"):
        return f"{scheme}:// URLs are not allowed"
    host = _host_of(authority)
    if internal_host(host):
        return f"host {host or '(empty)'!r} is the n8n host or an internal address"
    return _route_problem("/" + path, slugs)


def _installations(lint: Lint) -> dict[str, list[Mapping[str, Any]]]:
    """Per use case, the parameter values of each installation (defaults, owner,
    instances): built once per lint, not per node (10,000 instances)."""
    found = {uc.slug: [_owner_values(uc)] for uc in lint.state.use_cases.values()}
    for inst in lint.state.instances.values():
        use_case = lint.state.use_cases.get(inst.spec.use_case)
        if use_case is not None:
            found[use_case.slug].append({**_defaults(use_case), **inst.spec.parameters})
    return found


def _defaults(uc: UseCase) -> dict[str, Any]:
    return {k: p.default for k, p in uc.config.parameters.items() if p.default is not None}


def _owner_values(uc: UseCase) -> Mapping[str, Any]:
    return {**_defaults(uc), **uc.config.process.owner.parameters}


def _renderings(text: str, installs: list[Mapping[str, Any]]) -> list[str]:
    """The text as each installation renders it, each distinct form once."""
    if "INSTPARM" not in text:
        return [text]
    return list(dict.fromkeys(_rendered(text, params) for params in installs))


def _rendered(text: str, params: Mapping[str, Any]) -> str:
    for ph in find_placeholders(text):
        if ph.scope == "INSTPARM" and ph.body in params:
            text = text.replace(ph.text, str(params[ph.body]))
    return text


def _target_problem(value: str) -> str | None:
    """For a request node's `url`: why its destination is not known before it runs."""
    text = value.removeprefix("=").strip()
    head = re.match(r"(?i)[a-z][a-z0-9+.-]*://[^/?#]*", text)
    host = head[0] if head else text.split("/", 1)[0]
    if head is None and "{{" not in host:
        return f"url {value[:80]!r} does not start with http:// or https://"
    if "{{" in host:
        return (f"the host of url {value[:80]!r} is known only at run time (an expression "
                "or a secret), so nobody can check where it goes")
    return None


def _node_problems(wf: WorkflowFile, node: n8n.Node, installs: list[Mapping[str, Any]],
                   slugs: set[str]) -> Iterator[Finding]:
    for path, text in n8n.strings(node.params, (*node.path, "parameters")):
        for rendered in _renderings(text, installs):
            key = path[-1] if len(path) == 4 else ""  # a top-level parameter
            target = URL_NODES.get(node.type) == key or key == "sseEndpoint"
            why = _target_problem(rendered) if target else None
            found = [m[0] for m in _URL.finditer(rendered)]
            why = why or next((w for u in found if (w := url_problem(u, slugs))), None)
            if why is not None:
                yield Finding(wf.path, f"node {node.name!r}: {why}", path,
                              "call outside services by their public address; call "
                              "sub-workflows through SUBWKFL placeholders")
                break


@rule("EGRESS-HOST-NODES", Layer.platform, "must",
      "No nodes that act on the shared n8n host or on n8n itself")
def host_nodes(lint: Lint) -> Iterator[Finding]:
    """Every tenant's workflows share one n8n host: Execute Command, Read/Write Files
    from Disk, Read/Write Binary File(s), Local File Trigger, Git and SSH reach its
    files and processes, and the n8n node drives n8n's own API, where every tenant's
    workflows and executions live. They are refused; store files in an outside
    service the installation's own credentials reach."""
    for _, wf in lint.workflows():
        for node in n8n.nodes(wf):
            if node.type in HOST_NODES:
                yield Finding(wf.path, f"node {node.name!r} ({node.type}) "
                              f"{HOST_NODES[node.type]}, shared by every tenant", node.path)


@rule("EGRESS-URL", Layer.platform, "must",
      "Requests go to outside services, never to n8n, its host or its network")
def egress_url(lint: Lint) -> Iterator[Finding]:
    """An HTTP Request (or HTTP tool) node's `url` starts with `http(s)://<host>`,
    the host written out or taken from an INSTPARM parameter (checked with the value
    of every installation); a host computed by an n8n expression, or read from a
    secret (ORGSECRET, MEMSECRT: set by tenants, unseen here), is refused. No URL in
    any node parameter (Code node sources included) names a loopback, private,
    link-local or reserved address (in any spelling: `127.1`, `2130706433`,
    `[::ffff:127.0.0.1]`, full-width dots, percent-encoding), `localhost`,
    `*.localhost`, `*.internal` or `*.local`, nor a `/webhook/<use case>/...` route
    of an installation of this platform: those are n8n's own API and other tenants'
    webhooks. Sub-workflows are called through SUBWKFL placeholders."""
    installs = _installations(lint)
    slugs = set(lint.state.use_cases)
    for uc, wf in lint.workflows():
        for node in n8n.nodes(wf):
            yield from _node_problems(wf, node, installs.get(uc.slug) or [_owner_values(uc)],
                                      slugs)


# Parameters that redirect a service node's requests (the OpenAI chat model's
# `options.baseURL`, ...), sending its credential elsewhere.
_REDIRECTS = {"url", "baseurl", "base_url", "endpoint", "endpointurl", "host", "sseendpoint"}


# The platform's own keys: SYSCREDS, and FLEXCRED where an org has none of its own.
_PLATFORM_SCOPES = ("SYSCREDS", "FLEXCRED")


# Where a generic request node may take a platform credential: its service's own API.
SERVICE_HOSTS = {
    "ANTHROPIC": {"api.anthropic.com"}, "OPENAI": {"api.openai.com"},
    "MISTRAL": {"api.mistral.ai"}, "GEMINI": {"generativelanguage.googleapis.com"},
}


def _platform_integrations(node: n8n.Node) -> set[str]:
    """The integrations of the platform-scope credentials a node carries."""
    creds = node.data.get("credentials")
    refs = creds.values() if isinstance(creds, dict) else ()
    return {(ph.credential_part or ("", ""))[0] for ref in refs
            for ph in find_placeholders(str(ref)) if ph.scope in _PLATFORM_SCOPES}


def _to_own_service(node: n8n.Node, integrations: set[str]) -> bool:
    """A request node's url is written out and on its credential's own service."""
    url = node.params.get(URL_NODES.get(node.type, "url"))
    match = re.match(r"https://([^/?#@:]+)(?:[/?#]|$)", url) if isinstance(url, str) else None
    return match is not None and all(
        match[1].lower() in SERVICE_HOSTS.get(i, set()) for i in integrations)


@rule("EGRESS-PLATFORM-CREDENTIAL", Layer.platform, "must",
      "The platform's credentials go only to their own service")
def platform_credential(lint: Lint) -> Iterator[Finding]:
    """A SYSCREDS credential is the platform's own key (every tenant's installations
    use it), and so is a FLEXCRED one for an organization without its own. On a
    generic HTTP Request node, or on a node whose base URL or endpoint is overridden,
    n8n would send it wherever the template says: to a tenant's own server. A
    request node may carry one only to its service's own API, written out
    (`https://api.anthropic.com/...`, `api.openai.com`, `api.mistral.ai`,
    `generativelanguage.googleapis.com`); other nodes take the installation's own
    credentials (ORGCRED, INSTCRED, USERCRED)."""
    for _, wf in lint.workflows():
        for node in n8n.nodes(wf):
            integrations = _platform_integrations(node)
            if not integrations:
                continue
            generic = node.type in URL_NODES and not _to_own_service(node, integrations)
            moved = [p for p, text in n8n.strings(node.params, (*node.path, "parameters"))
                     if str(p[-1]).lower() in _REDIRECTS and text.strip()
                     and node.type not in URL_NODES]
            if generic or moved:
                where = moved[0] if moved and node.type not in URL_NODES else (
                    *node.path, "credentials")
                yield Finding(wf.path, f"node {node.name!r} would send the platform's "
                              "credential (SYSCREDS, FLEXCRED) to an address the template chooses",
                              where, "use the installation's own credential")

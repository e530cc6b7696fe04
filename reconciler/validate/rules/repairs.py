"""Fixes for WEBHOOK-AUTH and LLM-MODEL-ID, and the node reading they share with
the rules (kept apart so content.py stays small)."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from reconciler.model.placeholders import SUFFIXES
from reconciler.validate.rules import n8n
from reconciler.validate.rules.jsontext import json_fix, node_dicts
from reconciler.validate.rules.registry import FixContext

JsonPath = tuple[str | int, ...]
AUTH_CREDENTIAL = {"basicAuth": "httpBasicAuth", "headerAuth": "httpHeaderAuth",
                   "jwtAuth": "jwtAuth"}
# A member's own credential cannot be presented by other callers: the fix moves the
# webhook to the organization's credential of the same integration.
_MEMBER = re.compile(r"\{\{(USERCRED|FLEXCRED)_([A-Za-z0-9_-]+?)_(ID|NAME)_[A-Z]+\}\}")
# Codika's standard webhook credential: it has no counterpart here (WEBHOOK-AUTH).
_CODIKA_STANDARD = "{{ORGSECRET_WEBHOOK_AUTH_CRED_"
# Replacement by family, first match wins; used only when on the allow-list in force.
_MODELS = (("opus", "claude-opus-4-1"), ("haiku", "claude-haiku-4-5"),
           ("claude", "claude-sonnet-4-5"), ("mini", "gpt-4.1-mini"), ("gpt", "gpt-4.1"),
           ("gemini", "gemini-2.5-flash"), ("mistral", "mistral-small-latest"))


def model_value(node: n8n.Node) -> tuple[JsonPath, str] | None:
    for key in ("model", "modelName"):
        value = node.params.get(key)
        path: JsonPath = (*node.path, "parameters", key)
        if isinstance(value, dict):
            value, path = value.get("value"), (*path, "value")
        if isinstance(value, str):
            return path, value
    return None


def is_llm(node: n8n.Node) -> bool:
    short = node.type.rsplit(".", 1)[-1]
    return node.type.startswith("@n8n/n8n-nodes-langchain.") and short.startswith(
        ("lmChat", "lm", "embeddings"))


def replacement_model(model: str, allowed: frozenset[str]) -> str | None:
    lower = model.lower()
    for key, new in _MODELS:
        if key in lower:
            return new if any(fnmatch.fnmatchcase(new, p) for p in allowed) else None
    return None


@json_fix
def fix_models(content: dict[str, Any], ctx: FixContext) -> None:
    """Replace a model id off the allow-list with the current one of its family."""
    allowed = ctx.lint.options.llm_models
    for index, data in enumerate(node_dicts(content)):
        node = n8n.Node(index, data)
        found = model_value(node) if is_llm(node) else None
        if found is None or found[1].startswith("=") or "{{" in found[1]:
            continue
        if any(fnmatch.fnmatchcase(found[1], p) for p in allowed):
            continue
        new = replacement_model(found[1], allowed)
        if new is not None:
            holder: Any = data
            for part in found[0][2:-1]:
                holder = holder[part]
            holder[found[0][-1]] = new


@json_fix
def fix_webhook_auth(content: dict[str, Any], _: FixContext) -> None:
    """Codika's standard header credential: drop it (no counterpart here: the webhook
    becomes public); a member's own credential: the organization's one of the same
    integration."""
    for data in node_dicts(content):
        params, creds = data.get("parameters"), data.get("credentials")
        if data.get("type") != n8n.WEBHOOK or not isinstance(params, dict):
            continue
        creds = creds if isinstance(creds, dict) else {}
        ctype = AUTH_CREDENTIAL.get(str(params.get("authentication")))
        ref = creds.get(ctype) if ctype else None
        if ctype and not ref:
            params.pop("authentication")  # asked for, never configured: n8n would refuse it
            continue
        if not isinstance(ref, dict):
            continue
        if str(ref.get("id", "")).startswith(_CODIKA_STANDARD):
            params.pop("authentication")
            del creds[str(ctype)]
            if not creds:
                data.pop("credentials", None)
            continue
        for key in ("id", "name"):
            if isinstance(ref.get(key), str):
                ref[key] = _MEMBER.sub(
                    lambda m: f"{{{{ORGCRED_{m.group(2)}_{m.group(3)}_{SUFFIXES['ORGCRED']}}}}}",
                    ref[key])

"""Calling an instance's production webhook in n8n (httpx stays at this edge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.api.analysis import LINK_FIELD, LINK_HEADER


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: n8n could not be reached
    body: Any = None
    problem: str | None = None  # why there is no answer (the error's class only)


def call(base_url: str, path: str, method: str, payload: dict[str, Any], record_id: str,
         *, timeout: float) -> Answer:
    """One webhook call carrying the record id in a header and in the body (or query)."""
    url = f"{base_url.rstrip('/')}/webhook/{path}"
    headers = {LINK_HEADER: record_id}
    linked = {**payload, LINK_FIELD: record_id}
    body_less = method.upper() in ("GET", "DELETE")
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout)) as client:
            response = client.request(
                method.upper(), url, headers=headers,
                params={LINK_FIELD: record_id, **_flat(payload)} if body_less else None,
                json=None if body_less else linked)
    except httpx.HTTPError as exc:
        return Answer(None, problem=type(exc).__name__)
    return Answer(response.status_code, _body(response))


def _flat(payload: dict[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else str(v) for k, v in payload.items()}


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:10_000] or None

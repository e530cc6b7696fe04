"""n8n's public API v1 at the edge: a small synchronous httpx client.

Every httpx error and every non-2xx answer is translated here into the project's
N8n* errors (reconciler.errors); nothing from httpx escapes. Messages name the
method, the path and n8n's own message, never the API key or a request body (bodies
may hold credential secrets).

Retries. Temporary failures (connection errors, timeouts, 429, 5xx) are retried up
to `max_retries` times with exponential backoff and full jitter
(`uniform(0, backoff * 2**attempt)`, capped), or after `Retry-After` when n8n sends
one. Requests that are not idempotent (the POSTs that create a workflow, tag or
credential) are retried only when the request certainly never reached n8n (the
connection could not be made) or n8n said 429 (rejected before handling). After a
read timeout, a dropped connection or a 5xx the object may already exist, and a
blind retry could create a duplicate, so the N8nTemporary is raised at once and the
caller (which knows the object's name) decides: re-list, then create or adopt.
Publish, unpublish, archive, PUT and DELETE reach the same end state when repeated,
so they are retried like reads. A 409 in which n8n says to "try again" (a DELETE
while an unpublish is still running) is temporary too; other 409s are N8nConflict.

Counting. Every attempt (retries included) goes to `counter`: GET, HEAD and OPTIONS
as reads, every other method as a write.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from reconciler.errors import (
    N8nBadRequest,
    N8nConflict,
    N8nError,
    N8nNotFound,
    N8nPermanent,
    N8nTemporary,
    N8nUnauthorized,
)
from reconciler.model.n8n_api import ALLOWED_SETTINGS

API_PREFIX = "/api/v1"
PAGE_LIMIT = 250  # n8n's maximum page size
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 120.0

# The public API rejects any other field on create/update (400 "... is read-only" or
# "must NOT have additional properties").
WRITABLE_FIELDS = ("name", "nodes", "connections", "settings", "staticData", "pinData")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The request never left this machine: safe to retry even a create.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TEMPORARY_STATUS = frozenset({429, 500, 502, 503, 504})


def strip_read_only(body: dict[str, Any]) -> dict[str, Any]:
    """The subset of a workflow that POST/PUT /workflows accepts.

    Keeps name, nodes, connections, settings (filtered to n8n's allowed keys; `{}`
    when absent, since n8n requires it), staticData and pinData (when not null).
    `description` is dropped: the API accepts it on PUT only, and
    `update_workflow` adds it back there.
    """
    out: dict[str, Any] = {}
    for field in WRITABLE_FIELDS:
        if field in body and body[field] is not None:
            out[field] = body[field]
    settings = body.get("settings") or {}
    out["settings"] = {k: v for k, v in settings.items() if k in ALLOWED_SETTINGS}
    return out


# Observers of every attempt: (method, HTTP status or None when no answer came, seconds).
# Process-wide, so the daemon's metrics see the requests of every client it makes;
# held weakly, so an observer that is gone stops being called.
_OBSERVERS: weakref.WeakSet[Any] = weakref.WeakSet()


def observe_requests(observer: Any) -> None:
    """Call `observer.observe_request(method, status, seconds)` after each attempt."""
    _OBSERVERS.add(observer)


def _notify(method: str, status: int | None, seconds: float) -> None:
    for observer in list(_OBSERVERS):
        observer.observe_request(method, status, seconds)


class RequestCounter:
    """Thread-safe count of HTTP attempts made, split into reads and writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reads = 0
        self._writes = 0

    @property
    def reads(self) -> int:
        with self._lock:
            return self._reads

    @property
    def writes(self) -> int:
        with self._lock:
            return self._writes

    def count(self, method: str) -> None:
        with self._lock:
            if method.upper() in _READ_METHODS:
                self._reads += 1
            else:
                self._writes += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"reads": self._reads, "writes": self._writes}

    def reset(self) -> None:
        with self._lock:
            self._reads = 0
            self._writes = 0


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _n8n_message(response: httpx.Response) -> str:
    # Only n8n's JSON `message` is quoted: a non-JSON body (a proxy's HTML page)
    # is reduced to the reason phrase.
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])[:300]
    return response.reason_phrase or "no message"


class N8nClient:
    """Public API v1 of one n8n instance (header X-N8N-API-KEY)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_concurrency: int = 4,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base = base_url.rstrip("/")
        if base.endswith(API_PREFIX):
            base = base[: -len(API_PREFIX)]
        self.base_url = base
        self._api_key = api_key
        self.max_retries = max_retries
        self.backoff = backoff
        self.counter = RequestCounter()
        self._sleep = sleep
        self._random = random.Random()
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._http = httpx.Client(
            base_url=base,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            limits=httpx.Limits(max_connections=max_concurrency),
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:  # never shows the key
        return f"N8nClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> N8nClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- transport --------------------------------------------------------------

    def _backoff_delay(self, attempt: int) -> float:
        return self._random.uniform(0.0, min(MAX_BACKOFF, self.backoff * 2**attempt))

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One attempt, counted, inside a concurrency slot."""
        self.counter.count(method)
        with self._slots:
            started = time.perf_counter()
            status: int | None = None
            try:
                response = self._http.request(method, url, params=params, json=json,
                                              headers=headers)
                status = response.status_code
                return response
            finally:
                _notify(method, status, time.perf_counter() - started)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> Any:
        """Call the API with retries; returns the decoded JSON (None when empty)."""
        where = f"{method} {API_PREFIX}{path}"
        attempt = 0
        while True:
            error: N8nError
            hinted: float | None = None
            try:
                response = self._send(
                    method, API_PREFIX + path, params=params, json=json,
                    headers={"X-N8N-API-KEY": self._api_key},
                )
            except httpx.TransportError as exc:
                error = N8nTemporary(f"{where}: {_describe(exc)}", None,
                                     self.backoff * 2**attempt)
                retryable = idempotent or isinstance(exc, _NOT_SENT)
            except httpx.HTTPError as exc:  # e.g. a malformed URL: not worth retrying
                raise N8nPermanent(f"{where}: {_describe(exc)}") from None
            else:
                if response.status_code < 400:
                    return _decode(where, response)
                error = _translate(where, response, self.backoff * 2**attempt)
                if not isinstance(error, N8nTemporary):
                    raise error from None
                retryable = idempotent or response.status_code == 429
                hinted = _retry_after(response)
            if not retryable or attempt >= self.max_retries:
                raise error from None
            self._sleep(hinted if hinted is not None else self._backoff_delay(attempt))
            attempt += 1

    def _pages(self, path: str, params: dict[str, Any], limit: int | None = None) -> Iterator[
        dict[str, Any]
    ]:
        query = dict(params)
        seen = 0
        while True:
            page_size = PAGE_LIMIT if limit is None else min(PAGE_LIMIT, limit - seen)
            query["limit"] = page_size
            page = self._request("GET", path, params=query)
            for item in page.get("data", []):
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            cursor = page.get("nextCursor")
            if not cursor:
                return
            query["cursor"] = cursor

    # --- workflows --------------------------------------------------------------

    def list_workflows(
        self, *, tags: str | None = None, name: str | None = None, active: bool | None = None
    ) -> list[dict[str, Any]]:
        """All workflows matching the filters (`tags` is comma-separated tag names)."""
        params: dict[str, Any] = {}
        if tags is not None:
            params["tags"] = tags
        if name is not None:
            params["name"] = name
        if active is not None:
            params["active"] = "true" if active else "false"
        return list(self._pages("/workflows", params))

    def get_workflow(self, workflow_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/workflows/{workflow_id}"))

    def create_workflow(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a workflow (unpublished) from `body`, read-only fields stripped."""
        return dict(self._request(
            "POST", "/workflows", json=strip_read_only(body), idempotent=False
        ))

    def update_workflow(
        self, workflow_id: str, body: dict[str, Any], *, publish_if_active: bool = True
    ) -> dict[str, Any]:
        """Replace the draft; with `publish_if_active` a published workflow is republished."""
        payload = strip_read_only(body)
        if body.get("description") is not None:
            payload["description"] = body["description"]
        return dict(self._request(
            "PUT", f"/workflows/{workflow_id}", json=payload,
            params={"publishIfActive": "true" if publish_if_active else "false"},
        ))

    def publish_workflow(self, workflow_id: str, version_id: str | None = None) -> dict[str, Any]:
        """Publish the draft, or the given older `version_id` from the history."""
        body = {"versionId": version_id} if version_id is not None else None
        return dict(self._request("POST", f"/workflows/{workflow_id}/publish", json=body))

    def unpublish_workflow(self, workflow_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/workflows/{workflow_id}/unpublish"))

    def archive_workflow(self, workflow_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/workflows/{workflow_id}/archive"))

    def unarchive_workflow(self, workflow_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/workflows/{workflow_id}/unarchive"))

    def delete_workflow(self, workflow_id: str) -> None:
        """Delete; n8n answers 409 (N8nConflict) while the workflow is published."""
        self._request("DELETE", f"/workflows/{workflow_id}")

    def get_workflow_tags(self, workflow_id: str) -> list[dict[str, Any]]:
        return list(self._request("GET", f"/workflows/{workflow_id}/tags"))

    def set_workflow_tags(self, workflow_id: str, tag_ids: list[str]) -> list[dict[str, Any]]:
        """Replace the workflow's tags with exactly `tag_ids`."""
        return list(self._request(
            "PUT", f"/workflows/{workflow_id}/tags", json=[{"id": t} for t in tag_ids]
        ))

    # --- tags -------------------------------------------------------------------

    def list_tags(self) -> list[dict[str, Any]]:
        return list(self._pages("/tags", {}))

    def create_tag(self, name: str) -> dict[str, Any]:
        return dict(self._request("POST", "/tags", json={"name": name}, idempotent=False))

    def ensure_tag(self, name: str) -> dict[str, Any]:
        """The tag called `name`, created if missing (a 409 means it exists)."""
        try:
            return self.create_tag(name)
        except N8nConflict:
            for tag in self.list_tags():
                if tag.get("name") == name:
                    return tag
            raise

    # --- credentials ------------------------------------------------------------

    def list_credentials(self) -> list[dict[str, Any]]:
        """All credentials (metadata only: the API never returns secret data).

        GET /credentials exists in n8n 2.41.1 (checked); older servers answer 404,
        reported as N8nNotFound naming the missing endpoint.
        """
        try:
            return list(self._pages("/credentials", {}))
        except N8nNotFound:
            raise N8nNotFound(
                f"GET {API_PREFIX}/credentials is not available on this n8n "
                "(it exists from n8n 2.x, e.g. 2.41.1)", 404
            ) from None

    def create_credential(self, name: str, type: str, data: dict[str, Any]) -> dict[str, Any]:
        return dict(self._request(
            "POST", "/credentials", json={"name": name, "type": type, "data": data},
            idempotent=False,
        ))

    def patch_credential(
        self, credential_id: str, *, name: str | None = None, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if data is not None:
            body["data"] = data
        return dict(self._request("PATCH", f"/credentials/{credential_id}", json=body))

    def delete_credential(self, credential_id: str) -> None:
        self._request("DELETE", f"/credentials/{credential_id}")

    def credential_schema(self, type: str) -> dict[str, Any]:
        """JSON schema of the `data` field for credential type `type`."""
        return dict(self._request("GET", f"/credentials/schema/{type}"))

    # --- executions -------------------------------------------------------------

    def list_executions(
        self,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        include_data: bool = False,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Up to `limit` executions, newest first."""
        params: dict[str, Any] = {"includeData": "true" if include_data else "false"}
        if workflow_id is not None:
            params["workflowId"] = workflow_id
        if status is not None:
            params["status"] = status
        return list(self._pages("/executions", params, limit=limit)) if limit > 0 else []

    def get_execution(self, execution_id: str, *, include_data: bool = True) -> dict[str, Any]:
        return dict(self._request(
            "GET", f"/executions/{execution_id}",
            params={"includeData": "true" if include_data else "false"},
        ))

    # --- webhooks ---------------------------------------------------------------

    def wait_for_webhook(self, path: str, method: str = "POST", *, timeout: float = 10.0) -> None:
        """Wait until n8n serves the production webhook `method /webhook/<path>`.

        Publishing returns before the webhook is registered (about 0.5 s later).
        The probe is a CORS preflight (OPTIONS with Access-Control-Request-Method),
        which n8n answers from the same webhook registry as real calls, listing the
        registered methods in Access-Control-Allow-Methods (an unknown path answers
        an error): unlike calling the webhook it never starts an execution. Short
        poll intervals only; N8nTemporary after `timeout` seconds.
        """
        url = f"/webhook/{path.lstrip('/')}"
        wanted = method.upper()
        headers = {"Origin": self.base_url, "Access-Control-Request-Method": wanted}
        deadline = time.monotonic() + timeout
        interval = 0.05
        last = "no answer"
        while True:
            try:
                # No API key here: webhooks are not the API.
                answer = self._send("OPTIONS", url, headers=headers)
            except httpx.HTTPError as exc:
                last = _describe(exc)
            else:
                allowed = {
                    m.strip().upper()
                    for m in answer.headers.get("Access-Control-Allow-Methods", "").split(",")
                }
                if answer.is_success and wanted in allowed:
                    return
                last = f"HTTP {answer.status_code}"
            if time.monotonic() >= deadline:
                raise N8nTemporary(
                    f"{wanted} {url}: webhook not registered after {timeout:.1f}s ({last})"
                )
            self._sleep(interval)
            interval = min(interval * 2, 0.5)


def _describe(exc: httpx.HTTPError) -> str:
    # The exception's class says what happened; its text could hold a URL with
    # userinfo, so it is not quoted.
    return f"{type(exc).__name__} (no answer from n8n)"


def _decode(where: str, response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise N8nTemporary(
            f"{where}: HTTP {response.status_code} with a body that is not JSON",
            response.status_code,
        ) from None


def _translate(where: str, response: httpx.Response, delay: float) -> N8nError:
    status = response.status_code
    text = f"{where}: HTTP {status}: {_n8n_message(response)}"
    if status in _TEMPORARY_STATUS or status >= 500:
        hinted = _retry_after(response)
        return N8nTemporary(text, status, hinted if hinted is not None else delay)
    if status == 400:
        return N8nBadRequest(text, status)
    if status in (401, 403):
        return N8nUnauthorized(text, status)
    if status == 404:
        return N8nNotFound(text, status)
    if status == 409:
        if "try again" in text.lower():
            # e.g. DELETE right after unpublish/archive: "Workflow is still being
            # unpublished. Please try again in a few moments." Passes by itself.
            return N8nTemporary(text, status, delay)
        return N8nConflict(text, status)
    return N8nPermanent(text, status)

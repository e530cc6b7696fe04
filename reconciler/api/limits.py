"""Request bodies are capped before they are read (pure ASGI middleware).

A declared `Content-Length` over the limit is answered 413 at once, without reading
a byte of the body; a body of unknown length (chunked) is counted while it streams
and cut at the limit. Either way the handler never holds more than the limit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from reconciler.errors import UsageError

MAX_PAYLOAD_ENV = "RECONCILER_MAX_PAYLOAD_BYTES"
DEFAULT_MAX_PAYLOAD = 1024 * 1024  # 1 MiB: far above any trigger payload an agent sends

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def max_payload_from_env(environ: Mapping[str, str] | None = None) -> int:
    raw = (os.environ if environ is None else environ).get(MAX_PAYLOAD_ENV, "")
    return parse_bytes(raw, MAX_PAYLOAD_ENV) if raw.strip() else DEFAULT_MAX_PAYLOAD


def parse_bytes(raw: str, where: str) -> int:
    text = raw.strip()
    if not text.isdigit() or int(text) <= 0:
        raise UsageError(f"{where}: a number of bytes above 0, not {raw!r}")
    return int(text)


class _TooLarge(Exception):
    """Raised into the app from `receive` once the streamed body passes the limit."""


class BodyLimit:
    """Cap every request body; `limit_for(path)` gives the limit in bytes."""

    def __init__(self, app: App, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)  # the body stays unread
            return
        await _Guarded(self.app, limit, receive, send).run(scope)


class _Guarded:
    """One request whose body is counted as the app reads it."""

    def __init__(self, app: App, limit: int, receive: Receive, send: Send) -> None:
        self.app, self.limit = app, limit
        self._receive, self._send = receive, send
        self.read = 0
        self.refused = False
        self.started = False

    async def run(self, scope: Scope) -> None:
        try:
            await self.app(scope, self.receive, self.send)
        except _TooLarge:
            pass
        except Exception:
            if not self.refused:
                raise
            # the app turned the cut body into an error of its own: already answered 413

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                if not self.started:
                    self.refused = True
                    await _refuse(self._send, self.limit)
                raise _TooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # whatever the app answers after the cut, the client has its 413
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None  # the server rejects bad values
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": {
        "code": "payload_too_large",
        "message": f"the request body is over the limit of {limit} bytes"}}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})

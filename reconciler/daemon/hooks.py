"""Push webhooks: verify GitHub's HMAC signature or GitLab's token, in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping

SECRET_ENV = "RECONCILER_WEBHOOK_SECRET"


def webhook_secret(environ: Mapping[str, str] | None = None) -> bytes | None:
    value = (os.environ if environ is None else environ).get(SECRET_ENV, "")
    return value.encode() if value else None


def github_signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def github_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    expected = github_signature(secret, body).encode()
    return hmac.compare_digest(expected, (header or "").encode())


def gitlab_ok(secret: bytes, header: str | None) -> bool:
    return hmac.compare_digest(secret, (header or "").encode())


def pushed_ref(body: bytes) -> str | None:
    """The `ref` of a push payload (both formats carry it), if the body is JSON."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    ref = data.get("ref") if isinstance(data, dict) else None
    return ref if isinstance(ref, str) else None


def concerns_us(ref: str | None, branch: str) -> bool:
    """A push to the tracked branch or of a tag; unknown refs count (better one no-op)."""
    if ref is None:
        return True
    return ref == f"refs/heads/{branch}" or ref.startswith("refs/tags/")

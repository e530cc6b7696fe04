"""Who is looking: the admin (RECONCILER_UI_TOKEN) or a viewer of one organization.

Viewer tokens are declared in RECONCILER_UI_VIEWER_TOKENS as `org:sha256:<hex>`
entries separated by commas; only the SHA-256 of each token is written down
(`reconciler ui token --org ORG` makes one). Tokens arrive as `Authorization:
Bearer ...` or in the cookie the login form sets. Only loopback clients are served
unless RECONCILER_UI_ALLOW_REMOTE is set.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import UsageError

ADMIN_ENV = "RECONCILER_UI_TOKEN"
VIEWERS_ENV = "RECONCILER_UI_VIEWER_TOKENS"
REMOTE_ENV = "RECONCILER_UI_ALLOW_REMOTE"
COOKIE = "reconciler_ui"
_ENTRY = re.compile(r"^(?P<org>[a-z0-9][a-z0-9-]{0,62}):sha256:(?P<hex>[0-9a-f]{64})$")


@dataclass(frozen=True)
class Viewer:
    """`org` None: the admin, who sees every organization and may reconcile."""

    org: str | None

    @property
    def admin(self) -> bool:
        return self.org is None

    @property
    def label(self) -> str:
        return "admin" if self.org is None else f"viewer of {self.org}"


@dataclass(frozen=True)
class Tokens:
    admin_hash: str | None
    viewers: tuple[tuple[str, str], ...]  # (org, sha256 hex)
    allow_remote: bool = False

    @property
    def enabled(self) -> bool:
        return self.admin_hash is not None or bool(self.viewers)

    def who(self, presented: str | None) -> Viewer | None:
        if not presented:
            return None
        digest = token_hash(presented)
        found: Viewer | None = None
        # Every entry is compared (constant time each), so timing says nothing.
        if self.admin_hash is not None and hmac.compare_digest(digest, self.admin_hash):
            found = Viewer(None)
        for org, expected in self.viewers:
            if hmac.compare_digest(digest, expected) and found is None:
                found = Viewer(org)
        return found


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "rui_" + secrets.token_urlsafe(32)


def viewer_entry(org: str, token: str) -> str:
    return f"{org}:sha256:{token_hash(token)}"


def tokens_from(environ: Mapping[str, str]) -> Tokens:
    admin = environ.get(ADMIN_ENV, "")
    viewers: list[tuple[str, str]] = []
    for number, raw in enumerate(environ.get(VIEWERS_ENV, "").split(","), start=1):
        entry = raw.strip()
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if match is None:
            shown = entry.split(":", 1)[0]  # the org part only: never echo a token
            raise UsageError(f"{VIEWERS_ENV}: entry {number} ({shown}:...) is not "
                             "ORG:sha256:<64 hex digits>; make one with "
                             "`reconciler ui token --org ORG`")
        viewers.append((match["org"], match["hex"]))
    remote = environ.get(REMOTE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return Tokens(token_hash(admin) if admin else None, tuple(viewers), remote)


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"

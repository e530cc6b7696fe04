"""One API key per process instance: random, shown once, stored as a SHA-256 hash.

A key reads `rk_<key id>_<secret>`. The key id (not secret) finds the row; the
hash of the whole key is then compared in constant time. Whether the instance may
be used is read from `instances` on every request, so pausing or archiving it
revokes the key at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from reconciler.errors import PermanentError
from reconciler.store.db import Store, now

KEY_PREFIX = "rk_"
_REVOKING_STATES = frozenset({"user_paused", "archived"})


@dataclass(frozen=True)
class Instance:
    id: str
    use_case: str
    owner_org: str
    version: str | None
    active: bool
    state: str

    @property
    def usable(self) -> bool:
        return self.active and self.state not in _REVOKING_STATES


class KeyExists(PermanentError):
    """The instance has a key already: it was shown once; rotate to get a new one."""


class UnknownInstance(PermanentError):
    """No such instance in the state."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load_instance(store: Store, instance_id: str) -> Instance | None:
    row = store.conn.execute(
        "SELECT id, use_case, owner_org, version, active, state FROM instances WHERE id=?",
        (instance_id,)).fetchone()
    if row is None:
        return None
    return Instance(id=row[0], use_case=row[1], owner_org=row[2], version=row[3],
                    active=bool(row[4]), state=row[5])


def issue_key(store: Store, instance_id: str, *, rotate: bool = False) -> str:
    """A new key for the instance; with `rotate` it replaces (and kills) the old one."""
    if load_instance(store, instance_id) is None:
        raise UnknownInstance(f"no instance {instance_id!r} in the state (run a reconcile)")
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with store.transaction() as c:
        had = c.execute("SELECT 1 FROM api_keys WHERE instance_id=?", (instance_id,)).fetchone()
        if had and not rotate:
            raise KeyExists(f"instance {instance_id!r} has a key already (it is shown only "
                            "once); use --rotate to replace it")
        if had:
            c.execute("UPDATE api_keys SET key_id=?, key_hash=?, rotated_at=? "
                      "WHERE instance_id=?", (key_id, _hash(key), now(), instance_id))
        else:
            c.execute("INSERT INTO api_keys (instance_id, key_id, key_hash, created_at) "
                      "VALUES (?, ?, ?, ?)", (instance_id, key_id, _hash(key), now()))
    return key


def instance_for_key(store: Store, presented: str) -> str | None:
    """The instance this key belongs to, or None; never says why a key failed."""
    if not presented.startswith(KEY_PREFIX):
        return None
    key_id, sep, _ = presented[len(KEY_PREFIX):].partition("_")
    if not sep:
        return None
    row = store.conn.execute("SELECT instance_id, key_hash FROM api_keys WHERE key_id=?",
                             (key_id,)).fetchone()
    expected = row[1] if row else _hash("")  # compare anyway: same work either way
    matches = hmac.compare_digest(_hash(presented), expected)
    return str(row[0]) if row is not None and matches else None

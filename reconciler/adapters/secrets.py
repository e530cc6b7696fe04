"""Secret sources: where credential data and secrets come from, configured on the daemon.

Secrets never live in the repository. A `SecretSource` answers one question — the
data of one secret, or None when it has no such secret — and `ChainSecretSource`
asks several in order. Two backends ship:

- `EnvSecretSource`: `RECONCILER_SECRET__<KIND>__<OWNER>__<NAME>` environment
  variables (upper-cased, `-` and `.` written `_`).
- `DirSecretSource`: a folder (`RECONCILER_SECRETS_DIR`) with one file per secret
  named `<kind>.<owner>.<name>`, the convention of Docker and Kubernetes mounted
  secrets.

A value is a JSON object (the credential's data, as n8n's credential schema wants
it) or any other text, which becomes `{"value": <text>}`.

Adding a backend (Vault, a cloud secret manager...): write a class with `get` and
`describe` (the Protocol below; no inheritance needed), translate its library's
errors into `SecretMissing`/`TemporaryError` without the secret in the message, and
add it to the chain in `secret_sources_from_env` behind its own environment
variable. Nothing else in the project knows which backend answered.

Rotation is detected by `secret_digest`, a keyed hash stored instead of the secret:
without the key (`hash_key_from`) a stolen state file does not allow guessing
low-entropy secrets offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

from reconciler.errors import PermanentError, SecretMissing

OwnerKind = Literal["system", "org", "user", "instance", "member"]
OWNER_KINDS: tuple[str, ...] = get_args(OwnerKind)

ENV_PREFIX = "RECONCILER_SECRET__"
DIR_ENV = "RECONCILER_SECRETS_DIR"
HASH_KEY_ENV = "RECONCILER_HASH_KEY"
HASH_KEY_FILE = "hash.key"
MAX_SECRET_BYTES = 64 * 1024

# Owner ids and names are slugs or upper-case names; anything else could reach
# outside a folder or collide once upper-cased, so it is refused up front.
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


@dataclass(frozen=True)
class SecretKey:
    """Which secret: whose it is and what it is called.

    `name` is an integration (`gmail`) for credential data, or a secret's name
    (`EXECUTION_AUTH`, `N8N_BASE_URL`) for member and org secrets.
    """

    owner_kind: OwnerKind
    owner_id: str
    name: str

    def __post_init__(self) -> None:
        if self.owner_kind not in OWNER_KINDS:
            raise ValueError(f"owner_kind must be one of {', '.join(OWNER_KINDS)}, "
                             f"not {self.owner_kind!r}")
        for label, part in (("owner_id", self.owner_id), ("name", self.name)):
            if not _PART.match(part):
                raise ValueError(f"secret key {label} {part!r} must be letters, digits, "
                                 f"'_' or '-'")

    def __str__(self) -> str:
        return f"{self.owner_kind}.{self.owner_id}.{self.name}"


class SecretSource(Protocol):
    def get(self, key: SecretKey) -> Mapping[str, Any] | None:
        """The secret's data, or None when this source does not have it."""
        ...

    def describe(self) -> str:
        """Where this source looks, for messages (never a value)."""
        ...


class SecretUnreadable(SecretMissing):
    """A secret exists but cannot be used (too big, a symlink out of the folder...).

    A kind of missing secret: whoever handles a missing integration handles this too.
    """


def decode_secret(raw: str) -> dict[str, Any]:
    """A JSON object as it is; any other text (JSON scalars included) as {"value": text}."""
    stripped = raw.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            return data
    return {"value": raw}


class EnvSecretSource:
    """Secrets in environment variables `RECONCILER_SECRET__<KIND>__<OWNER>__<NAME>`."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        # Only our variables are kept: the rest of the environment is none of our business.
        self._values = {k: v for k, v in environ.items() if k.startswith(ENV_PREFIX)}

    @staticmethod
    def variable(key: SecretKey) -> str:
        parts = (key.owner_kind, key.owner_id, key.name)
        return ENV_PREFIX + "__".join(p.upper().replace("-", "_") for p in parts)

    def get(self, key: SecretKey) -> Mapping[str, Any] | None:
        raw = self._values.get(self.variable(key))
        return None if raw is None else decode_secret(raw)

    def describe(self) -> str:
        return f"environment variables {ENV_PREFIX}<KIND>__<OWNER>__<NAME>"


class DirSecretSource:
    """One file per secret, `<kind>.<owner>.<name>`, in a folder (mounted secrets)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def get(self, key: SecretKey) -> Mapping[str, Any] | None:
        if not self.folder.is_dir():
            # A misconfigured folder must not look like "every secret was deleted".
            raise SecretUnreadable(f"secrets folder {self.folder} is not a folder")
        path = self.folder / str(key)
        if not os.path.lexists(path):
            return None
        # Kubernetes mounts secrets as symlinks into a `..data` folder, so links are
        # fine as long as they stay inside the secrets folder.
        try:
            real = path.resolve(strict=True)
            root = self.folder.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise SecretUnreadable(f"secret file {path} cannot be resolved "
                                   f"({type(exc).__name__})") from None
        if not real.is_relative_to(root):
            raise SecretUnreadable(f"secret file {path} links outside {root}; refused")
        try:
            info = real.stat()
            if not stat.S_ISREG(info.st_mode):
                raise SecretUnreadable(f"secret file {path} is not a regular file")
            if info.st_size > MAX_SECRET_BYTES:
                raise SecretUnreadable(f"secret file {path} is {info.st_size} bytes, "
                                       f"more than the {MAX_SECRET_BYTES} allowed")
            with real.open("rb") as handle:
                # Read one byte more than allowed: the file may grow after stat.
                data = handle.read(MAX_SECRET_BYTES + 1)
        except OSError as exc:
            raise SecretUnreadable(f"secret file {path} cannot be read "
                                   f"({exc.strerror or type(exc).__name__})") from None
        if len(data) > MAX_SECRET_BYTES:
            raise SecretUnreadable(f"secret file {path} is more than the "
                                   f"{MAX_SECRET_BYTES} bytes allowed")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretUnreadable(f"secret file {path} is not UTF-8 text") from None
        # Editors and `echo` add a final newline that is never part of the secret.
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        return decode_secret(text)

    def describe(self) -> str:
        return f"secrets folder {self.folder} (<kind>.<owner>.<name>)"


class ChainSecretSource:
    """Asks each source in order; the first that has the secret wins."""

    def __init__(self, sources: Sequence[SecretSource]) -> None:
        self.sources: tuple[SecretSource, ...] = tuple(sources)

    def get(self, key: SecretKey) -> Mapping[str, Any] | None:
        for source in self.sources:
            found = source.get(key)
            if found is not None:
                return found
        return None

    def require(self, key: SecretKey) -> Mapping[str, Any]:
        """Like `get`, but a missing secret raises `SecretMissing` saying where we looked."""
        found = self.get(key)
        if found is None:
            raise SecretMissing(f"secret {key} not found in {self.describe()}")
        return found

    def describe(self) -> str:
        if not self.sources:
            return "no secret source"
        return "; ".join(source.describe() for source in self.sources)


def secret_sources_from_env(environ: Mapping[str, str]) -> ChainSecretSource:
    """The daemon's sources: environment variables first, then the secrets folder if set.

    The environment wins so an operator can override one mounted secret for a test.
    """
    sources: list[SecretSource] = [EnvSecretSource(environ)]
    folder = environ.get(DIR_ENV)
    if folder:
        sources.append(DirSecretSource(folder))
    return ChainSecretSource(sources)


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def secret_digest(data: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of the canonical JSON of `data`: stored to notice rotation."""
    if not key:
        raise ValueError("the hash key must not be empty")
    return hmac.new(key, canonical_json(dict(data)), hashlib.sha256).hexdigest()


def hash_key_from(state_dir: str | os.PathLike[str],
                  environ: Mapping[str, str] | None = None) -> bytes:
    """The key of `secret_digest`: `RECONCILER_HASH_KEY` (its UTF-8 bytes), else a key file.

    The file (`<state_dir>/hash.key`, 32 random bytes, mode 0600) is created on
    first use: written under a temporary name, then hard-linked into place, so two
    processes starting together agree on one complete key.
    """
    env = os.environ if environ is None else environ
    configured = env.get(HASH_KEY_ENV)
    if configured:
        return configured.encode("utf-8")
    folder = Path(state_dir)
    path = folder / HASH_KEY_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create_key(folder, path)
        key = path.read_bytes()
    except OSError as exc:
        raise PermanentError(f"cannot use hash key file {path} "
                             f"({exc.strerror or type(exc).__name__})") from None
    if len(key) < 16:
        raise PermanentError(f"hash key file {path} is too short ({len(key)} bytes); "
                             f"delete it to make a new one (stored digests then "
                             f"count as changed)")
    return key


def _create_key(folder: Path, path: Path) -> None:
    fd, temp = tempfile.mkstemp(prefix=".hash.key.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(secrets.token_bytes(32))
            handle.flush()
            os.fsync(handle.fileno())
        # If another process won the race, its key is the one everybody uses.
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        os.unlink(temp)

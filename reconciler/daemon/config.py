"""Daemon settings: defaults, then a config file, then RECONCILER_* variables, then flags.

Secrets (the n8n API key, the git token, the webhook secret) are read from the
environment only, never from the config file, so the file can live in git.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from reconciler.api.limits import DEFAULT_MAX_PAYLOAD, parse_bytes
from reconciler.errors import UsageError
from reconciler.store.db import state_path

ENV_PREFIX = "RECONCILER_"
DEFAULT_MAX_HOOK = 1024 * 1024  # push webhook bodies; GitHub's own cap is 25 MB
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class DaemonConfig:
    repo: str = ""
    branch: str = "main"
    state: str = ""
    interval: float = 60.0  # seconds between git polls
    jitter: float = 5.0  # up to this many seconds added to each poll
    resync: float = 600.0  # reconcile at least this often, even when git did not move
    backoff_base: float = 5.0  # first retry after a failed reconcile
    backoff_max: float = 600.0
    failing_grace: float = 900.0  # /readyz reports a reconcile failing this long as stuck
    listen: str = "127.0.0.1:8787"
    log_format: str = "text"
    log_level: str = "INFO"
    wait_lock: bool = False
    once: bool = False
    git_token_env: str = "RECONCILER_GIT_TOKEN"  # the variable holding an https token
    git_username: str = "x-access-token"  # GitHub takes any; GitLab wants "oauth2"
    ssh_key: str = ""  # a private key file; empty: the ssh agent
    max_hook_bytes: int = DEFAULT_MAX_HOOK
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD  # the public API's request bodies
    dedup_window: float = 600.0  # a push delivery id seen this recently is a replay
    lease: float = 15.0  # PostgreSQL state: the leader lease's time-to-live (daemon/ha.py)

    @property
    def state_file(self) -> Path:
        return state_path(self.state or None)

    @property
    def host_port(self) -> tuple[str, int]:
        host, sep, port = self.listen.rpartition(":")
        if not sep or not port.isdigit():
            raise UsageError(f"--listen takes HOST:PORT, not {self.listen!r}")
        return host.strip("[]") or "127.0.0.1", int(port)


_FIELDS = {f.name: f for f in fields(DaemonConfig)}


def _coerce(name: str, value: Any, where: str) -> Any:
    kind = type(getattr(DaemonConfig(), name))
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise UsageError(f"{where}: {name} must be true or false, not {value!r}")
    if kind is int:
        return parse_bytes(str(value), f"{where}: {name}")
    if kind is float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: {name} must be a number of seconds, "
                             f"not {value!r}") from None
        if number < 0:
            raise UsageError(f"{where}: {name} must not be negative")
        return number
    if not isinstance(value, str | int | float):
        raise UsageError(f"{where}: {name} must be a string")
    return str(value)


def read_file(path: str) -> dict[str, Any]:
    """A TOML or YAML file; keys are field names (dashes allowed), checked here."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the config file: {exc.strerror}") from None
    try:
        if file.suffix == ".toml":
            data: Any = tomllib.loads(text)
        else:
            data = yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}{line}: not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a table of settings at the top level")
    section = data.get("daemon", data)  # a [daemon] table or top-level keys
    if not isinstance(section, dict):
        raise UsageError(f"{path}: [daemon] must be a table of settings")
    found: dict[str, Any] = {}
    for key, value in section.items():
        name = str(key).replace("-", "_")
        if name not in _FIELDS:
            line = _line_of(text, str(key))
            raise UsageError(f"{path}{line}: unknown setting {key!r} "
                             f"(known: {', '.join(sorted(_FIELDS))})")
        found[name] = _coerce(name, value, path)
    return found


def _line_of(text: str, key: str) -> str:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith((key, f'"{key}"')):
            return f":{number}"
    return ""


def read_env(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in _FIELDS:
        variable = ENV_PREFIX + name.upper()
        if variable in environ:
            found[name] = _coerce(name, environ[variable], variable)
    return found


def resolve(flags: Mapping[str, Any], environ: Mapping[str, str] | None = None,
            config_file: str | None = None) -> DaemonConfig:
    """Flags override the environment, which overrides the file, which overrides defaults."""
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        merged.update(read_file(path))
    merged.update(read_env(env))
    merged.update({k: _coerce(k, v, f"--{k.replace('_', '-')}")
                   for k, v in flags.items() if v is not None and k in _FIELDS})
    config = dataclasses.replace(DaemonConfig(), **merged)
    if config.log_format not in LOG_FORMATS:
        raise UsageError(f"log format must be one of {', '.join(LOG_FORMATS)}, "
                         f"not {config.log_format!r}")
    if config.interval <= 0:
        raise UsageError("interval must be more than 0 seconds")
    config.host_port  # noqa: B018 - checked now, not at the first request
    return config

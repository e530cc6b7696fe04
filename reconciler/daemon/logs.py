"""Daemon logs: one line per event, as text for people or JSON for log collectors.

Callers pass structured fields through `extra={"fields": {...}}`; they never hold
secret values (the daemon logs revisions, tags, outcomes and counts only).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

LOGGER = "reconciler.daemon"


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    extra = getattr(record, "fields", None)
    return dict(extra) if isinstance(extra, dict) else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(fields_of(record))
        if record.exc_info and record.exc_info[0] is not None:
            data["exception"] = record.exc_info[0].__name__  # the type only, never the text
        return json.dumps(data, default=str, sort_keys=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        extra = " ".join(f"{k}={v}" for k, v in fields_of(record).items())
        text = f"{stamp} {record.levelname.lower():<7} {record.getMessage()}"
        return f"{text} {extra}" if extra else text


def setup(fmt: str, level: str = "INFO") -> logging.Logger:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger("reconciler")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # uvicorn's own access lines go through the same handler and format
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_log = logging.getLogger(name)
        server_log.handlers[:] = [handler]
        server_log.propagate = False
        server_log.setLevel("WARNING")
    logging.getLogger("apscheduler").setLevel("WARNING")
    return logging.getLogger(LOGGER)


def log() -> logging.Logger:
    return logging.getLogger(LOGGER)

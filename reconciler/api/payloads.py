"""Checking a trigger's JSON payload against the workflow's declared input schema."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import ValidationError

from reconciler.api.analysis import LINK_FIELD
from reconciler.model.declared import InputField, value_fits


def problems(schema: dict[str, Any], payload: Any) -> list[str]:
    """Why the payload does not fit (empty when it does); names fields, never values."""
    if not isinstance(payload, dict):
        return ["the payload must be a JSON object"]
    found: list[str] = []
    if LINK_FIELD in payload:
        found.append(f"'{LINK_FIELD}' is reserved")
    for name, raw in schema.items():
        try:
            # JSON mode: the strict model takes enum values as strings only from JSON
            spec = InputField.model_validate_json(json.dumps(raw))
        except ValidationError:
            continue  # the loader validated it; an unreadable old template checks nothing
        if name not in payload or payload[name] is None:
            if spec.required:
                found.append(f"'{name}' is required")
        elif not value_fits(spec, payload[name]):
            found.append(f"'{name}' must be a {spec.type.value}")
    return found


def digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

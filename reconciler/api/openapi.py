"""The API's OpenAPI document, built without a state file or n8n (docs/openapi.json)."""

from __future__ import annotations

import json
import sys
from typing import Any

from reconciler.api.routes import app_with
from reconciler.api.service import Service


def _no_service() -> Service:
    raise RuntimeError("the spec is built without a service")


def spec() -> dict[str, Any]:
    return app_with(_no_service).openapi()


def text() -> str:
    return json.dumps(spec(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    sys.stdout.write(text())


if __name__ == "__main__":
    main()

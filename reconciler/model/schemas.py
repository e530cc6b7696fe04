"""JSON Schemas of every file users write, generated from the models."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from reconciler.model.declared import (
    InstanceSpec,
    PlatformFile,
    SkillFrontMatter,
    UseCaseConfig,
    VersionFile,
)
from reconciler.model.smoke import SmokeTestFile

SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "platform.schema.json": (PlatformFile, "platform.yaml"),
    "use-case.schema.json": (UseCaseConfig, "use-cases/<slug>/use-case.yaml"),
    "version.schema.json": (VersionFile, "use-cases/<slug>/version.json"),
    "instance.schema.json": (InstanceSpec, "instances/<id>.yaml"),
    "skill.schema.json": (SkillFrontMatter, "use-cases/<slug>/skills/<name>/SKILL.md front matter"),
    "smoke-test.schema.json": (SmokeTestFile, "use-cases/<slug>/tests/<name>.yaml"),
}


def render_schemas() -> dict[str, str]:
    """File name -> schema text, deterministic so drift is a plain text diff."""
    out: dict[str, str] = {}
    for name, (model, describes) in SCHEMAS.items():
        schema = model.model_json_schema(mode="validation")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": name,
            "description": f"n8n-reconciler: {describes}",
            **schema,
        }
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(folder: Path) -> list[str]:
    """Names of schema files that differ from what the models generate."""
    stale = []
    for name, text in render_schemas().items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale

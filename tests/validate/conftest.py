"""Fixtures for the lint tests: a writable copy of example-repo and edit helpers."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.model.placeholders import parse_workflow_text
from reconciler.validate.rules.jsontext import dump_workflow

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"
DIGEST = "use-cases/daily-digest"
TRIAGE = "use-cases/inbox-triage"
LEAD = "use-cases/lead-enrichment"

Mutation = Callable[[Path], None]
RunCli = Callable[..., tuple[int, str]]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(EXAMPLE, target)
    return target


def text(file: str, old: str, new: str) -> Mutation:
    """Replace the one occurrence of `old` in `file`."""

    def mutate(root: Path) -> None:
        path = root / file
        content = path.read_text(encoding="utf-8")
        assert content.count(old) == 1, f"{old!r} occurs {content.count(old)} times in {file}"
        path.write_text(content.replace(old, new), encoding="utf-8")

    return mutate


def workflow(file: str, change: Callable[[dict[str, Any]], object]) -> Mutation:
    """Edit a workflow as data; it is written back in canonical form."""

    def mutate(root: Path) -> None:
        path = root / file
        content = parse_workflow_text(path.read_text(encoding="utf-8"))
        change(content)
        path.write_text(dump_workflow(content), encoding="utf-8")

    return mutate


def node(name: str, kind: str = "n8n-nodes-base.noOp", **extra: Any) -> dict[str, Any]:
    return {"id": f"id-{name}", "name": name, "type": kind, "typeVersion": 1,
            "position": [0, 400], "parameters": {}, **extra}


def link(target: str) -> list[list[dict[str, Any]]]:
    return [[{"node": target, "type": "main", "index": 0}]]

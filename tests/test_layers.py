"""The pipeline's layers never import upward (kopf's rule): a guard, not a convention."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"
# Lowest first: a module may import from its own layer and the ones before it.
ORDER = ["errors", "model", "adapters", "load", "render", "validate", "importers", "plan",
         "store", "apply", "report", "api", "ui", "daemon", "cli"]


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m.split(".")[1] for m in found if m.startswith("reconciler.") and "." in m}


def test_no_layer_imports_a_higher_one() -> None:
    rank = {name: i for i, name in enumerate(ORDER)}
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if layer not in rank:
            continue
        upward += [f"{path.relative_to(PACKAGE)} imports reconciler.{target}"
                   for target in imported(path)
                   if target in rank and rank[target] > rank[layer]]
    assert not upward, upward


def test_every_layer_is_known() -> None:
    layers = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
              if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    assert layers - {"__init__"} <= set(ORDER)

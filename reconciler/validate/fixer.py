"""`--fix`: repair a folder in memory until nothing more changes, then write or diff.

Fixes run on an overlay of the folder, so `--dry-run` sees exactly what `--fix`
would write, and the problems left after fixing are known before anything is
written.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.adapters.git import Entry
from reconciler.load.source import FolderSource
from reconciler.validate.engine import Result, lint_source, plan_fixes
from reconciler.validate.rules import Options, Rule

MAX_PASSES = 3  # fixes do not feed each other; a second pass is a safety net


@dataclass
class OverlaySource:
    """A folder with some files replaced by new text."""

    base: FolderSource
    texts: dict[str, str] = field(default_factory=dict)

    label: str = ""
    revision: str | None = None

    def __post_init__(self) -> None:
        self.label = self.base.label

    def entries(self) -> list[Entry]:
        return [Entry(e.path, e.kind, len(self.texts[e.path].encode()))
                if e.path in self.texts else e for e in self.base.entries()]

    def read(self, path: str) -> bytes:
        if path in self.texts:
            return self.texts[path].encode("utf-8")
        return self.base.read(path)


@dataclass
class FixOutcome:
    before: dict[str, str]  # file -> original text, for every changed file
    after: dict[str, str]  # file -> fixed text
    result: Result  # the problems left once fixed

    def diff(self) -> str:
        chunks: list[str] = []
        for file in sorted(self.after):
            chunks.extend(difflib.unified_diff(
                self.before[file].splitlines(keepends=True),
                self.after[file].splitlines(keepends=True),
                fromfile=f"a/{file}", tofile=f"b/{file}"))
        return "".join(chunks)

    def write(self, root: Path) -> None:
        for file, text in self.after.items():
            (root / file).write_bytes(text.encode("utf-8"))


def fix_folder(root: Path, rules: Sequence[Rule], options: Options) -> FixOutcome:
    overlay = OverlaySource(FolderSource(root))
    before: dict[str, str] = {}
    result = lint_source(overlay, rules, options)
    for _ in range(MAX_PASSES):
        if result.lint is None:
            break
        changes = plan_fixes(result.lint, result.problems, overlay.read)
        if not changes:
            break
        for file, (old, new) in changes.items():
            before.setdefault(file, old)
            overlay.texts[file] = new
        result = lint_source(overlay, rules, options)
    after = {f: t for f, t in overlay.texts.items() if t != before.get(f)}
    return FixOutcome({f: before[f] for f in after}, after, result)

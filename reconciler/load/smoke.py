"""Loading a use case's smoke tests: `use-cases/<slug>/tests/<name>.yaml`.

The tests are read like every other file (problems located by file and line), but
kept out of the template fingerprint: they describe what a version must answer, they
are not the version. Fixing a wrong test therefore needs no version bump, and a
changed test makes the daemon run the tests again (docs/smoke-tests.md).
"""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

from reconciler.adapters.git import Entry
from reconciler.load.fingerprint import file_digest
from reconciler.model.declared import SLUG
from reconciler.model.lines import LineMap
from reconciler.model.repository import SmokeTest
from reconciler.model.smoke import SmokeTestFile

TESTS = "tests"
MAX_TESTS = 50  # per use case: every one is a webhook call after each dev deployment


class _Reader(Protocol):
    entries: dict[str, Entry]

    def add(self, file: str, message: str, line: int | None = None,
            field_: str | None = None) -> None: ...

    def yaml_model(self, path: str, model: type[SmokeTestFile]) -> tuple[
        SmokeTestFile | None, LineMap]: ...


def load_tests(reader: _Reader, folder: str) -> tuple[tuple[SmokeTest, ...], str]:
    """The use case's tests and a digest of them ("" when it has none)."""
    base = f"{folder}/{TESTS}/"
    paths = sorted(p for p in reader.entries if p.startswith(base))
    found: list[SmokeTest] = []
    digests: list[str] = []
    for path in paths:
        name = path[len(base):]
        if "/" in name or not name.endswith((".yaml", ".yml")):
            reader.add(path, "tests/ holds only <name>.yaml smoke test files")
            continue
        stem = name.rsplit(".", 1)[0]
        if not re.match(SLUG, stem):
            reader.add(path, f"test name {stem!r} (the file name) must be lowercase letters, "
                             "digits and '-'")
            continue
        if len(found) >= MAX_TESTS:
            reader.add(path, f"a use case holds at most {MAX_TESTS} smoke tests")
            break
        spec, lines = reader.yaml_model(path, SmokeTestFile)
        if spec is not None:
            found.append(SmokeTest(name=stem, path=path, spec=spec, lines=lines))
            digests.append(f"{stem}\0{file_digest(spec.model_dump(mode='json'))}")
    digest = hashlib.sha256("\n".join(digests).encode()).hexdigest() if digests else ""
    return tuple(found), digest

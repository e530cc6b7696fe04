"""Fixtures for the reference-platform compatibility tests: the real `codika` package.

It is installed once into the cache (reconciler.adapters.codika_cli), on the Node
of the n8n install; a machine that cannot install it fails these tests.
"""

from __future__ import annotations

import sys

import pytest

from reconciler.adapters.codika_cli import CodikaInstall, ensure_codika
from reconciler.errors import ReconcilerError


def _progress(line: str) -> None:
    stream = sys.__stderr__
    if stream is not None:
        print(line, file=stream, flush=True)


@pytest.fixture(scope="session")
def codika() -> CodikaInstall:
    try:
        return ensure_codika(log=_progress)
    except ReconcilerError as exc:
        pytest.fail(f"the codika package could not be installed: {exc}", pytrace=False)

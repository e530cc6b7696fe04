"""The daemon keeps the parsed revision between polls: same commit, no reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.daemon import loop
from reconciler.daemon.loop import Daemon
from tests.daemon.conftest import Git
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n


def test_same_commit_is_not_loaded_again_and_a_new_one_is(
        platform: Platform, git: Git, make_daemon: Callable[..., Daemon],
        monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []
    real = loop.load_partial

    def counting(source: object) -> object:
        loads.append(str(getattr(source, "label", "")))
        return real(source)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "load_partial", counting)
    daemon = make_daemon(resync=0.0)
    first = daemon.tick()
    assert first is not None and first.outcome in ("applied", "no_changes")
    resync = daemon.tick()
    assert resync is not None and resync.reason == "resync"
    assert resync.outcome == "no_changes"
    assert len(loads) == 1 and daemon.revisions.hits == 1, "the resync reused the revision"

    platform.bump("lead-enrichment", "1.3.0")
    platform.edit_text("use-cases/lead-enrichment/workflows/summarize.json",
                       '"maxTokensToSample": 300', '"maxTokensToSample": 350')
    commit = git.commit("lead-enrichment 1.3.0")
    moved = daemon.tick()
    assert moved is not None and moved.reason == "git:branch"
    assert len(loads) == 2 and daemon.revisions.commit == commit
    assert daemon.revisions.declared is not None
    assert daemon.revisions.declared.use_cases["lead-enrichment"].version == "1.3.0"

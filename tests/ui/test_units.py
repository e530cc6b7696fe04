"""Small parts of the dashboard: tokens, redirects, the graph, diffs, the CLI, live state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reconciler.errors import UsageError
from reconciler.load.repository import load
from reconciler.load.source import FolderSource
from reconciler.store.db import Store, now
from reconciler.ui import graph
from reconciler.ui.auth import bearer, loopback, token_hash, tokens_from, viewer_entry
from reconciler.ui.detail import _changes
from reconciler.ui.pages import safe_next
from tests.conftest import RunCli
from tests.ui import synthetic
from tests.ui.conftest import ADMIN
from tests.ui.conftest import bearer as auth_header


def test_tokens_are_matched_by_hash_and_scoped() -> None:
    tokens = tokens_from({"RECONCILER_UI_TOKEN": "adm",
                          "RECONCILER_UI_VIEWER_TOKENS": f" {viewer_entry('acme', 'v1')} ,"})
    assert tokens.who("adm") is not None and tokens.who("adm").admin  # type: ignore[union-attr]
    assert tokens.who("v1").org == "acme"  # type: ignore[union-attr]
    assert tokens.who("v2") is None and tokens.who("") is None and tokens.who(None) is None
    assert tokens.viewers == (("acme", token_hash("v1")),)
    assert not tokens_from({}).enabled
    with pytest.raises(UsageError, match="entry 2"):
        tokens_from({"RECONCILER_UI_VIEWER_TOKENS": f"{viewer_entry('a', 'x')},b:sha256:00"})


def test_bearer_loopback_and_next() -> None:
    assert bearer("Bearer abc") == "abc" and bearer("Basic abc") is None and bearer(None) is None
    assert loopback("127.0.0.1") and loopback("::1") and not loopback("10.0.0.1")
    assert not loopback(None) and not loopback("testclient")
    assert safe_next("/ui/runs?x=1") == "/ui/runs?x=1"
    assert safe_next("http://x/ui/") == "/ui/" and safe_next("/docs") == "/ui/"


def test_graph_of_lead_enrichment_is_a_chain() -> None:
    declared = load(FolderSource(synthetic.EXAMPLE))
    picture = graph.svg(declared.use_cases["lead-enrichment"], "le <&>")
    assert picture.startswith("<svg") and "le &lt;&amp;&gt;" in picture
    nodes, edges = graph.edges_of(declared.use_cases["lead-enrichment"])
    assert edges == [("main", "score-lead"), ("score-lead", "summarize")]
    assert {n.id: n.trigger for n in nodes}["main"] == "http"


def test_run_pages_show_field_diffs_old_and_new() -> None:
    step = {"kind": "put_workflow", "detail": {"diff": [
        {"path": "nodes[\"Score\"].parameters.min", "change": "changed", "old": 50, "new": 65},
        {"path": "settings.timezone", "change": "added", "old": None, "new": "UTC"}]}}
    assert _changes(step) == [('nodes["Score"].parameters.min (changed)', "50", "65"),
                              ("settings.timezone (added)", "", "UTC")]


def test_ui_token_command_prints_a_token_and_its_entry(run_cli: RunCli) -> None:
    code, out = run_cli("ui", "token", "--org", "globex")
    token = out.splitlines()[0]
    assert code == 0 and token.startswith("rui_")
    assert viewer_entry("globex", token) in out
    assert run_cli("ui", "token", "--org", "Not An Org")[0] == 64  # a usage error


def test_a_running_reconcile_shows_live(tmp_path: Path,
                                        client_for: Callable[..., TestClient]) -> None:
    store = Store(tmp_path / "state.sqlite")
    with store.transaction() as c:
        c.execute("INSERT INTO runs (started_at, trigger) VALUES (?, 'daemon:ui')", (now(),))
        c.execute("INSERT INTO run_steps (run_id, seq, kind, target, detail, outcome, "
                  "started_at, duration_ms) VALUES (1, 1, 'save_process', 'x', '{}', "
                  "'applied', ?, 1)", (now(),))
    store.close()
    client = client_for(tmp_path / "state.sqlite")
    live = client.get("/ui/live.json", headers=auth_header(ADMIN)).json()
    assert live == {"running": {"id": 1, "started_at": live["running"]["started_at"],
                                "trigger": "daemon:ui", "steps": 1}, "last": None}
    page = client.get("/ui/runs/1", headers=auth_header(ADMIN)).text
    assert 'data-reload-while-running="1"' in page and "running" in page
    assert "Run 1 is in progress (1 steps so far)" in client.get(
        "/ui/", headers=auth_header(ADMIN)).text

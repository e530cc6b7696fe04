"""Live updates in the browser, no n8n needed: a run in progress shows a banner, and the
page reloads by itself when the run ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from reconciler.store.db import Store, now
from tests.ui.browser import serve
from tests.ui.conftest import ADMIN, make_app, set_tokens


def test_a_running_reconcile_shows_a_banner_and_the_page_reloads_when_it_ends(
        browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state.sqlite"
    store = Store(state)
    with store.transaction() as c:
        c.execute("INSERT INTO runs (started_at, trigger) VALUES (?, 'daemon:ui')", (now(),))
    set_tokens(monkeypatch)
    for served in serve(make_app(state)):
        page = browser.new_context().new_page()
        page.goto(f"{served.url}/ui/login?next=/ui/runs")
        page.fill("input[name=token]", ADMIN)
        page.click("form[action='/ui/login'] button[type=submit]")
        expect(page.locator("#live")).to_contain_text("Reconcile run 1 in progress")
        expect(page.locator("#run-list")).to_contain_text("running")
        page.evaluate("window.notReloaded = true")
        with store.transaction() as c:
            c.execute("UPDATE runs SET finished_at=?, outcome='no_changes' WHERE id=1",
                      (now(),))
        expect(page.locator("#run-list")).to_contain_text("no_changes", timeout=10_000)
        expect(page.locator("#live")).to_be_hidden()
        assert page.evaluate("window.notReloaded === undefined")  # live.js reloaded it
    store.close()

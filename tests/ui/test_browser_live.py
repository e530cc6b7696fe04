"""The dashboard in Debian's Chromium, on a state made by a real reconcile on real n8n.

The example repository (with the echo use case) is reconciled and published, two workflows are
run through the API (lead enrichment fails two sub-workflows down; Globex's echo
succeeds), then a browser signs in, follows links through every page, asks for a
reconcile and watches it arrive, and signs in as Globex's viewer to check that
nothing of Acme shows. Screenshots land in artefacts/ui/.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.ui.auth import viewer_entry
from tests.api.conftest import Api, api  # noqa: F401  (the fixture)
from tests.engine.conftest import platform  # noqa: F401  (the fixture)
from tests.ui.browser import Served, serve, shot
from tests.ui.conftest import make_app

pytestmark = pytest.mark.n8n

ADMIN = "browser-admin-token"
GLOBEX = "browser-globex-token"
LEAD_DEV = "lead-enrichment.owner-prod"
PUBLISHED = {("daily-digest", "1.0.0"), ("inbox-triage", "2.1.0"), ("lead-enrichment", "1.2.0"),
             ("echo", "1.0.0")}
ECHO_GLOBEX = "echo-globex"
WAIT = 15_000  # ms for a page element


@pytest.fixture
def dashboard(api: Api, n8n_server: ServerInfo,  # noqa: F811
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Served, dict[str, Any]]]:
    """The daemon's app on a real port; "Reconcile now" runs a real reconcile."""
    monkeypatch.setenv("RECONCILER_UI_TOKEN", ADMIN)
    monkeypatch.setenv("RECONCILER_UI_VIEWER_TOKENS", viewer_entry("globex", GLOBEX))
    api.platform.publications |= PUBLISHED  # tags: prod environments and instances deploy
    published = api.platform.reconcile()
    assert published.outcome == "applied", published.error
    lead = api.http.post("/api/v1/workflows/main/trigger?wait=true&timeout=60",
                         json={"company": "Initech"},
                         headers={"X-API-Key": api.key(LEAD_DEV)}).json()["execution"]
    echo = api.http.post("/api/v1/workflows/echo/trigger?wait=true", json={"message": "hi"},
                         headers={"X-API-Key": api.key(ECHO_GLOBEX)}).json()["execution"]
    assert lead["status"] == "failed" and echo["status"] == "success"
    ran: dict[str, Any] = {"lead": lead["id"], "echo": echo["id"]}

    def reconcile_soon(reason: str) -> None:
        def work() -> None:
            ran["reconcile"] = api.platform.reconcile(trigger=f"daemon:{reason}")
        threading.Thread(target=work, name="ui-reconcile", daemon=True).start()

    app = make_app(api.platform.store.path, n8n_server.url, n8n_server.api_key,
                   on_request=reconcile_soon)
    for served in serve(app):
        yield served, ran


def sign_in(page: Page, base: str, token: str, target: str = "/ui/") -> None:
    page.goto(f"{base}{target}")
    expect(page.locator("input[name=token]")).to_be_visible(timeout=WAIT)
    page.fill("input[name=token]", token)
    page.click("form[action='/ui/login'] button[type=submit]")
    page.wait_for_url(f"{base}{target}", timeout=WAIT)


def test_dashboard_in_a_browser_on_a_real_reconcile(
        browser: Browser, dashboard: tuple[Served, dict[str, Any]],
        api: Api) -> None:  # noqa: F811
    served, ran = dashboard
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(admin, served.url, ADMIN)
    _overview(admin)
    _instance_and_execution(admin, ran)
    _process_and_run(admin)
    _reconcile_now(admin, api, ran)
    viewer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(viewer, served.url, GLOBEX)
    _viewer_sees_only_globex(viewer, served.url, ran)


def _overview(page: Page) -> None:
    expect(page.locator("#who")).to_have_text("admin")
    expect(page.locator("#last-run")).to_contain_text("applied")
    active = page.locator("#states a[data-state=active]")
    assert int(active.inner_text()) >= 5
    expect(page.locator("#states a[data-state=missing_integration]")).to_have_text("1")
    shot(page, "overview")
    page.click("#states a[data-state=missing_integration]")
    expect(page.locator("#instance-list")).to_contain_text("inbox-triage-erin")
    page.click("#instance-list a:text('inbox-triage-erin')")
    expect(page.locator("#state")).to_contain_text("missing_integration")
    expect(page.locator("#credentials")).to_contain_text("user.erin.gmail missing")
    expect(page.locator("footer")).to_contain_text("instances/inbox-triage-erin.yaml")


def _instance_and_execution(page: Page, ran: dict[str, Any]) -> None:
    page.click("nav a:text('Instances')")
    page.fill("input[name=use_case]", "lead-enrichment")
    page.click("form.filters button")
    page.click(f"#instance-list a:text('{LEAD_DEV}')")
    expect(page.locator("#mappings")).to_contain_text("score-lead")
    n8n_link = page.locator("#mappings a.n8n").first.get_attribute("href") or ""
    assert re.match(r"http://127\.0\.0\.1:\d+/workflow/\w+$", n8n_link), n8n_link
    expect(page.locator("#triggers")).to_contain_text(
        f"/webhook/lead-enrichment/{LEAD_DEV}/enrich")
    expect(page.locator("#credentials")).to_contain_text("anthropic")
    expect(page.locator("#deployments")).to_contain_text("lead-enrichment@")
    expect(page.locator("#executions")).to_contain_text("external_api_error")
    expect(page.locator("footer")).to_contain_text("use-cases/lead-enrichment/use-case.yaml")
    assert "sk-ant" not in page.content()  # names and scopes, never values
    shot(page, "instance")
    page.click(f"#executions a[href='/ui/executions/{ran['lead']}']")
    trace = page.locator("#trace")
    expect(trace).to_contain_text("summarize", timeout=WAIT)
    workflows = trace.locator("li[data-workflow]")
    assert [workflows.nth(i).get_attribute("data-workflow") for i in range(3)] == [
        "main", "score-lead", "summarize"]
    expect(trace).to_contain_text("failed at Summarize")
    shot(page, "execution")


def _process_and_run(page: Page) -> None:
    page.click("nav a:text('Processes')")
    page.click("#processes a:text('lead-enrichment')")
    expect(page.locator("#templates")).to_contain_text("published")
    expect(page.locator("#visibility")).to_contain_text("public")
    graph = page.locator("#templates svg.graph").first
    expect(graph).to_be_visible()
    assert graph.locator("line.edge").count() == 2
    shot(page, "process")
    page.click("nav a:text('Runs')")
    page.select_option("select[name=outcome]", "applied")
    page.click("form.filters button")
    page.locator("#run-list a").first.click()
    expect(page.locator("#outcome")).to_have_text("applied")
    expect(page.locator("#steps")).to_contain_text("put_workflow")
    expect(page.locator("#reads-writes")).to_contain_text("/")


def _reconcile_now(page: Page, env: Api, ran: dict[str, Any]) -> None:
    env.platform.edit_text("instances/lead-enrichment-globex.yaml", "MIN_SCORE: 65",
                           "MIN_SCORE: 70")
    page.goto(page.url.split("/ui/")[0] + "/ui/runs")
    before = page.locator("#run-list tr").count()
    page.click("#reconcile-now")
    expect(page.locator("#requested")).to_be_visible()
    # live.js reloads the list when the run ends: no navigation from here.
    expect(page.locator("#run-list tr")).to_have_count(before + 1, timeout=120_000)
    expect(page.locator("#run-list")).to_contain_text("daemon:ui")
    # the row is listed as the run starts; the thread hands its outcome over at the end
    deadline = time.monotonic() + 120
    while "reconcile" not in ran and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ran["reconcile"].outcome == "applied"
    page.locator("#run-list a").first.click()
    changes = page.locator("#steps table.diff")
    expect(changes.first).to_contain_text("→")
    expect(page.locator("#steps")).to_contain_text("lead-enrichment-globex")
    shot(page, "run")


def _viewer_sees_only_globex(page: Page, base: str, ran: dict[str, Any]) -> None:
    expect(page.locator("#who")).to_have_text("viewer of globex")
    expect(page.locator("#reconcile-now")).to_have_count(0)
    expect(page.locator("#count-processes b")).to_have_text("0")
    page.click("#count-instances")
    listed = page.locator("#instance-list").inner_text()
    assert "echo-globex" in listed and "lead-enrichment-globex" in listed
    assert "acme" not in listed and "alice" not in listed and LEAD_DEV not in listed
    page.goto(f"{base}/ui/executions")
    executions = page.locator("#execution-list").inner_text()
    assert ECHO_GLOBEX in executions and LEAD_DEV not in executions
    for url in (f"/ui/instances/{LEAD_DEV}", f"/ui/executions/{ran['lead']}",
                "/ui/processes/lead-enrichment", "/ui/processes/echo"):
        page.goto(base + url)
        expect(page.locator("#not-found")).to_be_visible()
    page.goto(f"{base}/ui/runs")
    page.locator("#run-list a").first.click()
    steps = page.locator("#steps").inner_text()
    assert "lead-enrichment-globex" in steps
    assert not re.search(r"\bacme\b|alice|bob|carol|\.owner-(dev|prod)", steps), steps
    assert "acme" not in page.content().lower()
    shot(page, "viewer-run")

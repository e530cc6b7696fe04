"""Debian's Chromium driven by Playwright, and the dashboard served on a real port.

The browser comes from `scripts/browser-setup` (Debian's package, installed on first
use); Playwright's Python wheel brings its own driver and never downloads a
browser. If the browser cannot be had, the tests that need it FAIL.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "browser-setup"
ARTEFACTS = ROOT / "artefacts" / "ui"  # ignored by git; CI keeps it as the run's artefact


def chromium_path() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    try:
        done = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True,
                              timeout=1200, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("scripts/browser-setup timed out installing chromium", pytrace=False)
    found = shutil.which("chromium")
    if done.returncode != 0 or not found:
        pytest.fail(f"Debian's chromium could not be installed (scripts/browser-setup):\n"
                    f"{done.stderr[-2000:]}", pytrace=False)
    return found


@dataclass
class Served:
    url: str
    server: uvicorn.Server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(app: FastAPI) -> Iterator[Served]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, name="ui-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the dashboard's HTTP server did not start", pytrace=False)
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def launch() -> Iterator[Browser]:
    """The one browser of a test session (tests/ui/conftest.py's `browser` fixture):
    Playwright's sync API runs one instance per thread."""
    path = chromium_path()
    with sync_playwright() as play:
        launched = play.chromium.launch(executable_path=path, headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()


def shot(page: Page, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

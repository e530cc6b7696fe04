"""The dashboard's wiring: assets, sign-in, the viewer of each request, page rendering.

`mount(app, ctx)` is all the daemon calls. Pages are plain functions of the viewer
and the request (views.py); this module turns them into routes behind the
token check, and serves the packaged assets and an offline Swagger UI.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from reconciler.api.service import ApiSettings, Service
from reconciler.ui import docs, filters
from reconciler.ui.auth import COOKIE, Tokens, Viewer, bearer, loopback, tokens_from

HERE = Path(__file__).resolve().parent
PREFIX = "/ui"
MAX_FORM = 4096  # the login form holds one token


class Denied(Exception):
    """The request may not see the page: sign in (401) or not from here (403)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Dashboard:
    """What every page needs: the tokens, one service (one SQLite connection), templates."""

    def __init__(self, ctx: ApiSettings, tokens: Tokens,
                 request_reconcile: Callable[[str], None] | None) -> None:
        self.ctx = ctx
        self.tokens = tokens
        self.request_reconcile = request_reconcile
        self.service = Service(ctx)  # one SQLite connection (and lock) for every page
        self.env = environment()

    @property
    def n8n_url(self) -> str:
        return self.ctx.n8n_url.rstrip("/")

    def viewer(self, request: Request) -> Viewer:
        host = request.client.host if request.client else None
        if not self.tokens.allow_remote and not loopback(host):
            raise Denied(403)
        presented = bearer(request.headers.get("authorization")) or request.cookies.get(COOKIE)
        who = self.tokens.who(presented)
        if who is None:
            raise Denied(401)
        return who

    def render(self, request: Request, name: str, viewer: Viewer | None, started: float,
               status: int = 200, **values: Any) -> HTMLResponse:
        page = self.env.get_template(name).render(
            viewer=viewer, path=request.url.path, query=request.url.query,
            n8n_url=self.n8n_url, can_reconcile=self.request_reconcile is not None, **values)
        spent = (time.perf_counter() - started) * 1000
        return HTMLResponse(page, status_code=status,
                            headers={"Server-Timing": f"app;dur={spent:.1f}",
                                     "Cache-Control": "no-store"})


@functools.cache
def environment() -> jinja2.Environment:
    """One per process: compiling the templates is the slowest thing the dashboard does."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    filters.install(env)
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)  # compiled now, not on some user's first visit
    return env


def mount(app: FastAPI, ctx: ApiSettings, environ: Mapping[str, str] | None = None) -> None:
    """Add /ui (and an offline /docs) to the daemon's app."""
    env = os.environ if environ is None else environ
    board = Dashboard(ctx, tokens_from(env), getattr(ctx, "request_reconcile", None))
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    docs.mount(app)

    @app.exception_handler(Denied)
    async def denied(request: Request, exc: Denied) -> Response:
        if exc.status == 401 and request.method == "GET" and not _wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303)
        message = "sign in" if exc.status == 401 else "the dashboard serves loopback only"
        return Response(message, status_code=exc.status, media_type="text/plain")

    _auth_routes(app, board)
    from reconciler.ui import views  # the pages, once the wiring exists

    views.add_routes(app, board)


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or bool(request.headers.get("authorization"))


def safe_next(value: str | None) -> str:
    """Only a path of the dashboard itself: never an open redirect."""
    parts = urlsplit(value or "")
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX):
        return PREFIX + "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def form(request: Request) -> dict[str, str]:
    body = (await request.body())[:MAX_FORM]
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def same_origin(request: Request) -> bool:
    """A state-changing POST must come from the dashboard's own pages."""
    # The cookie is SameSite=Strict already; a browser's Origin, when sent, must match.
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


def _auth_routes(app: FastAPI, board: Dashboard) -> None:
    @app.get(PREFIX + "/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "") -> HTMLResponse:
        started = time.perf_counter()
        if not board.tokens.enabled:
            return board.render(request, "off.html", None, started, status=503)
        return board.render(request, "login.html", None, started, next=safe_next(next),
                            failed=False)

    @app.post(PREFIX + "/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        started = time.perf_counter()
        fields = await form(request)
        target = safe_next(fields.get("next"))
        token = fields.get("token", "").strip()
        if not same_origin(request) or board.tokens.who(token) is None:
            return board.render(request, "login.html", None, started, status=401,
                                next=target, failed=True)
        answer = RedirectResponse(target, status_code=303)
        answer.set_cookie(COOKIE, token, httponly=True, samesite="strict", path=PREFIX,
                          secure=request.url.scheme == "https")
        return answer

    @app.post(PREFIX + "/logout", include_in_schema=False)
    def logout() -> Response:
        answer = RedirectResponse(PREFIX + "/login", status_code=303)
        answer.delete_cookie(COOKIE, path=PREFIX)
        return answer

"""The daemon's HTTP side: health, readiness, Prometheus metrics and push webhooks.

The agents' public API (reconciler/api/) is mounted on this same app: see
`_include_public_api`.
"""

from __future__ import annotations

import importlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reconciler.daemon import hooks
from reconciler.daemon.loop import Health
from reconciler.daemon.metrics import Metrics
from reconciler.ui import mount as mount_dashboard

N8N_TIMEOUT = 2.0


@dataclass
class DaemonContext:
    """What the HTTP side may see of a running daemon.

    It also has the fields of the public API's context (`store_path`, `n8n_url`,
    `n8n_api_key`, `hash_key`, `prices`), so it is handed to `router_for` as is.
    """

    state_path: Path
    n8n_url: str
    branch: str
    failing_grace: float
    health: Health
    metrics: Metrics
    request_reconcile: Callable[[str], None]  # thread-safe: wakes the loop
    n8n_api_key: str = field(default="", repr=False)
    hash_key: bytes | None = field(default=None, repr=False)
    prices: Any = None  # the API's price table; None: its default

    @property
    def store_path(self) -> Path:
        return self.state_path


def create_app(ctx: DaemonContext) -> FastAPI:
    # Swagger UI is served offline by the dashboard (reconciler/ui/docs.py), not from a CDN.
    app = FastAPI(title="n8n-reconciler", summary="GitOps reconciler daemon for n8n",
                  docs_url=None, redoc_url=None)
    _health_routes(app, ctx)
    _hook_routes(app, ctx)
    _include_public_api(app, ctx)
    mount_dashboard(app, ctx)
    return app


def _health_routes(app: FastAPI, ctx: DaemonContext) -> None:
    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, Any]:
        """The process is alive and serving."""
        return {"ok": True}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """The state file is usable, reconciles are not failing for long, n8n answers."""
        checks = {"state": _state_ok(ctx.state_path), "reconcile": _reconcile_ok(ctx),
                  "n8n": _n8n_ok(ctx.n8n_url)}
        ready = all(ok for ok, _ in checks.values())
        body = {"ready": ready, "checks": {k: {"ok": ok, "detail": detail}
                                           for k, (ok, detail) in checks.items()}}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"])
    def metrics() -> Response:
        """Prometheus exposition format."""
        ctx.metrics.refresh_instances(ctx.state_path)
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _state_ok(path: Path) -> tuple[bool, str]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
        try:
            conn.execute("SELECT count(*) FROM runs").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return False, f"{path}: {exc}"
    return True, str(path)


def _reconcile_ok(ctx: DaemonContext) -> tuple[bool, str]:
    since = ctx.health.failing_since
    if since is None:
        return True, f"last outcome {ctx.health.last_outcome or 'none yet'}"
    failing = time.time() - since
    return failing < ctx.failing_grace, f"failing for {failing:.0f} s"


def _n8n_ok(url: str) -> tuple[bool, str]:
    try:
        answer = httpx.get(f"{url}/healthz", timeout=N8N_TIMEOUT)
    except httpx.HTTPError as exc:
        return False, f"n8n unreachable ({type(exc).__name__})"
    return answer.status_code == 200, f"n8n answered {answer.status_code}"


def _hook_routes(app: FastAPI, ctx: DaemonContext) -> None:
    @app.post("/hooks/github", tags=["webhooks"])
    async def github(request: Request) -> JSONResponse:
        """A GitHub push (X-Hub-Signature-256 verified): reconcile now."""
        secret = hooks.webhook_secret()
        if secret is None:
            return _disabled()
        body = await request.body()
        if not hooks.github_ok(secret, body, request.headers.get("x-hub-signature-256")):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if request.headers.get("x-github-event", "push") == "ping":
            return JSONResponse({"accepted": False, "event": "ping"})
        return _accept(ctx, "webhook:github", body)

    @app.post("/hooks/gitlab", tags=["webhooks"])
    async def gitlab(request: Request) -> JSONResponse:
        """A GitLab push or tag push (X-Gitlab-Token verified): reconcile now."""
        secret = hooks.webhook_secret()
        if secret is None:
            return _disabled()
        if not hooks.gitlab_ok(secret, request.headers.get("x-gitlab-token")):
            return JSONResponse({"error": "bad token"}, status_code=401)
        return _accept(ctx, "webhook:gitlab", await request.body())


def _disabled() -> JSONResponse:
    return JSONResponse({"error": f"webhooks are off: set {hooks.SECRET_ENV}"}, status_code=503)


def _accept(ctx: DaemonContext, reason: str, body: bytes) -> JSONResponse:
    ref = hooks.pushed_ref(body)
    if not hooks.concerns_us(ref, ctx.branch):
        return JSONResponse({"accepted": False, "ignored": ref}, status_code=202)
    ctx.request_reconcile(reason)
    return JSONResponse({"accepted": True}, status_code=202)


# --- The agents' public API (issue 8) ----------------------------------------------------
# reconciler/api/routes.py, when it exists, exposes `router_for(ctx) -> APIRouter`; its
# routes then share this app, its port and its OpenAPI document.
def _include_public_api(app: FastAPI, ctx: DaemonContext) -> None:
    try:
        routes = importlib.import_module("reconciler.api.routes")
    except ModuleNotFoundError as exc:
        if exc.name in ("reconciler.api", "reconciler.api.routes"):
            return  # not written yet
        raise
    app.include_router(routes.router_for(ctx))

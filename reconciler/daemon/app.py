"""The daemon's HTTP side: health, readiness, Prometheus metrics and push webhooks.

The agents' public API (reconciler/api/) is mounted on this same app: see
`_include_public_api`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reconciler.api.limits import DEFAULT_MAX_PAYLOAD, BodyLimit
from reconciler.daemon import hooks, readiness
from reconciler.daemon.config import DEFAULT_MAX_HOOK
from reconciler.daemon.dedup import GITHUB_HEADERS, GITLAB_HEADERS, Deliveries, delivery_id
from reconciler.daemon.loop import Health
from reconciler.daemon.metrics import Metrics
from reconciler.ui import mount as mount_dashboard

HOOKS_PREFIX = "/hooks/"


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
    deliveries: Deliveries = field(default_factory=Deliveries)
    max_hook_bytes: int = DEFAULT_MAX_HOOK
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD

    @property
    def store_path(self) -> Path:
        return self.state_path


def create_app(ctx: DaemonContext) -> FastAPI:
    # Swagger UI is served offline by the dashboard (reconciler/ui/docs.py), not from a CDN.
    app = FastAPI(title="n8n-reconciler", summary="GitOps reconciler daemon for n8n",
                  docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, limit_for=lambda path: (
        ctx.max_hook_bytes if path.startswith(HOOKS_PREFIX) else ctx.max_payload_bytes))
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
        """The daemon can work: state writable, git fetched, n8n takes its key.

        A commit that does not validate is a reported condition, not unreadiness."""
        ready, body = readiness.report(ctx.health, ctx.state_path, ctx.n8n_url,
                                       ctx.n8n_api_key, ctx.failing_grace)
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"])
    def metrics() -> Response:
        """Prometheus exposition format."""
        ctx.metrics.refresh_instances(ctx.state_path)
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


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
        if _replayed(ctx, "github", delivery_id(request.headers, GITHUB_HEADERS)):
            return _duplicate()
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
        body = await request.body()
        if _replayed(ctx, "gitlab", delivery_id(request.headers, GITLAB_HEADERS)):
            return _duplicate()
        return _accept(ctx, "webhook:gitlab", body)


def _replayed(ctx: DaemonContext, source: str, delivery: str | None) -> bool:
    """Called only once the signature or token checked out: ids cannot be pre-poisoned."""
    return delivery is not None and ctx.deliveries.replay(f"{source}:{delivery}")


def _duplicate() -> JSONResponse:
    return JSONResponse({"accepted": False, "duplicate": True}, status_code=200)


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

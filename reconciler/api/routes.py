"""The HTTP API under /api/v1, as a FastAPI router the daemon mounts.

Every error is JSON `{"detail": {"code", "message", ...}}` with a stable code; the
route class below turns project errors and request validation errors into that
shape, so it holds in whatever app includes the router.
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Query, Request, Response, Security
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader

from reconciler.api import catalog as catalog_files
from reconciler.api import error_reports, usage
from reconciler.api import skills as skill_files
from reconciler.api.errors import ApiError
from reconciler.api.keys import Instance
from reconciler.api.limits import BodyLimit, max_payload_from_env
from reconciler.api.models import (
    CatalogList,
    ErrorReportResult,
    ErrorResponse,
    ExecutionDetail,
    ExecutionList,
    SkillList,
    Status,
    TriggerResult,
)
from reconciler.api.service import ApiContext, ApiSettings, Service
from reconciler.errors import N8nError, ReconcilerError
from reconciler.render.error_workflow import ORG_TOKEN_HEADER

PREFIX = "/api/v1"
SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
_KEY = APIKeyHeader(name="X-API-Key", auto_error=False,
                    description="The instance's key (`reconciler instance key INSTANCE`).")


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": {"code": code, "message": message, **extra}}, status)


def _validation(exc: RequestValidationError) -> JSONResponse:
    # `input` is left out: it would echo the caller's data back (and into logs).
    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in exc.errors()]
    return _error(422, "invalid_request", "the request does not match the API", errors=errors)


class GuardedRoute(APIRoute):
    """Project errors become JSON with a stable code instead of a 500."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                return JSONResponse(exc.body(), exc.status)
            except RequestValidationError as exc:
                return _validation(exc)
            except N8nError as exc:
                return _error(502, "n8n_unavailable", f"n8n did not answer: {exc}")
            except ReconcilerError as exc:
                return _error(503, "unavailable", str(exc))

        return guarded


_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorResponse} for s in (401, 402, 403, 404, 409, 413, 422, 502, 503)}


def router_for(context: ApiSettings) -> APIRouter:
    """The API for the daemon's app: `app.include_router(router_for(context))`."""
    service = Service(context)
    return build_router(lambda: service)


def build_router(get_service: Callable[[], Service]) -> APIRouter:
    router = APIRouter(prefix=PREFIX, route_class=GuardedRoute, responses=_ERRORS)

    def caller(key: Annotated[str | None, Security(_KEY)] = None) -> Instance:
        return get_service().authenticate(key)

    _add_trigger(router, get_service, caller)
    _add_executions(router, get_service, caller)
    _add_skills(router, get_service, caller)
    _add_catalog(router, get_service, caller)
    _add_internal(router, get_service)
    usage.add_usage(router, lambda: (get_service().store, get_service().lock), caller)
    return router


def _add_trigger(router: APIRouter, get_service: Callable[[], Service],
                 caller: Callable[..., Instance]) -> None:
    @router.post("/workflows/{workflow_id}/trigger", response_model=TriggerResult,
                 responses={202: {"model": TriggerResult}}, tags=["workflows"])
    def trigger(
        workflow_id: Annotated[str, PathParam(pattern=SLUG)],
        payload: Annotated[dict[str, Any], Body(examples=[{"company": "Initech"}])],
        instance: Annotated[Instance, Depends(caller)],
        response: Response,
        wait: bool = False,
        timeout: Annotated[float, Query(ge=1, le=120)] = 30.0,
    ) -> dict[str, Any]:
        """Start a workflow of the key's instance with a JSON payload.

        With `wait=true` the call returns when the run ends (200) or after
        `timeout` seconds (202, still pending); without, at once (202).
        """
        record, answer = get_service().trigger(instance, workflow_id, payload, wait=wait,
                                               timeout=timeout)
        response.status_code = 202 if record.status == "pending" else 200
        return {"execution": record.public(), "response": answer}


def _add_executions(router: APIRouter, get_service: Callable[[], Service],
                    caller: Callable[..., Instance]) -> None:
    @router.get("/executions", response_model=ExecutionList, tags=["executions"])
    def list_executions(
        instance: Annotated[Instance, Depends(caller)],
        workflow_id: Annotated[str | None, Query(pattern=SLUG)] = None,
        status: Status | None = None,
        since: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        """The instance's executions, newest first."""
        found = get_service().list_executions(instance, workflow_id=workflow_id,
                                              status=status, since=_utc(since), limit=limit)
        return {"data": [r.public() for r in found]}

    @router.get("/executions/{execution_id}", response_model=ExecutionDetail,
                tags=["executions"])
    def get_execution(
        execution_id: Annotated[str, PathParam(max_length=64)],
        instance: Annotated[Instance, Depends(caller)],
        deep: bool = False,
        slim: bool = False,
    ) -> dict[str, Any]:
        """One execution; `deep` follows sub-workflow runs, `slim` drops item bodies."""
        record, run = get_service().execution(instance, execution_id, deep=deep, slim=slim)
        return {"execution": record.public(), "run": run}


def _add_skills(router: APIRouter, get_service: Callable[[], Service],
                caller: Callable[..., Instance]) -> None:
    @router.get("/skills", response_model=SkillList, tags=["skills"])
    def list_skills(request: Request,
                    instance: Annotated[Instance, Depends(caller)]) -> dict[str, Any]:
        """The instance's SKILL.md files with its trigger URLs and input schemas."""
        service = get_service()
        with service.lock:
            found = skill_files.skills(service.store, instance, service.n8n_url,
                                       str(request.base_url))
        return {"instance_id": instance.id, "data": found}


def _add_catalog(router: APIRouter, get_service: Callable[[], Service],
                 caller: Callable[..., Instance]) -> None:
    @router.get("/catalog", response_model=CatalogList, response_model_by_alias=True,
                tags=["catalog"])
    def list_catalog(instance: Annotated[Instance, Depends(caller)]) -> dict[str, Any]:
        """What the key's instance owner may install (docs/catalogue.md): the user's
        catalogue for a personal instance, the organization's for an org-owned one."""
        service = get_service()
        with service.lock:
            return catalog_files.catalog(service.store, instance)


def _add_internal(router: APIRouter, get_service: Callable[[], Service]) -> None:
    @router.post("/internal/errors/{org}", response_model=ErrorReportResult,
                 tags=["internal"])
    def report_error(
        org: Annotated[str, PathParam(pattern=SLUG)],
        report: Annotated[dict[str, Any], Body()],
        token: Annotated[str | None, Header(alias=ORG_TOKEN_HEADER)] = None,
    ) -> dict[str, Any]:
        """Called by the organization's error workflow in n8n for every failed run."""
        recorded, action = error_reports.record_report(get_service(), org, token, report)
        return {"recorded": recorded, "action": action}


def _utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    try:
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="milliseconds")
    except (OverflowError, ValueError):
        raise ApiError(422, "invalid_request", "'since' is out of range") from None


def create_api_app(store_path: str | Path, n8n_url: str, n8n_api_key: str) -> FastAPI:
    """The API alone (tests, schemathesis); the daemon includes `router_for` instead."""
    service = Service(ApiContext(store_path, n8n_url, n8n_api_key))
    return app_with(lambda: service, on_close=service.close)


def app_with(get_service: Callable[[], Service],
             on_close: Callable[[], None] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if on_close is not None:
            on_close()

    app = FastAPI(title="n8n-reconciler agents' API", version="1", lifespan=lifespan,
                  description="Trigger an instance's workflows and follow their executions. "
                              "Authenticate with the instance's key in `X-API-Key`.")
    app.include_router(build_router(get_service))
    limit = max_payload_from_env()
    app.add_middleware(BodyLimit, limit_for=lambda _path: limit)
    return app

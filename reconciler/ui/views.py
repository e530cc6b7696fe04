"""The dashboard's pages: overview, processes, instances, runs, executions, live status."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from reconciler.api.errors import ApiError
from reconciler.api.keys import load_instance
from reconciler.model.platform import INSTANCE_STATES
from reconciler.ui import data, detail
from reconciler.ui.data import Scope
from reconciler.ui.pages import PREFIX, Dashboard, same_origin

PageNo = Annotated[int, Query(ge=1, le=100_000)]
Text = Annotated[str | None, Query(max_length=200)]


def add_routes(app: FastAPI, board: Dashboard) -> None:
    _overview_routes(app, board)
    _process_routes(app, board)
    _instance_routes(app, board)
    _run_routes(app, board)
    _execution_routes(app, board)


def _not_found(board: Dashboard, request: Request, who: Any, started: float,
               what: str) -> HTMLResponse:
    return board.render(request, "notfound.html", who, started, status=404, what=what)


def _overview_routes(app: FastAPI, board: Dashboard) -> None:
    @app.get(PREFIX, include_in_schema=False)
    def bare() -> Response:
        return RedirectResponse(PREFIX + "/", status_code=307)

    @app.get(PREFIX + "/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> HTMLResponse:
        started = time.perf_counter()
        who = board.viewer(request)
        with board.service.lock:
            found = data.overview(board.service.store, Scope(who.org))
        return board.render(request, "overview.html", who, started, o=found)

    @app.get(PREFIX + "/live.json", include_in_schema=False)
    def live(request: Request) -> JSONResponse:
        who = board.viewer(request)
        with board.service.lock:
            running = data.running_run(board.service.store)
            last = data.last_run(board.service.store, Scope(who.org))
        return JSONResponse({"running": running, "last": {"id": last["id"],
                                                          "outcome": last["outcome"]}
                             if last else None}, headers={"Cache-Control": "no-store"})

    @app.post(PREFIX + "/reconcile", include_in_schema=False)
    def reconcile(request: Request) -> Response:
        who = board.viewer(request)
        if not who.admin or board.request_reconcile is None or not same_origin(request):
            return Response("only the admin may ask for a reconcile, from the dashboard",
                            status_code=403, media_type="text/plain")
        board.request_reconcile("ui")
        return RedirectResponse(PREFIX + "/runs?requested=1", status_code=303)


def _process_routes(app: FastAPI, board: Dashboard) -> None:
    @app.get(PREFIX + "/processes", response_class=HTMLResponse, include_in_schema=False)
    def processes(request: Request) -> HTMLResponse:
        started = time.perf_counter()
        who = board.viewer(request)
        with board.service.lock:
            found = data.processes(board.service.store, Scope(who.org))
        return board.render(request, "processes.html", who, started, processes=found)

    @app.get(PREFIX + "/processes/{use_case}", response_class=HTMLResponse,
             include_in_schema=False)
    def process(request: Request, use_case: str) -> HTMLResponse:
        started = time.perf_counter()
        who = board.viewer(request)
        with board.service.lock:
            found = detail.process(board.service.store, Scope(who.org), use_case)
        if found is None:
            return _not_found(board, request, who, started, f"process {use_case}")
        return board.render(request, "process.html", who, started, p=found)


def _instance_routes(app: FastAPI, board: Dashboard) -> None:
    @app.get(PREFIX + "/instances", response_class=HTMLResponse, include_in_schema=False)
    def instances(request: Request, state: Text = None, environment: Text = None,
                  use_case: Text = None, notices: bool = False,
                  page: PageNo = 1) -> HTMLResponse:
        started = time.perf_counter()
        who = board.viewer(request)
        with board.service.lock:
            found = data.instances(board.service.store, Scope(who.org), state=state,
                                   environment=environment, use_case=use_case,
                                   notices=notices, page=page)
        filters = {"state": state, "environment": environment, "use_case": use_case,
                   "notices": "1" if notices else None}
        return board.render(request, "instances.html", who, started, found=found,
                            filters=filters, states=INSTANCE_STATES)

    @app.get(PREFIX + "/instances/{instance_id}", response_class=HTMLResponse,
             include_in_schema=False)
    def instance(request: Request, instance_id: str) -> HTMLResponse:
        started = time.perf_counter()
        who = board.viewer(request)
        with board.service.lock:
            found = detail.instance(board.service.store, Scope(who.org), instance_id,
                                    board.n8n_url, str(request.base_url))
        if found is None:
            return _not_found(board, request, who, started, f"instance {instance_id}")
        return board.render(request, "instance.html", who, started, i=found)


def _run_routes(app: FastAPI, board: Dashboard) -> None:
    @app.get(PREFIX + "/runs", response_class=HTMLResponse, include_in_schema=False)
    def runs(request: Request, outcome: Text = None, trigger: Text = None,
             page: PageNo = 1, requested: bool = False) -> HTMLResponse:
        started = time.perf_counter()
        who = board.viewer(request)
        with board.service.lock:
            found = data.runs(board.service.store, Scope(who.org), outcome=outcome,
                              trigger=trigger, page=page)
        return board.render(request, "runs.html", who, started, found=found,
                            filters={"outcome": outcome, "trigger": trigger},
                            requested=requested)

    @app.get(PREFIX + "/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run(request: Request, run_id: int) -> HTMLResponse:
        started = time.perf_counter()
        who = board.viewer(request)
        with board.service.lock:
            found = detail.run(board.service.store, Scope(who.org), run_id)
        if found is None:
            return _not_found(board, request, who, started, f"run {run_id}")
        return board.render(request, "run.html", who, started, r=found)


def _execution_routes(app: FastAPI, board: Dashboard) -> None:
    @app.get(PREFIX + "/executions", response_class=HTMLResponse, include_in_schema=False)
    def executions(request: Request, status: Text = None, instance: Text = None,
                   page: PageNo = 1) -> HTMLResponse:
        started = time.perf_counter()
        who = board.viewer(request)
        with board.service.lock:
            found = data.executions(board.service.store, Scope(who.org), status=status,
                                    instance_id=instance, page=page)
        return board.render(request, "executions.html", who, started, found=found,
                            filters={"status": status, "instance": instance})

    @app.get(PREFIX + "/executions/{execution_id}", response_class=HTMLResponse,
             include_in_schema=False)
    def execution(request: Request, execution_id: str) -> HTMLResponse:
        started = time.perf_counter()
        who = board.viewer(request)
        service = board.service
        with service.lock:
            record = service.records.find(execution_id)
            visible = record is not None and detail.instance_visible(
                service.store, Scope(who.org), record.instance_id)
            owner = load_instance(service.store, record.instance_id) if record else None
        if record is None or owner is None or not visible:
            return _not_found(board, request, who, started, f"execution {execution_id}")
        trace, problem = None, None
        try:
            record, trace = service.execution(owner, execution_id, deep=True, slim=True)
        except ApiError as exc:
            problem = str(exc)
        return board.render(request, "execution.html", who, started, e=record.public(),
                            trace=trace, problem=problem)

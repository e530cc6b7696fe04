"""N8nClient against injected faults: no n8n needed.

httpx.MockTransport plays n8n; two tiny socket servers on 127.0.0.1 produce real
dropped connections and real read timeouts through httpx's own transport.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from reconciler.adapters.n8n_client import N8nClient, RequestCounter, strip_read_only
from reconciler.errors import (
    N8nBadRequest,
    N8nConflict,
    N8nError,
    N8nNotFound,
    N8nTemporary,
    N8nUnauthorized,
)

KEY = "test-api-key-0123456789"
SECRET = "s3cret-value-must-not-leak"
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A fake `sleep` that records the delays asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_client(handler: Handler, sleep: Recorder | None = None, **kwargs: object) -> N8nClient:
    return N8nClient(
        "http://127.0.0.1:5678", KEY, transport=httpx.MockTransport(handler),
        sleep=sleep or Recorder(), **kwargs,  # type: ignore[arg-type]
    )


def always(status: int, body: object | None = None, headers: dict[str, str] | None = None
           ) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body if body is not None else {"message": "boom"},
                              headers=headers)

    return handler, seen


def sequence(*steps: int | Exception) -> tuple[Handler, list[httpx.Request]]:
    """Answers (or raises) each step in turn; the last one repeats."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        step = steps[min(len(seen), len(steps) - 1)]
        seen.append(request)
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step, json={"id": "w1", "message": f"status {step}"})

    return handler, seen


# --- retries and backoff --------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_then_temporary(status: int) -> None:
    handler, seen = always(status)
    sleep = Recorder()
    client = make_client(handler, sleep, max_retries=3, backoff=0.5)
    with pytest.raises(N8nTemporary) as caught:
        client.get_workflow("w1")
    assert len(seen) == 4  # first try + 3 retries
    assert len(sleep.delays) == 3
    for attempt, delay in enumerate(sleep.delays):
        assert 0.0 <= delay <= 0.5 * 2**attempt  # full jitter, bounded
    assert caught.value.status == status
    assert caught.value.delay > 0
    assert client.counter.snapshot() == {"reads": 4, "writes": 0}


def test_transient_error_then_success() -> None:
    handler, seen = sequence(503, 502, 200)
    sleep = Recorder()
    client = make_client(handler, sleep)
    assert client.get_workflow("w1")["id"] == "w1"
    assert len(seen) == 3
    assert len(sleep.delays) == 2
    assert client.counter.reads == 3


def test_retry_after_is_honoured() -> None:
    handler, seen = always(429, headers={"Retry-After": "7"})
    sleep = Recorder()
    client = make_client(handler, sleep, max_retries=2)
    with pytest.raises(N8nTemporary) as caught:
        client.list_tags()
    assert sleep.delays == [7.0, 7.0]
    assert caught.value.delay == 7.0
    assert len(seen) == 3


def test_backoff_is_capped() -> None:
    handler, _ = always(500)
    sleep = Recorder()
    client = make_client(handler, sleep, max_retries=12, backoff=1.0)
    with pytest.raises(N8nTemporary):
        client.get_workflow("w1")
    assert len(sleep.delays) == 12
    assert max(sleep.delays) <= 30.0


def test_zero_retries_means_one_attempt() -> None:
    handler, seen = always(503)
    sleep = Recorder()
    with pytest.raises(N8nTemporary):
        make_client(handler, sleep, max_retries=0).get_workflow("w1")
    assert len(seen) == 1
    assert sleep.delays == []


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
    ],
)
def test_transport_faults_on_reads_are_retried(fault: Exception) -> None:
    handler, seen = sequence(fault)
    sleep = Recorder()
    client = make_client(handler, sleep, max_retries=2)
    with pytest.raises(N8nTemporary) as caught:
        client.list_workflows()
    assert len(seen) == 3
    assert len(sleep.delays) == 2
    assert caught.value.status is None
    assert "GET /api/v1/workflows" in str(caught.value)


@pytest.mark.parametrize(
    "fault",
    [httpx.ReadTimeout("read timed out"), httpx.RemoteProtocolError("dropped"), 500, 502],
)
def test_create_is_not_retried_once_it_may_have_arrived(fault: Exception | int) -> None:
    handler, seen = sequence(fault)
    sleep = Recorder()
    client = make_client(handler, sleep)
    with pytest.raises(N8nTemporary):
        client.create_workflow({"name": "x", "nodes": [], "connections": {}})
    assert len(seen) == 1
    assert sleep.delays == []
    assert client.counter.snapshot() == {"reads": 0, "writes": 1}


@pytest.mark.parametrize("fault", [httpx.ConnectError("refused"), httpx.ConnectTimeout("t"), 429])
def test_create_is_retried_when_it_never_arrived(fault: Exception | int) -> None:
    handler, seen = sequence(fault, 200)
    client = make_client(handler)
    assert client.create_tag("t")["id"] == "w1"
    assert len(seen) == 2
    assert client.counter.writes == 2


def test_idempotent_writes_are_retried() -> None:
    handler, seen = sequence(httpx.ReadTimeout("t"), 502, 200)
    client = make_client(handler)
    client.publish_workflow("w1")
    assert len(seen) == 3
    assert client.counter.snapshot() == {"reads": 0, "writes": 3}


# --- translation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, N8nBadRequest),
        (401, N8nUnauthorized),
        (403, N8nUnauthorized),
        (404, N8nNotFound),
        (409, N8nConflict),
    ],
)
def test_client_errors_are_translated_and_not_retried(status: int, error: type[N8nError]) -> None:
    handler, seen = always(status, {"message": "n8n says no"})
    sleep = Recorder()
    client = make_client(handler, sleep)
    with pytest.raises(error) as caught:
        client.update_workflow("abc", {"name": "x", "nodes": [], "connections": {}})
    assert len(seen) == 1
    assert sleep.delays == []
    text = str(caught.value)
    assert "PUT /api/v1/workflows/abc" in text
    assert "n8n says no" in text
    assert caught.value.status == status


def test_messages_hold_neither_key_nor_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-N8N-API-KEY"] == KEY
        assert SECRET in request.content.decode()
        return httpx.Response(400, json={"message": "request/body/data must be valid"})

    client = make_client(handler)
    with pytest.raises(N8nBadRequest) as caught:
        client.create_credential("c", "httpHeaderAuth", {"name": "X", "value": SECRET})
    assert SECRET not in str(caught.value)
    assert KEY not in str(caught.value)
    assert KEY not in repr(client)

    boom, _ = sequence(httpx.ConnectError(f"failed for {KEY} {SECRET}"))
    with pytest.raises(N8nTemporary) as temporary:
        make_client(boom, max_retries=1).create_credential("c", "t", {"value": SECRET})
    assert SECRET not in str(temporary.value)
    assert KEY not in str(temporary.value)


def test_html_error_page_is_reduced_to_the_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>secret proxy page</html>")

    with pytest.raises(N8nTemporary) as caught:
        make_client(handler, max_retries=0).get_workflow("w")
    assert "Bad Gateway" in str(caught.value)
    assert "proxy page" not in str(caught.value)


def test_non_json_success_is_an_n8n_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="n8n is starting up")

    with pytest.raises(N8nTemporary):
        make_client(handler).get_workflow("w")


def test_unreachable_server_is_temporary_not_httpx() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    sleep = Recorder()
    client = N8nClient(f"http://127.0.0.1:{port}", KEY, max_retries=2, sleep=sleep, timeout=2)
    with pytest.raises(N8nTemporary):
        client.get_workflow("w")
    assert len(sleep.delays) == 2
    assert client.counter.reads == 3


# --- real sockets: dropped connections and read timeouts ----------------------------------


@pytest.fixture
def misbehaving_server() -> Iterator[Callable[[str], int]]:
    """Start a loopback server that drops or stalls every connection; yields a starter."""
    stop = threading.Event()
    sockets: list[socket.socket] = []

    def start(mode: str) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.1)
        sockets.append(listener)

        def serve() -> None:
            held: list[socket.socket] = []
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                conn.recv(65536)
                if mode == "drop":
                    conn.close()
                else:
                    held.append(conn)  # never answers
            for conn in held:
                conn.close()

        threading.Thread(target=serve, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    stop.set()
    time.sleep(0.2)
    for listener in sockets:
        listener.close()


@pytest.mark.parametrize("mode", ["drop", "stall"])
def test_real_socket_faults(misbehaving_server: Callable[[str], int], mode: str) -> None:
    port = misbehaving_server(mode)
    sleep = Recorder()
    client = N8nClient(f"http://127.0.0.1:{port}", KEY, timeout=0.3, max_retries=2, sleep=sleep)
    started = time.monotonic()
    with pytest.raises(N8nTemporary):
        client.list_workflows()
    assert time.monotonic() - started < 5
    assert len(sleep.delays) == 2
    assert client.counter.reads == 3
    # ... and a create is tried once only: it may have reached the server.
    with pytest.raises(N8nTemporary):
        client.create_workflow({"name": "x", "nodes": [], "connections": {}})
    assert client.counter.writes == 1


# --- pagination, bodies, counting, concurrency -----------------------------------------


def test_list_follows_cursor_with_max_page_size() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        cursor = request.url.params.get("cursor")
        if cursor is None:
            page = {"data": [{"id": "1"}, {"id": "2"}], "nextCursor": "c2"}
            return httpx.Response(200, json=page)
        return httpx.Response(200, json={"data": [{"id": "3"}], "nextCursor": None})

    client = make_client(handler)
    found = client.list_workflows(tags="a,b", name="n", active=False)
    assert [w["id"] for w in found] == ["1", "2", "3"]
    assert len(seen) == 2
    first = seen[0].url.params
    assert first["limit"] == "250"
    assert first["tags"] == "a,b"
    assert first["name"] == "n"
    assert first["active"] == "false"
    assert seen[1].url.params["cursor"] == "c2"
    assert client.counter.snapshot() == {"reads": 2, "writes": 0}


def test_list_executions_stops_at_limit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["limit"] == "3"
        assert request.url.params["workflowId"] == "w"
        return httpx.Response(200, json={"data": [{"id": str(i)} for i in range(3)],
                                         "nextCursor": "more"})

    client = make_client(handler)
    assert len(client.list_executions(workflow_id="w", limit=3)) == 3
    assert client.counter.reads == 1


def test_strip_read_only() -> None:
    full = {
        "id": "x", "name": "n", "nodes": [], "connections": {}, "active": True,
        "versionId": "v", "activeVersionId": "v", "tags": [], "meta": {}, "isArchived": False,
        "createdAt": "t", "updatedAt": "t", "description": "d", "staticData": None,
        "pinData": {"a": []},
        "settings": {"executionOrder": "v1", "timezone": "UTC", "binaryMode": "x",
                     "unknownSetting": 1},
    }
    assert strip_read_only(full) == {
        "name": "n", "nodes": [], "connections": {}, "pinData": {"a": []},
        "settings": {"executionOrder": "v1", "timezone": "UTC", "binaryMode": "x"},
    }
    assert strip_read_only({"name": "n", "nodes": [], "connections": {}})["settings"] == {}


def test_update_sends_description_and_publish_flag() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "w"})

    client = make_client(handler)
    client.update_workflow("w", {"name": "n", "nodes": [], "connections": {}, "id": "w",
                                 "description": "d"}, publish_if_active=False)
    body = json.loads(seen[0].content)
    assert body == {"name": "n", "nodes": [], "connections": {}, "settings": {},
                    "description": "d"}
    assert seen[0].url.params["publishIfActive"] == "false"
    client.publish_workflow("w", "v1")
    assert json.loads(seen[1].content) == {"versionId": "v1"}
    assert seen[1].url.path == "/api/v1/workflows/w/publish"


def test_ensure_tag_finds_existing_on_conflict() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(409, json={"message": "Tag already exists"})
        return httpx.Response(200, json={"data": [{"id": "t9", "name": "prod"}],
                                         "nextCursor": None})

    client = make_client(handler)
    assert client.ensure_tag("prod")["id"] == "t9"
    with pytest.raises(N8nConflict):
        client.ensure_tag("missing")


def test_concurrency_is_bounded() -> None:
    lock = threading.Lock()
    in_flight = 0
    peak = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02)
        with lock:
            in_flight -= 1
        return httpx.Response(200, json={"id": "w"})

    client = make_client(handler, max_concurrency=2)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(client.get_workflow, [str(i) for i in range(24)]))
    assert peak == 2
    assert client.counter.reads == 24


def test_counter_is_thread_safe() -> None:
    counter = RequestCounter()

    def bump(_: int) -> None:
        for _ in range(1000):
            counter.count("GET")
            counter.count("POST")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(bump, range(8)))
    assert counter.snapshot() == {"reads": 8000, "writes": 8000}
    counter.reset()
    assert (counter.reads, counter.writes) == (0, 0)


# --- wait_for_webhook ------------------------------------------------------------------


def test_wait_for_webhook_polls_preflight_without_the_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert "X-N8N-API-KEY" not in request.headers
        assert request.method == "OPTIONS"
        assert request.url.path == "/webhook/my/hook"
        if len(seen) < 3:
            return httpx.Response(500)
        return httpx.Response(204, headers={"Access-Control-Allow-Methods": "OPTIONS, POST"})

    sleep = Recorder()
    client = make_client(handler, sleep)
    client.wait_for_webhook("/my/hook", "post")
    assert len(seen) == 3
    assert len(sleep.delays) == 2
    assert all(d <= 0.5 for d in sleep.delays)
    assert client.counter.snapshot() == {"reads": 3, "writes": 0}


def test_wait_for_webhook_gives_up_in_time() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # Registered, but for another method: not what we wait for.
        return httpx.Response(204, headers={"Access-Control-Allow-Methods": "OPTIONS, GET"})

    client = N8nClient("http://127.0.0.1:5678", KEY, transport=httpx.MockTransport(handler))
    started = time.monotonic()
    with pytest.raises(N8nTemporary, match="not registered"):
        client.wait_for_webhook("h", "POST", timeout=0.4)
    assert time.monotonic() - started < 2


def test_conflict_that_says_try_again_is_temporary() -> None:
    busy = {"message": "Workflow is still being unpublished. Please try again in a few moments."}
    answers = [httpx.Response(409, json=busy), httpx.Response(204)]
    sleep = Recorder()
    client = make_client(lambda request: answers.pop(0), sleep)
    client.delete_workflow("w")
    assert len(sleep.delays) == 1
    assert client.counter.writes == 2

"""A real `reconciler run` (uvicorn) under hostile requests: oversized bodies are cut
before they are read, replayed deliveries reconcile nothing."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.daemon.hooks import SECRET_ENV, github_signature
from tests.daemon.conftest import RECONCILER, Git, daemon_env, free_port, runs, wait_for
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n

SECRET = "hostile-hook-secret"
PUSH = json.dumps({"ref": "refs/heads/main"}).encode()
API_LIMIT = 4096  # RECONCILER_MAX_PAYLOAD_BYTES for these daemons


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    platform: Platform

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self) -> int:
        return len(runs(self.platform.store.path))

    def settled(self) -> bool:
        found = runs(self.platform.store.path)
        return bool(found) and all(r["finished_at"] for r in found)

    def idle(self) -> None:
        wait_for(self.settled, 60, "the runs in flight to finish")


@pytest.fixture
def served(n8n_server: ServerInfo, platform: Platform, git: Git) -> Iterator[Served]:
    for instance in (platform.repo / "instances").glob("*.yaml"):
        instance.unlink()  # what n8n holds does not matter here: a short startup reconcile
    git.commit("no instances")
    env = daemon_env(n8n_server, platform)
    env.update({SECRET_ENV: SECRET, "RECONCILER_MAX_PAYLOAD_BYTES": str(API_LIMIT)})
    port = free_port()
    process = subprocess.Popen(
        [RECONCILER, "run", "--repo", git.url, "--listen", f"127.0.0.1:{port}",
         "--interval", "3600", "--resync", "3600"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found = Served(process, port, platform)
    try:
        wait_for(lambda: _serving(found.url), 30, "the daemon to serve")
        wait_for(found.settled, 120, "the startup reconcile")
        yield found
    finally:
        process.kill()
        process.communicate(timeout=30)


def _serving(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def signed(body: bytes, delivery: str | None = None) -> dict[str, str]:
    headers = {"X-Hub-Signature-256": github_signature(SECRET.encode(), body),
               "X-GitHub-Event": "push", "Content-Type": "application/json"}
    if delivery is not None:
        headers["X-GitHub-Delivery"] = delivery
    return headers


def read_response(sock: socket.socket, timeout: float = 5.0) -> tuple[int, Any]:
    """Status and JSON body of the one response on a raw connection."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(v) for k, _, v in (h.partition(": ") for h in lines[1:])
                  if k.lower() == "content-length")
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed mid-body"
        body += chunk
    return int(lines[0].split()[1]), json.loads(body[:length])


def test_declared_300_mb_is_refused_at_once_without_reading(served: Served) -> None:
    before = served.count()
    for path in ("/hooks/github", "/hooks/gitlab", "/api/v1/workflows/lead-enrichment/trigger"):
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
            started = time.monotonic()
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                         f"\r\nContent-Length: {300 * 1024 * 1024}\r\n\r\n".encode()
                         + b'{"ref": ')  # a few bytes of the 300 MB it announced
            status, body = read_response(sock)
            assert time.monotonic() - started < 2.0, path
        assert status == 413, (path, body)
        assert body["detail"]["code"] == "payload_too_large"
    # the API's own limit is configurable: 5000 bytes passes the hooks' 1 MiB, not the API
    big = json.dumps({"company": "x" * 5000})
    answer = httpx.post(f"{served.url}/api/v1/workflows/lead-enrichment/trigger", content=big,
                        headers={"Content-Type": "application/json", "X-API-Key": "k"})
    assert answer.status_code == 413, answer.text
    assert f"{API_LIMIT} bytes" in answer.json()["detail"]["message"]
    assert served.count() == before


def test_chunked_body_over_the_limit_is_cut(served: Served) -> None:
    before = served.count()
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        sent = 0
        while sent < 8 * 1024 * 1024 and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        status, body = read_response(sock)
        assert time.monotonic() - started < 5.0
    assert status == 413, body
    assert sent < 8 * 1024 * 1024, "answered before the client sent it all (kernel buffers " \
        "take a few MB)"
    assert served.count() == before
    # a normal signed push still reconciles
    good = httpx.post(f"{served.url}/hooks/github", content=PUSH, headers=signed(PUSH))
    assert good.status_code == 202 and good.json() == {"accepted": True}
    wait_for(lambda: served.count() > before, 5, "the webhook's reconcile")
    assert runs(served.platform.store.path)[-1]["trigger"] == "daemon:webhook:github"


def test_replayed_delivery_reconciles_nothing(served: Served) -> None:
    url = served.url
    # an unsigned request cannot pre-poison the id the real delivery will carry
    forged = httpx.post(f"{url}/hooks/github", content=PUSH,
                        headers={**signed(PUSH, "d-1"), "X-Hub-Signature-256": "sha256=00"})
    assert forged.status_code == 401
    before = served.count()
    first = httpx.post(f"{url}/hooks/github", content=PUSH, headers=signed(PUSH, "d-1"))
    assert first.status_code == 202 and first.json() == {"accepted": True}
    wait_for(lambda: served.count() > before, 5, "the first delivery's reconcile")
    served.idle()
    after_first = served.count()

    replay = httpx.post(f"{url}/hooks/github", content=PUSH, headers=signed(PUSH, "d-1"))
    assert replay.status_code == 200
    assert replay.json() == {"accepted": False, "duplicate": True}
    gitlab = {"X-Gitlab-Token": SECRET, "X-Gitlab-Event-UUID": "g-1"}
    assert httpx.post(f"{url}/hooks/gitlab", content=PUSH, headers=gitlab).status_code == 202
    wait_for(lambda: served.count() > after_first, 5, "the gitlab delivery's reconcile")
    served.idle()
    after_gitlab = served.count()
    again = httpx.post(f"{url}/hooks/gitlab", content=PUSH, headers=gitlab)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    time.sleep(1.5)
    assert served.count() == after_gitlab, "a replay starts no reconcile"

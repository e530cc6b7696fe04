"""The managed n8n server: state files, process checks, and the CLI end to end."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from reconciler.adapters import n8n_server as server


def test_marker_short_circuits_install(tmp_path: Path) -> None:
    root = tmp_path / "install"
    root.mkdir()
    (root / ".complete").write_text("done\n")
    lines: list[str] = []
    assert server.ensure_installed(root, log=lines.append).root == root
    assert lines == []  # no npm, no lock wait


def test_incomplete_install_is_not_usable(tmp_path: Path) -> None:
    install = server.Install(tmp_path)
    assert not install.looks_usable()
    install.node.parent.mkdir(parents=True)
    install.node.write_text("#!/bin/sh\necho v24.0.0\n")
    install.node.chmod(0o755)
    install.n8n_main.parent.mkdir(parents=True)
    install.n8n_main.write_text("")
    assert not install.looks_usable()  # sqlite3's native module was never built
    build = install.n8n_prefix / "node_modules" / "sqlite3" / "build" / "Release"
    build.mkdir(parents=True)
    (build / "node_sqlite3.node").write_text("")
    assert install.looks_usable()


def _fake_usable_install(root: Path) -> server.Install:
    install = server.Install(root)
    install.node.parent.mkdir(parents=True)
    install.node.write_text("#!/bin/sh\necho v24.0.0\n")
    install.node.chmod(0o755)
    install.n8n_main.parent.mkdir(parents=True)
    install.n8n_main.write_text("")
    build = install.n8n_prefix / "node_modules" / "sqlite3" / "build" / "Release"
    build.mkdir(parents=True)
    (build / "node_sqlite3.node").write_text("")
    return install


def test_install_done_by_hand_is_adopted_under_the_lock(tmp_path: Path) -> None:
    install = _fake_usable_install(tmp_path / "n8n-x")
    lines: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with server._file_lock(tmp_path / "n8n-x.lock"):
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    worker = threading.Thread(target=server.ensure_installed, args=(install.root,),
                              kwargs={"log": lines.append})
    worker.start()
    worker.join(0.5)
    assert worker.is_alive()  # waits for the other installer
    assert not install.marker.exists()
    release.set()
    worker.join(10)
    holder.join(5)
    assert install.marker.exists()
    assert any("waiting" in line for line in lines)
    assert any("found a working install" in line for line in lines)


def test_private_files_are_created_0600(tmp_path: Path) -> None:
    target = tmp_path / "secret.env"
    server._write_private(target, "A=1\n")
    server._write_private(target, "A=2\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == "A=2\n"


def test_stale_state_is_stopped_and_never_kills_a_stranger(tmp_path: Path) -> None:
    # server.json names a live process that is not ours (this very pytest process,
    # as after pid reuse): status says stopped and down must not signal it.
    (tmp_path / "server.json").write_text(json.dumps({
        "pid": os.getpid(), "pgid": os.getpgid(0), "start_ticks": server._start_ticks(os.getpid()),
        "port": 1, "broker_port": 2, "url": "http://127.0.0.1:1",
    }))
    assert server.status(tmp_path).running is False
    assert server.down(tmp_path, log=lambda _: None) is False
    assert not (tmp_path / "server.json").exists()

    (tmp_path / "server.json").write_text(json.dumps({"pid": 2**22 + 7, "pgid": 2**22 + 7}))
    assert server.status(tmp_path).running is False
    assert server.down(tmp_path, log=lambda _: None) is False


def _reconciler(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("reconciler")
    return subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )


@pytest.mark.n8n
def test_cli_up_reuses_then_down_leaves_nothing_running(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _reconciler("n8n", "up", "--data", str(data), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    values = dict(line.split("=", 1) for line in first.stdout.split())
    assert set(values) == {"RECONCILER_N8N_URL", "RECONCILER_N8N_API_KEY"}
    url, key = values["RECONCILER_N8N_URL"], values["RECONCILER_N8N_API_KEY"]
    assert url.startswith("http://127.0.0.1:")
    assert key not in first.stderr
    assert key not in (data / "n8n.log").read_text()
    assert (data / "n8n.env").read_text().split() == first.stdout.split()
    for private in ("n8n.env", "owner.json"):
        assert stat.S_IMODE((data / private).stat().st_mode) == 0o600
    password = json.loads((data / "owner.json").read_text())["password"]
    assert password not in first.stdout + first.stderr
    answer = httpx.get(f"{url}/api/v1/workflows", headers={"X-N8N-API-KEY": key}, timeout=10)
    assert answer.status_code == 200

    state = json.loads((data / "server.json").read_text())
    pid = state["pid"]
    assert server.processes_for(data)

    again = _reconciler("n8n", "up", "--data", str(data), cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout == first.stdout  # same server, same key
    assert json.loads((data / "server.json").read_text())["pid"] == pid
    assert "reusing" in again.stderr

    running = _reconciler("n8n", "status", "--data", str(data), cwd=tmp_path)
    assert running.returncode == 0
    assert running.stdout.startswith(f"running {url}")

    down = _reconciler("n8n", "down", "--data", str(data), cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert not (data / "server.json").exists()
    assert server.processes_for(data) == []
    assert server.group_members(state["pgid"]) == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/healthz/readiness", timeout=2)

    stopped = _reconciler("n8n", "status", "--data", str(data), cwd=tmp_path)
    assert (stopped.returncode, stopped.stdout.strip()) == (1, "stopped")
    assert _reconciler("n8n", "down", "--data", str(data), cwd=tmp_path).returncode == 0

    # Up again on the same folder: a new process, the same owner, a working key.
    restarted = _reconciler("n8n", "up", "--data", str(data), cwd=tmp_path)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    values = dict(line.split("=", 1) for line in restarted.stdout.split())
    answer = httpx.get(
        f"{values['RECONCILER_N8N_URL']}/api/v1/workflows",
        headers={"X-N8N-API-KEY": values["RECONCILER_N8N_API_KEY"]}, timeout=10,
    )
    assert answer.status_code == 200
    assert _reconciler("n8n", "down", "--data", str(data), cwd=tmp_path).returncode == 0
    assert server.processes_for(data) == []


def test_default_data_dir_is_under_the_current_folder(tmp_path: Path) -> None:
    result = _reconciler("n8n", "status", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (1, "stopped")
    assert Path(".reconciler") / "n8n" == server.DEFAULT_DATA_DIR


def _fake_server_install(root: Path, script: str) -> Path:
    """An 'install' whose node is a shell script: lets start-up failures be staged."""
    install = _fake_usable_install(root)
    install.node.write_text("#!/bin/sh\n" + script)
    install.marker.write_text("fake\n")
    return root


def test_early_exit_reports_the_log_tail(tmp_path: Path) -> None:
    root = _fake_server_install(tmp_path / "inst", "echo 'fatal: database is locked'\nexit 3\n")
    data = tmp_path / "data"
    with pytest.raises(server.N8nServerError) as caught:
        server.up(data, install_dir=root, ready_timeout=30, log=lambda _: None)
    text = str(caught.value)
    assert "exited with code 3" in text
    assert "fatal: database is locked" in text
    assert not (data / "server.json").exists()


def test_not_ready_in_time_is_stopped(tmp_path: Path) -> None:
    root = _fake_server_install(tmp_path / "inst", "echo starting\nexec sleep 60\n")
    data = tmp_path / "data"
    with pytest.raises(server.N8nServerError, match="not ready after 1s"):
        server.up(data, install_dir=root, ready_timeout=1, log=lambda _: None)
    assert server.processes_for(data) == []
    assert not (data / "server.json").exists()


def test_down_stops_what_a_dead_leader_left_behind(tmp_path: Path) -> None:
    # The leader exits and leaves a child in its process group (as a crashed n8n
    # would leave its task runner).
    leader = subprocess.Popen(
        ["sh", "-c", "sleep 60 & exit 0"], start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    leader.wait(10)
    assert server.group_members(leader.pid)
    (tmp_path / "server.json").write_text(json.dumps({"pid": leader.pid, "pgid": leader.pid}))
    assert server.down(tmp_path, log=lambda _: None) is False
    assert server.group_members(leader.pid) == []

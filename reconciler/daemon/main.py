"""`reconciler run`: lock the state, bind the port, start the loop and the HTTP server,
stop on a signal."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType

import uvicorn

from reconciler.apply.runtime import make_engine, n8n_from_env, open_store
from reconciler.daemon import ha, logs
from reconciler.daemon.app import DaemonContext, create_app
from reconciler.daemon.config import DaemonConfig
from reconciler.daemon.dedup import Deliveries
from reconciler.daemon.gitwatch import GitWatcher
from reconciler.daemon.loop import GOOD, Daemon
from reconciler.errors import ReconcilerError, UsageError
from reconciler.store.lock import StateLock


class PortTaken(ReconcilerError):
    """The HTTP address cannot be bound: another process listens there."""


def serve(config: DaemonConfig) -> int:
    """Lock the state, then bind the port, then touch the state and n8n: a daemon that
    cannot serve or cannot own the state exits 1 before its first write anywhere."""
    if not config.repo:
        raise UsageError("name the repository: --repo URL|PATH (or RECONCILER_REPO)")
    logger = logs.setup(config.log_format, config.log_level)
    shared = ha.replicated(config)  # PostgreSQL: a leader lease instead of the file lock
    if shared is not None:
        ha.check_environment()
    lock = StateLock(config.state_file)
    if shared is None and config.wait_lock:
        logger.info("waiting for the state lock", extra={"fields": {"lock": str(lock.path)}})
    if shared is None:
        lock.acquire(wait=config.wait_lock)
    listener: socket.socket | None = None
    try:
        listener = None if config.once else bind(config)
        store = open_store(str(config.state_file))
        engine = make_engine(store)
        repos = (ha.repos_dir(config) if shared is not None
                 else config.state_file.with_name(config.state_file.name + ".repos"))
        watcher = GitWatcher(config.repo, config.branch, repos,
                             token_env=config.git_token_env, username=config.git_username,
                             ssh_key=config.ssh_key)
        daemon = Daemon(config, engine, watcher)
        stopping = _on_signals(daemon)
        if shared is not None:
            return _replica(daemon, stopping, listener, shared)
        _mark_interrupted(daemon)
        if listener is None:
            return _once(daemon)
        return _forever(daemon, stopping, listener)
    finally:
        if listener is not None:
            listener.close()
        lock.release()


def _replica(daemon: Daemon, stopping: threading.Event, listener: socket.socket | None,
             url: str) -> int:
    with ha.replica(daemon, daemon.config, url) as leadership:
        if listener is None:
            return _once(daemon)
        return _forever(daemon, stopping, listener, request=leadership.request)


def bind(config: DaemonConfig) -> socket.socket:
    """The listening socket, made now so a taken port fails before anything is written."""
    host, port = config.host_port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only, not a live one
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise PortTaken(f"cannot listen on {config.listen}: {exc.strerror or exc}; another "
                        "process holds the port (pick another with --listen)") from None
    return sock


def _mark_interrupted(daemon: Daemon) -> None:
    count = daemon.store.mark_interrupted()
    if count:
        daemon.metrics.outcomes.labels("interrupted").inc(count)
        logs.log().warning("runs left unfinished by a killed process marked interrupted",
                           extra={"fields": {"runs": count}})


def _on_signals(daemon: Daemon) -> threading.Event:
    """SIGTERM/SIGINT: let the current step finish, then stop (the engine checks `stop`)."""
    stopping = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            logs.log().info("stopping after the current step",
                            extra={"fields": {"signal": signal.Signals(signum).name}})
        stopping.set()
        daemon.engine.stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stopping


def _once(daemon: Daemon) -> int:
    tick = daemon.tick("once", force=True)
    if daemon.rerun_wanted():  # a held release passed its smoke tests: publish it now
        tick = daemon.tick("smoke", force=True)
    if daemon.engine.stop.is_set():
        return 0  # asked to stop: a clean exit, the next run converges
    return 0 if tick is not None and tick.outcome in GOOD else 1


def _forever(daemon: Daemon, stopping: threading.Event, listener: socket.socket,
             request: Callable[[str], None] | None = None) -> int:
    config = daemon.config
    host, port = config.host_port
    ctx = DaemonContext(state_path=config.state_file, n8n_url=daemon.engine.base_url,
                        branch=config.branch, failing_grace=config.failing_grace,
                        health=daemon.health, metrics=daemon.metrics,
                        request_reconcile=request or daemon.request, n8n_api_key=n8n_from_env()[1],
                        hash_key=daemon.engine.hash_key,
                        deliveries=Deliveries(config.dedup_window),
                        max_hook_bytes=config.max_hook_bytes,
                        max_payload_bytes=config.max_payload_bytes)
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host=host, port=port,
                                           log_config=None, access_log=False,
                                           lifespan="off"))
    http = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="http",
                            daemon=True)
    http.start()
    daemon.start()
    logs.log().info("daemon started", extra={"fields": {
        "repo": daemon.watcher.label, "branch": config.branch, "listen": f"{host}:{port}",
        "interval": config.interval, "resync": config.resync}})
    while not stopping.wait(1.0):
        if not http.is_alive():
            logs.log().error("the HTTP server stopped (is the port free?)",
                             extra={"fields": {"listen": f"{host}:{port}"}})
            daemon.shutdown()
            return 1
    daemon.shutdown()
    server.should_exit = True
    http.join(timeout=5)
    logs.log().info("daemon stopped")
    return 0

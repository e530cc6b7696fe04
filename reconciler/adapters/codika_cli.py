"""The reference platform's npm package `codika`, installed into the cache.

Used by the Codika importer (to evaluate a `config.ts`, which imports helpers from
`codika`) and by the test suite (the real `codika verify`, and its placeholder
rendering code as an oracle). It runs on the Node that the n8n install brings
(`n8n_server.ensure_installed`): the package needs Node >= 22.6.

Layout::

    cache_root()/codika-3.6.0/
        node_modules/codika/   the package
        .complete              written last; its presence means the install is usable
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reconciler.adapters import n8n_server
from reconciler.adapters.git import cache_root
from reconciler.errors import PermanentError

CODIKA_VERSION = "3.6.0"
RUN_TIMEOUT = 120.0


class CodikaInstallError(PermanentError):
    """The `codika` package could not be installed or run."""


@dataclass(frozen=True)
class CodikaInstall:
    root: Path
    node: Path

    @property
    def package(self) -> Path:
        return self.root / "node_modules" / "codika"

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @property
    def cli(self) -> Path:
        return self.package / "dist" / "cli" / "index.js"

    @property
    def marker(self) -> Path:
        return self.root / ".complete"

    def run(self, args: list[str], cwd: Path | None = None,
            timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run the `codika` CLI with `args` (its own flag for type stripping)."""
        argv = [str(self.node), "--experimental-strip-types", "--no-warnings",
                str(self.cli), *args]
        env = os.environ.copy()
        env["PATH"] = f"{self.node.parent}{os.pathsep}{env.get('PATH', '')}"
        # No telemetry, no update checks: the CLI must not reach the internet.
        env["NO_UPDATE_NOTIFIER"] = "1"
        env["CI"] = "1"
        return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def install_root() -> Path:
    return cache_root() / f"codika-{CODIKA_VERSION}"


def ensure_codika(root: Path | None = None, *,
                  log: n8n_server.Log = n8n_server._stderr) -> CodikaInstall:
    """Install `codika` into the cache unless a complete install is there.

    Serialised by an flock beside the folder, like the n8n install.
    """
    node = n8n_server.ensure_installed(log=log).node
    install = CodikaInstall(root or install_root(), node)
    if install.marker.exists():
        return install
    lock = install.root.with_name(install.root.name + ".lock")
    with n8n_server._file_lock(lock, log):
        if install.marker.exists():
            return install
        _install(install, log)
        if not install.cli.is_file():
            raise CodikaInstallError(
                f"codika install at {install.root} finished but {install.cli} is missing")
        install.marker.write_text(f"codika {CODIKA_VERSION}\n")
    return install


def _install(install: CodikaInstall, log: n8n_server.Log) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise CodikaInstallError("npm not found on PATH: it is needed to install codika")
    install.root.mkdir(parents=True, exist_ok=True)
    env = os.environ.copy()
    env["PATH"] = f"{install.node.parent}{os.pathsep}{env.get('PATH', '')}"
    try:
        n8n_server._run_step(
            f"codika {CODIKA_VERSION}",
            [npm, "install", "--prefix", str(install.root), "--no-audit", "--no-fund",
             f"codika@{CODIKA_VERSION}"], env, None, log,
        )
    except n8n_server.N8nServerError as exc:
        raise CodikaInstallError(str(exc)) from None

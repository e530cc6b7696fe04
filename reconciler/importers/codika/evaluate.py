"""Evaluate a Codika `config.ts` in Node, for real (never by pattern matching).

The file imports helpers from the `codika` package and may compute anything, so
it runs in Node 24 with type stripping. It is imported from a scratch folder that
mirrors the use case (every entry linked, so relative reads see the real files),
with a `package.json` saying `"type": "module"` and the cached `codika` package
linked as `node_modules`.

A config.ts is code from whoever wrote the use case, so it runs confined:

- Node's permission model: reads only inside the use-case folder, the scratch
  folder and the codika package; no writes, child processes, workers or addons;
  the network modules and `fetch` are taken away by a preloaded guard (guard.mjs);
- an environment holding nothing of ours (no API key, no state path);
- limits: the file's size, a wall-clock timeout (the process group is killed), CPU
  seconds, V8 heap, and the size of what it may print (RLIMIT_FSIZE on the files
  its output goes to).

Symbolic links of the folder that lead outside it are refused before anything runs
(the permission model follows links).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from reconciler.adapters.codika_cli import CodikaInstall
from reconciler.errors import PermanentError

SCRIPT = Path(__file__).with_name("evaluate.mjs")
GUARD = Path(__file__).with_name("guard.mjs")
TIMEOUT = 30.0
CPU_SECONDS = 30
HEAP_MB = 256
MAX_CONFIG_BYTES = 1024 * 1024
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 10_000
_OWN = {"config.ts", "package.json", "node_modules"}
_MARK = "\x00codika-config\x00"  # evaluate.mjs writes its answer after it


class CodikaImportError(PermanentError):
    """A Codika use-case folder cannot be imported; names the file and line."""


def check_links(src: Path) -> None:
    """Refuse a symbolic link in `src` whose target is outside `src` (or dangling)."""
    root = src.resolve()
    count = 0
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            count += 1
            if count > MAX_ENTRIES:
                raise CodikaImportError(f"{src}: more than {MAX_ENTRIES} files and folders")
            path = Path(folder) / name
            if path.is_symlink():
                target = path.resolve()
                if not target.exists() or not target.is_relative_to(root):
                    raise CodikaImportError(
                        f"{src / path.relative_to(root)}: a symbolic link to "
                        f"{os.readlink(path)!r}, outside the use-case folder")


def evaluate_config(src: Path, codika: CodikaInstall) -> dict[str, Any]:
    """What `src/config.ts` exports: workflowFiles, configuration, dataIngestion."""
    config = src / "config.ts"
    if config.is_symlink() or not config.is_file():
        raise CodikaImportError(f"{config}: not found (a Codika use case has a config.ts "
                                "file)")
    size = config.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise CodikaImportError(f"{config}: {size} bytes; the limit is {MAX_CONFIG_BYTES}")
    check_links(src)
    scratch = Path(tempfile.mkdtemp(prefix="codika-config-"))
    try:
        for entry in src.iterdir():
            if entry.name not in _OWN:
                (scratch / entry.name).symlink_to(entry.resolve())
        shutil.copyfile(config, scratch / "config.ts")
        (scratch / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
        (scratch / "node_modules").symlink_to(codika.node_modules)
        stdout, stderr = _run(_argv(codika, src, scratch), scratch, config)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _answer(config, stdout, stderr)


def _argv(codika: CodikaInstall, src: Path, scratch: Path) -> list[str]:
    readable = [scratch, src.resolve(), codika.node_modules.resolve(), SCRIPT.parent]
    return [str(codika.node), "--permission",
            *(f"--allow-fs-read={p}" for p in readable),
            f"--max-old-space-size={HEAP_MB}", "--experimental-strip-types",
            "--no-warnings", f"--import={GUARD.as_uri()}",
            str(SCRIPT), str(scratch / "config.ts")]


def _limits() -> None:  # pragma: no cover - runs in the child, between fork and exec
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _run(argv: list[str], cwd: Path, config: Path) -> tuple[str, str]:
    """Run the evaluation confined; stdout and stderr go to files the limits cap."""
    env = {"NODE_NO_WARNINGS": "1", "LANG": "C.UTF-8", "TZ": "UTC"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, preexec_fn=_limits,
                                start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
        # Node ignores SIGXFSZ: past the limit its writes fail, so look at the size.
        if code == -signal.SIGXFSZ or os.fstat(out.fileno()).st_size >= MAX_OUTPUT_BYTES:
            raise CodikaImportError(f"{config}: evaluating it printed over "
                                    f"{MAX_OUTPUT_BYTES} bytes (stopped)")
        if code is None:
            raise CodikaImportError(f"{config}: evaluating it took over {TIMEOUT:.0f}s "
                                    "(stopped)")
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            raise CodikaImportError(f"{config}: evaluating it used over {CPU_SECONDS}s "
                                    "of CPU (stopped)")
        out.seek(0)
        err.seek(0)
        return (out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"))


def _answer(config: Path, stdout: str, stderr: str) -> dict[str, Any]:
    _, marked, last = stdout.rpartition(_MARK)
    try:
        answer = json.loads(last) if marked else None
    except json.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        raise CodikaImportError(f"{config}: evaluation failed: {_why(stderr)}")
    error = answer.get("error")
    if isinstance(error, dict):
        line, column = error.get("line"), error.get("column")
        where = f"{config}:{line}" if line else str(config)
        if line and column:
            where += f":{column}"
        raise CodikaImportError(f"{where}: {error.get('message')}")
    if not isinstance(answer.get("configuration"), dict):
        raise CodikaImportError(f"{config}: exports no getConfiguration() returning an "
                                "object")
    return answer


def _why(stderr: str) -> str:
    if "heap out of memory" in stderr or "Reached heap limit" in stderr:
        return f"it used over {HEAP_MB} MB of memory (stopped)"
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "it printed no configuration"

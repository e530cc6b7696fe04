"""Evaluate a Codika `config.ts` in Node, for real (never by pattern matching).

The file imports helpers from the `codika` package and may compute anything, so
it runs in Node 24 with type stripping. It is imported from a scratch folder that
mirrors the use case (every entry linked, so relative reads see the real files),
with a `package.json` saying `"type": "module"` and the cached `codika` package
linked as `node_modules`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from reconciler.adapters.codika_cli import CodikaInstall
from reconciler.errors import PermanentError

SCRIPT = Path(__file__).with_name("evaluate.mjs")
TIMEOUT = 60.0
_OWN = {"config.ts", "package.json", "node_modules"}


class CodikaImportError(PermanentError):
    """A Codika use-case folder cannot be imported; names the file and line."""


def evaluate_config(src: Path, codika: CodikaInstall) -> dict[str, Any]:
    """What `src/config.ts` exports: workflowFiles, configuration, dataIngestion."""
    config = src / "config.ts"
    if not config.is_file():
        raise CodikaImportError(f"{config}: not found (a Codika use case has a config.ts)")
    scratch = Path(tempfile.mkdtemp(prefix="codika-config-"))
    try:
        for entry in src.iterdir():
            if entry.name not in _OWN:
                (scratch / entry.name).symlink_to(entry.resolve())
        shutil.copyfile(config, scratch / "config.ts")
        (scratch / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
        (scratch / "node_modules").symlink_to(codika.node_modules)
        env = {**os.environ, "NODE_NO_WARNINGS": "1"}
        try:
            proc = subprocess.run(
                [str(codika.node), "--experimental-strip-types", "--no-warnings",
                 str(SCRIPT), str(scratch / "config.ts")],
                capture_output=True, text=True, timeout=TIMEOUT, env=env,
                stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            raise CodikaImportError(f"{config}: evaluating it took over {TIMEOUT:.0f}s") \
                from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _answer(config, proc)


def _answer(config: Path, proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        answer = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise CodikaImportError(f"{config}: evaluation failed: {tail[0]}")
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

"""Colors only on a terminal and never with NO_COLOR or --no-color; live apply progress
on a pseudo-terminal, plain lines elsewhere; shell completion works as documented."""

from __future__ import annotations

import io
import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.apply.applier import StepResult
from reconciler.cli.progress import ApplyProgress
from reconciler.plan.steps import PublishWorkflow, PutWorkflow, SaveInstance

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example-repo"
ESC = "\x1b["


def _read_all(fd: int, timeout: float = 20.0) -> str:
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:  # the other side closed (Linux raises EIO)
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def _on_pty(args: list[str], env: dict[str, str], timeout: float = 20.0) -> tuple[int, str]:
    """Run `reconciler ARGS` with stdout and stderr on a pseudo-terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "reconciler.cli", *args], stdin=slave,
                            stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    try:
        out = _read_all(master, timeout)
    finally:
        os.close(master)
    return proc.wait(timeout=timeout + 10), out


def _broken(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    (repo / "instances" / "inbox-triage-erin.yaml").write_text(
        "# yaml-language-server: $schema=../schemas/instance.schema.json\nuse_case: nope\n",
        encoding="utf-8")
    return repo


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", **extra)
    return env


def test_colors_on_a_terminal_but_not_with_no_color(tmp_path: Path) -> None:
    repo = str(_broken(tmp_path))
    code, colored = _on_pty(["validate", repo], _env())
    assert code == 1 and ESC in colored and "error" in colored
    code, plain = _on_pty(["validate", repo], _env(NO_COLOR="1"))
    assert code == 1 and ESC not in plain and "error" in plain
    code, flag = _on_pty(["--no-color", "validate", repo], _env())
    assert code == 1 and ESC not in flag
    code, after = _on_pty(["validate", repo, "--no-color"], _env())
    assert code == 1 and ESC not in after
    piped = subprocess.run([sys.executable, "-m", "reconciler.cli", "validate", repo],
                           capture_output=True, text=True, env=_env(), check=False)
    assert piped.returncode == 1 and ESC not in piped.stdout + piped.stderr


def _results() -> list[StepResult]:
    a, b = "inbox-triage-carol-dev", "lead-enrichment-globex"
    return [StepResult(PutWorkflow(group=a, workflow_id="triage"), "applied", duration_ms=5),
            StepResult(PublishWorkflow(group=a, workflow_id="triage"), "applied"),
            StepResult(SaveInstance(group=a, record={"state": "active", "version": "1"}),
                       "applied"),
            StepResult(PutWorkflow(group=b, workflow_id="enrich"), "failed", "boom"),
            StepResult(SaveInstance(group=b, record={"state": "active", "version": "1"}),
                       "skipped")]


@pytest.mark.parametrize("no_color", [False, True])
def test_live_progress_on_a_pseudo_terminal(no_color: bool) -> None:
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w", encoding="utf-8", closefd=True)
    with ApplyProgress(stream, color=not no_color) as progress:
        assert progress.live
        for result in _results():
            progress.on_step(result)
    stream.close()
    out = _read_all(master, timeout=2)
    os.close(master)
    assert "inbox-triage-carol-dev" in out and "3 applied" in out
    assert "lead-enrichment-globex" in out and "1 failed, 1 skipped" in out
    assert "0:00:0" in out  # elapsed time per instance
    assert ESC in out  # a live display redraws in place
    colors = [c for c in ("\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[36m") if c in out]
    assert (colors == []) is no_color


def test_plain_progress_lines_off_a_terminal() -> None:
    stream = io.StringIO()
    with ApplyProgress(stream, color=True) as progress:
        assert not progress.live
        for result in _results():
            progress.on_step(result)
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "inbox-triage-carol-dev: 3 applied", "lead-enrichment-globex: 1 failed, 1 skipped"]
    assert all(line.endswith(" s)") for line in lines) and ESC not in stream.getvalue()


def test_shell_completion_as_documented() -> None:
    exe = Path(sys.executable).with_name("reconciler")
    assert "_RECONCILER_COMPLETE=bash_source reconciler" in (
        ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    script = subprocess.run([str(exe)], env={**os.environ, "_RECONCILER_COMPLETE": "bash_source"},
                            capture_output=True, text=True, check=False)
    assert script.returncode == 0 and "complete -o nosort -F" in script.stdout
    words = subprocess.run([str(exe)], capture_output=True, text=True, check=False, env={
        **os.environ, "_RECONCILER_COMPLETE": "bash_complete", "COMP_WORDS": "reconciler pl",
        "COMP_CWORD": "1"})
    assert "plain,plan" in words.stdout.replace("\n", ",")

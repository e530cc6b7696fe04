"""Every exit code of the CLI contract (docs/cli.md), and what read-only commands leave."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from reconciler.cli import main as cli_main
from reconciler.errors import ExitCode
from reconciler.store.db import Store
from reconciler.store.lock import StateLock
from tests.conftest import RunCli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example-repo"


@pytest.fixture(autouse=True)
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No n8n, no state: an empty working folder, as a new user has."""
    for name in ("RECONCILER_N8N_URL", "RECONCILER_N8N_API_KEY", "RECONCILER_STATE",
                 "RECONCILER_API_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work


def test_the_documented_table_is_the_code() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    documented = {int(code): name for code, name in
                  re.findall(r"^\| (\d+) \| `(\w+)` \|", doc, flags=re.MULTILINE)}
    assert documented == {int(c): c.name for c in ExitCode}


def test_ok(run_cli: RunCli) -> None:
    assert run_cli("validate", str(EXAMPLE))[0] == ExitCode.OK
    assert run_cli("rules", "-o", "json")[0] == ExitCode.OK


def test_changes_and_no_changes_offline(run_cli: RunCli, tmp_path: Path) -> None:
    state = tmp_path / "snapshot.sqlite"
    Store(state).close()  # an empty state: everything is new
    code, _ = run_cli("plan", "--path", str(EXAMPLE), "--offline", "--state", str(state),
                      "--detailed-exitcode")
    assert code == ExitCode.CHANGES
    code, _ = run_cli("plan", "--path", str(EXAMPLE), "--offline", "--state", str(state))
    assert code == ExitCode.OK  # without --detailed-exitcode changes are a success


def test_a_missing_n8n_url_is_not_changes(run_cli: RunCli) -> None:
    code, out = run_cli("plan", "--path", str(EXAMPLE), "--detailed-exitcode")
    assert code == ExitCode.CONFIG != ExitCode.CHANGES
    assert "RECONCILER_N8N_URL" in out and "Traceback" not in out


def test_usage_errors_are_distinct_from_invalid_input(run_cli: RunCli, tmp_path: Path) -> None:
    for args in (["plan", "--no-such-flag"], ["report", "abc"], ["validate", "-o", "xml"],
                 ["apply", "--path", str(EXAMPLE)], ["nonsense"]):
        code, out = run_cli(*args)
        assert code == ExitCode.USAGE, (args, out)
        assert "Traceback" not in out
    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken)
    (broken / "platform.yaml").write_text("organizations: [\n", encoding="utf-8")
    assert run_cli("validate", str(broken))[0] == ExitCode.FAILED


def test_bad_plan_files_are_invalid_input(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text('{"fingerprint": 3}', encoding="utf-8")
    for file, says in ((tmp_path / "missing.plan", "no such plan file"),
                       (bad, "not JSON"), (other, "not a plan saved")):
        code, out = run_cli("apply", str(file))
        assert code == ExitCode.FAILED, out
        assert says in out and str(file) in out and "Traceback" not in out


def test_environment_not_set_up(run_cli: RunCli, bare_env: Path) -> None:
    for args in (["report", "latest"], ["status"], ["history"], ["executions", "list"],
                 ["plan", "--path", str(EXAMPLE), "--offline"]):
        code, out = run_cli(*args)
        assert code == ExitCode.CONFIG, (args, out)
        assert "Traceback" not in out


def test_a_held_lock_is_the_environment(run_cli: RunCli, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_N8N_URL", "http://127.0.0.1:9")  # never reached
    monkeypatch.setenv("RECONCILER_N8N_API_KEY", "unused")
    state = tmp_path / "held.sqlite"
    lock = StateLock(state)
    lock.acquire()
    try:
        code, out = run_cli("apply", "--path", str(EXAMPLE), "--yes", "--state", str(state))
    finally:
        lock.release()
    assert code == ExitCode.CONFIG and "--wait-lock" in out


def test_a_run_that_does_not_exist(run_cli: RunCli, tmp_path: Path) -> None:
    state = tmp_path / "s.sqlite"
    Store(state).close()
    code, out = run_cli("report", "7", "--state", str(state))
    assert code == ExitCode.FAILED and "no run 7" in out


@pytest.fixture
def broken_command(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_main._register()

    def boom() -> int:
        raise RuntimeError("secret-ish detail that must not leak")

    monkeypatch.setitem(cli_main.cli.commands, "boom", click.Command("boom", callback=boom))


@pytest.mark.usefixtures("broken_command")
def test_internal_errors_are_short_unless_debug(run_cli: RunCli) -> None:
    code, out = run_cli("boom")
    assert code == ExitCode.INTERNAL
    assert "internal error: RuntimeError" in out and "--debug" in out
    assert "Traceback" not in out and "secret-ish" not in out
    code, out = run_cli("boom", "--debug")  # the flag works after the command too
    assert code == ExitCode.INTERNAL and "Traceback" in out


def test_interrupted(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_main._register()

    def stop() -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli_main.cli.commands, "stop", click.Command("stop", callback=stop))
    assert run_cli("stop")[0] == ExitCode.INTERRUPTED


READ_ONLY = [
    ["validate", str(EXAMPLE)], ["validate", str(EXAMPLE), "-o", "sarif"], ["rules"],
    ["schemas"], ["status"], ["history"], ["report"], ["executions", "list"],
    ["plan", "--path", str(EXAMPLE)], ["doctor", "--repo", str(EXAMPLE)], ["--help"],
]


@pytest.mark.parametrize("args", READ_ONLY, ids=[" ".join(a[:2]) for a in READ_ONLY])
def test_read_only_commands_create_no_files(run_cli: RunCli, bare_env: Path,
                                            args: list[str]) -> None:
    run_cli(*args)
    assert sorted(p.name for p in bare_env.iterdir()) == []

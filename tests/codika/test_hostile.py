"""A hostile or careless Codika folder: config.ts is evaluated confined and limited,
and every refusal names the file (and line), with nothing written to the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.adapters.codika_cli import CodikaInstall
from reconciler.importers.codika import evaluate
from tests.codika.folders import kitchen_sink
from tests.conftest import RunCli

BODY = "function getConfiguration(): ProcessDeploymentConfigurationInput {\n"
SECRET = "n8n-api-key-that-must-not-leak"


def _inject(src: Path, code: str, head: str = "") -> int:
    """Put `code` first in getConfiguration() (and `head` after the imports); the
    line number of the first injected line of `code`."""
    config = src / "config.ts"
    text = config.read_text(encoding="utf-8")
    imports_end = text.index("\n\n") + 1
    text = text[:imports_end] + head + text[imports_end:]
    at = text.index(BODY) + len(BODY)
    config.write_text(text[:at] + code + "\n" + text[at:], encoding="utf-8")
    return text[:at].count("\n") + 1


def _refused(run_cli: RunCli, src: Path, repo: Path, *expected: str) -> str:
    code, out = run_cli("import", "codika", str(src), "--into", str(repo))
    assert code == 1, out
    assert "Traceback" not in out
    for text in expected:
        assert text in out, out
    assert not (repo / "use-cases").exists()
    return out


@pytest.fixture
def src(codika: CodikaInstall, tmp_path: Path) -> Path:
    return kitchen_sink(tmp_path)


def test_reading_files_outside_the_folder_is_denied(src: Path, tmp_path: Path,
                                                    run_cli: RunCli) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("private")
    line = _inject(src, f"  readFileSync({str(outside)!r}, 'utf-8');",
                   "import { readFileSync } from 'node:fs';\n")
    out = _refused(run_cli, src, tmp_path / "repo", f"config.ts:{line}", "ERR_ACCESS_DENIED")
    assert "private" not in out


def test_writing_files_is_denied(src: Path, tmp_path: Path, run_cli: RunCli) -> None:
    _inject(src, "  writeFileSync(join(__dirname, 'planted.txt'), 'x');",
            "import { writeFileSync } from 'node:fs';\n")
    _refused(run_cli, src, tmp_path / "repo", "ERR_ACCESS_DENIED")
    assert not (src / "planted.txt").exists()


def test_the_environment_holds_nothing_of_ours(src: Path, tmp_path: Path, run_cli: RunCli,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_N8N_API_KEY", SECRET)
    _inject(src, "  throw new Error('env: ' + JSON.stringify(process.env));")
    out = _refused(run_cli, src, tmp_path / "repo", "env: ")
    assert SECRET not in out and "RECONCILER" not in out


@pytest.mark.parametrize("code", [
    "  execSync('touch planted.txt');",
    "  (process as any).binding('spawn_sync');",
])
def test_child_processes_are_denied(src: Path, tmp_path: Path, run_cli: RunCli,
                                    code: str) -> None:
    head = ("import { execSync } from 'node:child_process';\n" if "execSync" in code
            else "")
    _inject(src, code, head)
    out = _refused(run_cli, src, tmp_path / "repo", "not available" if "binding" in code
                   else "importing 'node:child_process' is not allowed")
    assert not (src / "planted.txt").exists() and not (tmp_path / "planted.txt").exists()
    assert "config.ts" in out


@pytest.mark.parametrize("code", ["  fetch('http://127.0.0.1:9/');",
                                  "  await import('node:net');"])
def test_the_network_is_denied(src: Path, tmp_path: Path, run_cli: RunCli,
                               code: str) -> None:
    if "await" in code:
        src.joinpath("config.ts").write_text(src.joinpath("config.ts").read_text().replace(
            "export function getConfiguration", "export async function getConfiguration"))
    _inject(src, code)
    _refused(run_cli, src, tmp_path / "repo", "config.ts", "network")


def test_a_loop_forever_is_stopped(src: Path, tmp_path: Path, run_cli: RunCli,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate, "TIMEOUT", 3.0)
    _inject(src, "  while (true) {}")
    _refused(run_cli, src, tmp_path / "repo", "config.ts: evaluating it took over 3s")


def test_memory_is_limited(src: Path, tmp_path: Path, run_cli: RunCli) -> None:
    _inject(src, "  const hog: number[][] = []; while (true) hog.push(new Array(1e6).fill(1));")
    _refused(run_cli, src, tmp_path / "repo", "config.ts", "MB of memory")


def test_output_is_limited(src: Path, tmp_path: Path, run_cli: RunCli,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate, "MAX_OUTPUT_BYTES", 1024 * 1024)
    monkeypatch.setattr(evaluate, "TIMEOUT", 5.0)
    _inject(src, "  for (;;) process.stdout.write('x'.repeat(65536));")
    _refused(run_cli, src, tmp_path / "repo", "config.ts", "printed over 1048576 bytes")


def test_a_huge_config_is_refused_unread(src: Path, tmp_path: Path, run_cli: RunCli) -> None:
    config = src / "config.ts"
    config.write_text(config.read_text() + "//" + "x" * evaluate.MAX_CONFIG_BYTES + "\n")
    _refused(run_cli, src, tmp_path / "repo", "config.ts:", "the limit is 1048576")


def test_a_runtime_error_is_located(src: Path, tmp_path: Path, run_cli: RunCli) -> None:
    line = _inject(src, "  throw new TypeError('no title yet');")
    _refused(run_cli, src, tmp_path / "repo", f"config.ts:{line}:", "no title yet")


@pytest.mark.parametrize("link", ["workflows/ask.json", "skills/ask", "data-ingestion"])
def test_a_link_leading_outside_is_refused(src: Path, tmp_path: Path, run_cli: RunCli,
                                           link: str) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "ask.json").write_text('{"secret": true}\n')
    path = src / link
    target = outside / "ask.json" if link.endswith(".json") else outside
    if path.is_dir():
        for child in sorted(path.rglob("*"), reverse=True):
            child.unlink() if child.is_file() else child.rmdir()
        path.rmdir()
    else:
        path.unlink()
    os.symlink(target, path)
    out = _refused(run_cli, src, tmp_path / "repo", link, "outside the use-case folder")
    assert "secret" not in out


def test_a_link_inside_the_folder_is_followed(src: Path, tmp_path: Path,
                                              run_cli: RunCli) -> None:
    (src / "shared").mkdir()
    ask = src / "workflows" / "ask.json"
    ask.rename(src / "shared" / "ask.json")
    os.symlink(src / "shared" / "ask.json", ask)
    code, out = run_cli("import", "codika", str(src), "--into", str(tmp_path / "repo"))
    assert code == 0, out


def test_a_template_id_cannot_name_a_path(src: Path, tmp_path: Path, run_cli: RunCli) -> None:
    outside = tmp_path / "loot.json"
    outside.write_text('{"nodes": [], "connections": {}}\n')
    config = src / "config.ts"
    config.write_text(config.read_text().replace(
        "workflowTemplateId: 'helper', workflowId: 'helper'",
        "workflowTemplateId: '../../loot', workflowId: '../../loot'"))
    _refused(run_cli, src, tmp_path / "repo", "workflowTemplateId '../../loot'")


@pytest.mark.parametrize("content", [b"\xff\xfe{}", b"not json at all\n"])
def test_a_workflow_that_is_not_json_is_located(src: Path, tmp_path: Path, run_cli: RunCli,
                                                content: bytes) -> None:
    helper = src / "workflows" / "helper.json"
    helper.write_bytes(content)
    _refused(run_cli, src, tmp_path / "repo", "workflows/helper.json")


def test_a_bad_slug_is_a_usage_error(src: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, out = run_cli("import", "codika", str(src), "--into", str(tmp_path / "repo"),
                        "--slug", "../../etc")
    assert code == 64, out
    assert not (tmp_path / "etc").exists()

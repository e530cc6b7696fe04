"""A `codika init` folder, repaired and imported, runs on real n8n for two orgs."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from reconciler.adapters.codika_cli import CodikaInstall
from reconciler.adapters.n8n_server import ServerInfo
from reconciler.cli.main import entry
from tests.codika.folders import codika_init, repair
from tests.conftest import RunCli
from tests.engine.conftest import Platform, platform  # noqa: F401  (the fixture)

pytestmark = pytest.mark.n8n

DAVE = "use_case: demo\nowner: {user: dave}\nenvironment: dev\n"


def test_codika_init_imported_runs_for_two_orgs(
        codika: CodikaInstall, platform: Platform, n8n_server: ServerInfo,  # noqa: F811
        tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    src = codika_init(codika, tmp_path)
    repair(src)
    code, out = run_cli("import", "codika", str(src), "--into", str(platform.repo),
                        "--owner", "alice", "--org", "acme", "--visibility", "public",
                        "--slug", "demo")
    assert code == 0, out
    (platform.repo / "instances" / "demo-dave.yaml").write_text(DAVE, encoding="utf-8")
    assert run_cli("validate", "--strict", str(platform.repo)) == (
        0, "valid: no problems found\n")
    outcome = platform.reconcile()
    assert outcome.outcome == "applied", outcome.error

    for instance in ("demo.owner-dev", "demo-dave"):
        answer = httpx.post(f"{n8n_server.url}/webhook/demo/{instance}/demo-case",
                            json={"text": "hello"}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"] == "HELLO"

    monkeypatch.setenv("RECONCILER_N8N_URL", n8n_server.url)
    monkeypatch.setenv("RECONCILER_N8N_API_KEY", n8n_server.api_key)
    monkeypatch.setenv("RECONCILER_STATE", str(platform.store.path))
    payload = tmp_path / "p.json"
    payload.write_text('{"text": "tracked"}', encoding="utf-8")
    capsys.readouterr()
    assert entry(["trigger", "demo-dave", "main-workflow", "--payload-file", str(payload),
                  "--wait"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["execution"]["status"] == "success"
    assert out["response"]["result"] == "TRACKED"
    # A Report Error branch (empty text: the workflow's own validation) fails the run
    # with the error class Codika declared.
    payload.write_text('{"text": ""}', encoding="utf-8")
    assert entry(["trigger", "demo-dave", "main-workflow", "--payload-file", str(payload),
                  "--wait"]) == 1
    failed = json.loads(capsys.readouterr().out)["execution"]
    assert failed["status"] == "failed"
    assert failed["error_class"] == "node_failure"
    assert failed["failed_node"] == "Codika Report Error"
    assert entry(["executions", "list", "--instance", "demo-dave"]) == 0
    listed = capsys.readouterr().out
    assert out["execution"]["id"] in listed and failed["id"] in listed

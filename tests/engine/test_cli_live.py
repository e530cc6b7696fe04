"""The plan/apply/report commands end to end, and what the reconciler never touches."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.adapters.n8n_server import ServerInfo
from tests.conftest import RunCli
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n


@pytest.fixture
def cli_env(platform: Platform, n8n_server: ServerInfo,
            monkeypatch: pytest.MonkeyPatch) -> Platform:
    monkeypatch.setenv("RECONCILER_N8N_URL", n8n_server.url)
    monkeypatch.setenv("RECONCILER_N8N_API_KEY", n8n_server.api_key)
    monkeypatch.setenv("RECONCILER_STATE", str(platform.root / "cli.sqlite"))
    monkeypatch.setenv("RECONCILER_SECRETS_DIR", str(platform.secrets_dir))
    monkeypatch.delenv("RECONCILER_API_URL", raising=False)
    return platform


def test_plan_apply_plan_again(cli_env: Platform, run_cli: RunCli, tmp_path: Path) -> None:
    repo = str(cli_env.repo)
    code, _ = run_cli("plan", "--path", repo, "--detailed-exitcode")
    assert code == 2
    saved = tmp_path / "plan.json"
    code, out = run_cli("plan", "--path", repo, "--format", "json", "--out", str(saved))
    assert code == 0 and json.loads(out)["changes"] > 0
    code, out = run_cli("apply", str(saved))
    assert code == 0, out
    code, out = run_cli("plan", "--path", repo, "--detailed-exitcode")
    assert code == 0, out
    code, out = run_cli("apply", "--path", repo, "--yes", "--format", "json")
    assert code == 0 and json.loads(out)["writes"] == 0
    code, out = run_cli("report", "latest", "--format", "json")
    report = json.loads(out)
    assert (report["outcome"], report["writes"], report["reads"]) == ("no_changes", 0, 2)
    code, out = run_cli("apply", str(saved))  # the state moved since that plan
    assert code == 1 and "changed since the plan" in out
    code, out = run_cli("apply", "--path", repo)
    assert code == 64 and "--yes" in out


def test_version_bump(run_cli: RunCli, tmp_path: Path) -> None:
    folder = tmp_path / "use-cases" / "demo"
    folder.mkdir(parents=True)
    (folder / "version.json").write_text('{"version": "1.4.2"}\n', encoding="utf-8")
    for part, expected in (("patch", "1.4.3"), ("minor", "1.5.0"), ("major", "2.0.0")):
        code, out = run_cli("version", "bump", "demo", part, "--path", str(tmp_path))
        assert code == 0, out
        assert json.loads((folder / "version.json").read_text())["version"] == expected
    code, _ = run_cli("version", "bump", "nothing", "patch", "--path", str(tmp_path))
    assert code == 64


def test_foreign_workflows_and_credentials_are_never_touched(platform: Platform) -> None:
    foreign = platform.client.create_workflow({
        "name": "Hand-made report", "settings": {}, "connections": {},
        "nodes": [{"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
                   "position": [0, 0], "parameters": {}}]})
    cred = platform.client.create_credential("Someone's Slack", "slackApi",
                                             {"accessToken": "xoxb-FOREIGN"})
    assert platform.reconcile().outcome == "applied"
    (platform.repo / "instances" / "inbox-triage-carol-dev.yaml").unlink()
    assert platform.reconcile().outcome == "applied"
    kept = platform.client.get_workflow(str(foreign["id"]))
    assert kept["name"] == "Hand-made report" and not kept.get("isArchived")
    assert str(cred["id"]) in {str(c["id"]) for c in platform.client.list_credentials()}


def test_prune_deletes_instead_of_archiving(platform: Platform) -> None:
    platform.edit_text("platform.yaml", "prune: false", "prune: true")
    assert platform.reconcile().outcome == "applied"
    name = "Inbox triage [inbox-triage-carol-dev/triage]"
    assert name in platform.live()
    (platform.repo / "instances" / "inbox-triage-carol-dev.yaml").unlink()
    out = platform.reconcile()
    assert out.outcome == "applied", out.error
    assert name not in platform.live()
    assert platform.instance("inbox-triage-carol-dev")["state"] == "archived"  # record kept


def test_plan_markdown_of_a_real_change_renders_as_gfm(cli_env: Platform, run_cli: RunCli,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from markdown_it import MarkdownIt

    repo = str(cli_env.repo)
    assert run_cli("apply", "--path", repo, "--yes")[0] == 0
    live = cli_env.live()["Inbox triage [inbox-triage-carol-dev/triage]"]
    sort = next(n for n in live["nodes"] if n["name"] == "Sort by urgency")
    sort["parameters"]["jsCode"] = "return [];"
    cli_env.client.update_workflow(str(live["id"]), {
        k: live[k] for k in ("name", "nodes", "connections", "settings")})

    code, markdown = run_cli("plan", "--path", repo, "-o", "markdown", "--detailed-exitcode")
    assert code == 2, markdown
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    assert "<table>" in html and "<th>instance</th>" in html
    assert "<td><code>inbox-triage-carol-dev</code></td>" in html
    assert "<details><summary><b>inbox-triage-carol-dev" in html
    assert "<h4>Drift (hand edits in n8n)</h4>" in html
    assert "nodes[&quot;Sort by urgency&quot;].parameters.jsCode: &quot;return [];&quot; →" in html
    code, out = run_cli("plan", "--path", repo, "-o", "json")
    put = next(s for s in json.loads(out)["steps"] if s["kind"] == "put_workflow")
    assert {"path": 'nodes["Sort by urgency"].parameters.jsCode', "change": "changed",
            "old": '"return [];"'}.items() <= next(
                d for d in put["diff"] if d["path"].endswith("jsCode")).items()
    code, text = run_cli("plan", "--path", repo)
    assert 'nodes["Sort by urgency"].parameters.jsCode: "return [];" -> ' in text

    # Read-only: planning from a folder with no state file leaves nothing behind.
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    monkeypatch.delenv("RECONCILER_STATE")
    code, out = run_cli("plan", "--path", repo, "--detailed-exitcode")
    assert code == 2 and list(empty.iterdir()) == [], out


def test_apply_shows_plain_progress_off_a_terminal(cli_env: Platform, run_cli: RunCli) -> None:
    code, out = run_cli("apply", "--path", str(cli_env.repo), "--yes")
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.endswith(" s)") and "applied" in line]
    assert any(line.startswith("inbox-triage-carol-dev: ") for line in lines), out


def test_apply_shows_live_progress_on_a_terminal(cli_env: Platform) -> None:
    from tests.cli.test_terminal import ESC, _on_pty

    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    code, out = _on_pty(["apply", "--path", str(cli_env.repo), "--yes"], env, timeout=120)
    assert code == 0, out
    assert ESC in out and "inbox-triage-carol-dev" in out and "applied" in out
    assert "0:00:" in out  # elapsed time per instance

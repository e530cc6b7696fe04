"""CI surfaces: a pull-request plan in markdown, offline planning from a state snapshot,
and `reconciler doctor`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.daemon.loop import Daemon
from tests.daemon.conftest import RECONCILER, Git, daemon_env
from tests.engine.conftest import Platform

pytestmark = pytest.mark.n8n

TRIAGE = "use-cases/inbox-triage/workflows/triage.json"


def cli(env: dict[str, str], *args: str, cwd: Path | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RECONCILER, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def groups(markdown: str) -> set[str]:
    # "<summary><b>inbox-triage.owner-dev (dev, 2.2.0)</b>": the instance, then its facts
    return set(re.findall(r"<summary><b>([^<( ]+)(?: \([^<]*\))?</b>", markdown))


@pytest.fixture
def pr_branch(platform: Platform, git: Git, make_daemon: Callable[..., Daemon]) -> Git:
    """main reconciled and tagged (prod published); branch `pr` changes inbox-triage only."""
    for tag in ("lead-enrichment@1.2.0", "inbox-triage@2.1.0", "daily-digest@1.0.0"):
        git.tag(tag)
    tick = make_daemon().tick()
    assert tick is not None and tick.outcome == "applied"
    git.branch("pr")
    git.checkout("pr")
    platform.edit_text(TRIAGE, '"Sort by urgency"', '"Sort by urgency (v2)"')  # node and links
    platform.bump("inbox-triage", "2.2.0")
    git.commit("inbox-triage 2.2.0")
    return git


def test_pull_request_plan_shows_exactly_its_changes(
        n8n_server: ServerInfo, platform: Platform, pr_branch: Git) -> None:
    env = daemon_env(n8n_server, platform)
    main = cli(env, "plan", "--repo", ".", "--ref", "main", "--format", "markdown",
               cwd=platform.repo)
    assert main.returncode == 0, main.stderr
    assert "No changes." in main.stdout

    pr = cli(env, "plan", "--repo", ".", "--ref", "HEAD", "--format", "markdown",
             cwd=platform.repo)
    assert pr.returncode == 0, pr.stderr
    text = pr.stdout
    assert text.startswith("### n8n-reconciler plan")
    assert "| instance | create |" in text and len(text) < 65_000
    found = groups(text)
    assert found and all(g == "platform" or g.startswith("inbox-triage") for g in found), found
    assert "inbox-triage.owner-dev" in found
    assert "store template inbox-triage@2.2.0" in text
    assert "lead-enrichment" not in text and "daily-digest" not in text

    offline = cli({**env, "RECONCILER_N8N_API_KEY": "unused-offline"}, "plan", "--repo", ".",
                  "--ref", "HEAD", "--format", "markdown", "--offline", cwd=platform.repo)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout == text, "the snapshot plan equals the live plan when n8n is in sync"


def test_offline_plan_makes_no_n8n_call(n8n_server: ServerInfo, platform: Platform,
                                        pr_branch: Git, tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.sqlite"
    platform.store.conn.execute(f"VACUUM INTO '{snapshot}'")
    env = daemon_env(n8n_server, platform)
    env.update({"RECONCILER_N8N_URL": "http://127.0.0.1:9",  # nothing listens: no call
                "RECONCILER_N8N_API_KEY": "", "RECONCILER_SECRETS_DIR": str(tmp_path / "no"),
                "RECONCILER_STATE": str(snapshot)})
    shutil.rmtree(tmp_path / "no", ignore_errors=True)
    online = cli(daemon_env(n8n_server, platform), "plan", "--repo", ".", "--ref", "HEAD",
                 "--format", "json", cwd=platform.repo)
    offline = cli(env, "plan", "--repo", ".", "--ref", "HEAD", "--format", "json",
                  "--offline", cwd=platform.repo)
    assert offline.returncode == 0, offline.stderr
    # The same steps; only the field-level diff of a changed workflow needs n8n's copy.
    assert _steps(offline.stdout) == _steps(online.stdout)
    assert _steps(offline.stdout), "the branch has changes"
    exit_code = cli(env, "plan", "--repo", ".", "--ref", "HEAD", "--offline",
                    "--detailed-exitcode", cwd=platform.repo)
    assert exit_code.returncode == 2  # changes pending
    missing = cli({**env, "RECONCILER_STATE": str(tmp_path / "none.sqlite")}, "plan", "--repo",
                  ".", "--offline", cwd=platform.repo)
    assert missing.returncode == 3 and "state snapshot" in missing.stderr


def _steps(plan_json: str) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = json.loads(plan_json)["steps"]
    return [{k: v for k, v in step.items() if k != "diff"} for step in steps]


def test_doctor_good_and_bad(n8n_server: ServerInfo, platform: Platform, git: Git,
                             tmp_path: Path) -> None:
    env = daemon_env(n8n_server, platform)
    good = cli(env, "doctor", "--repo", git.url)
    assert good.returncode == 0, good.stdout
    assert "all good" in good.stdout and "7 secret file(s)" in good.stdout
    assert n8n_server.api_key not in good.stdout

    bad_env = {**env, "RECONCILER_N8N_API_KEY": "not-a-key",
               "RECONCILER_SECRETS_DIR": str(tmp_path / "missing")}
    bad = cli(bad_env, "doctor", "--repo", f"file://{tmp_path}/no-repo")
    assert bad.returncode == 1
    out = bad.stdout
    assert "FAIL git" in out and "FAIL n8n workflows" in out and "FAIL secrets" in out
    assert "fix: the API key is wrong" in out and "not-a-key" not in out
    assert "ok   state" in out

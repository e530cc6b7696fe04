"""The GitHub Action and the CI examples: actionlint and shellcheck clean, and their shell
and Python parts run here as a runner would run them (against a loopback API)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pygit2
import pytest
import yaml

from reconciler.daemon.demo import commit_all

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example-repo"
ACTION = ROOT / "scripts" / "action"
MARKER = "<!-- n8n-reconciler plan -->"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, f"{name} is missing: run `bash scripts/setup`"
    return found


def _lint(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("actionlint"), "-shellcheck", _tool("shellcheck")], cwd=folder,
                          capture_output=True, text=True, check=False)


def test_the_example_workflows_are_actionlint_clean() -> None:
    files = sorted(str(p) for p in (EXAMPLE / ".github/workflows").glob("*.yml"))
    result = subprocess.run([_tool("actionlint"), "-shellcheck", _tool("shellcheck"), *files],
                            cwd=EXAMPLE, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_action_is_used_as_written(tmp_path: Path) -> None:
    """The workflows with `uses: ./`: actionlint then checks them against action.yml."""
    (tmp_path / ".github/workflows").mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    for path in (EXAMPLE / ".github/workflows").glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        assert "uses: OWNER/n8n-reconciler@v1" in text
        (tmp_path / ".github/workflows" / path.name).write_text(
            text.replace("OWNER/n8n-reconciler@v1", "./"), encoding="utf-8")
    pygit2.init_repository(str(tmp_path))
    result = _lint(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    scripts = " ".join(str(step.get("run", "")) for step in action["runs"]["steps"])
    for name in ("install.sh", "check.sh", "comment.py"):
        assert name in scripts and (ACTION / name).is_file()


def test_the_shell_parts_are_shellcheck_clean() -> None:
    result = subprocess.run([_tool("shellcheck"), *map(str, sorted(ACTION.glob("*.sh")))],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def _repo(tmp_path: Path, broken: bool = False) -> Path:
    repo = tmp_path / "use-cases-repo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".github", ".gitlab-ci.yml"))
    if broken:
        (repo / "platform.yaml").write_text("organizations: [\n", encoding="utf-8")
    commit_all(pygit2.init_repository(str(repo)), "initial")
    return repo


def _check(tmp_path: Path, repo: Path) -> tuple[int, dict[str, str], Path]:
    out, outputs = tmp_path / "out", tmp_path / "github_output"
    outputs.write_text("", encoding="utf-8")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "OUT_DIR": str(out),
           "INPUT_PATH": str(repo), "INPUT_REF": "HEAD", "INPUT_STATE": "",
           "GITHUB_OUTPUT": str(outputs), "NO_COLOR": "1"}
    for name in ("RECONCILER_N8N_URL", "RECONCILER_N8N_API_KEY", "RECONCILER_STATE"):
        env.pop(name, None)  # a fork's pull request: no secret, no n8n
    result = subprocess.run(["bash", str(ACTION / "check.sh")], env=env, capture_output=True,
                            text=True, check=False, timeout=300)
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return result.returncode, values, out


def test_check_plans_offline_without_secrets(tmp_path: Path) -> None:
    code, values, out = _check(tmp_path, _repo(tmp_path))
    assert code == 0, values
    assert values["valid"] == "true" and values["changes"] == "true"
    assert values["plan-exit-code"] == "2"
    comment = Path(values["comment-file"]).read_text(encoding="utf-8")
    assert comment.startswith(MARKER + "\n### n8n-reconciler plan")
    assert "<details>" in comment and "| instance |" in comment
    sarif = json.loads(Path(values["sarif-file"]).read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []
    assert (out / "validate.junit.xml").read_text().startswith("<?xml")


def test_check_of_an_invalid_repository_still_writes_the_comment(tmp_path: Path) -> None:
    code, values, _ = _check(tmp_path, _repo(tmp_path, broken=True))
    assert code == 1
    assert values["valid"] == "false" and values["plan-exit-code"] == "skipped"
    comment = Path(values["comment-file"]).read_text(encoding="utf-8")
    assert "does not validate" in comment and "platform.yaml" in comment


class _Api(BaseHTTPRequestHandler):
    """A loopback stand-in for the GitHub and GitLab comment endpoints."""

    comments: list[dict[str, Any]] = []
    calls: list[str] = []
    head = "abc123"

    def _send(self, data: Any, status: int = 200) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self) -> None:
        self.calls.append(f"GET {self.path}")
        if self.path.startswith("/repos/acme/repo/pulls/"):
            self._send({"head": {"sha": self.head}})
        else:
            self._send(self.comments if "page=1" in self.path else [])

    def do_POST(self) -> None:
        self.calls.append(f"POST {self.path}")
        made = {"id": len(self.comments) + 1, "body": self._body()["body"]}
        self.comments.append(made)
        self._send(made, 201)

    def _update(self) -> None:
        self.calls.append(f"{self.command} {self.path}")
        wanted = int(self.path.rsplit("/", 1)[1])
        for comment in self.comments:
            if comment["id"] == wanted:
                comment["body"] = self._body()["body"]
        self._send({"id": wanted})

    do_PATCH = do_PUT = _update

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    _Api.comments, _Api.calls = [{"id": 1, "body": "LGTM"}], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _comment(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ACTION / "comment.py"), *args],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          check=False, timeout=60)


def test_one_comment_per_pull_request_updated_in_place(api: str, tmp_path: Path) -> None:
    plan = tmp_path / "comment.md"
    env = {"GITHUB_API_URL": api, "GITHUB_REPOSITORY": "acme/repo", "GITHUB_TOKEN": "t"}
    for text in ("### plan one\n", "### plan two\n"):
        plan.write_text(f"{MARKER}\n{text}", encoding="utf-8")
        done = _comment([str(plan), "--pr", "7", "--head-sha", "abc123"], env)
        assert done.returncode == 0, done.stderr
    assert [c["body"] for c in _Api.comments] == ["LGTM", f"{MARKER}\n### plan two\n"]
    assert "PATCH /repos/acme/repo/issues/comments/2" in _Api.calls
    stale = _comment([str(plan), "--pr", "7", "--head-sha", "0ld"], env)
    assert stale.returncode != 0 and "not posting" in stale.stderr
    bad = _comment([str(plan), "--pr", "7; rm -rf /"], env)
    assert bad.returncode == 2 and len(_Api.comments) == 2


def test_a_merge_request_note_on_gitlab(api: str, tmp_path: Path) -> None:
    plan = tmp_path / "comment.md"
    env = {"CI_API_V4_URL": api, "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "3",
           "RECONCILER_GITLAB_TOKEN": "t"}
    for text in ("one", "two"):
        plan.write_text(text, encoding="utf-8")  # the marker is added when missing
        assert _comment(["--gitlab", str(plan)], env).returncode == 0
    assert [c["body"] for c in _Api.comments] == ["LGTM", f"{MARKER}\ntwo"]
    assert "PUT /projects/42/merge_requests/3/notes/2" in _Api.calls


def test_the_gitlab_example_runs_the_same_scripts() -> None:
    ci = yaml.safe_load((EXAMPLE / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    job = ci["reconciler-plan"]
    text = json.dumps(job)
    for name in ("install.sh", "check.sh", "comment.py --gitlab"):
        assert name in text
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]

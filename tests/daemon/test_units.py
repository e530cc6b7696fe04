"""Pure parts of the daemon: settings precedence, webhook checks, the state lock, the demo
repository helper. No n8n."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from reconciler.daemon import hooks
from reconciler.daemon.config import resolve
from reconciler.daemon.demo import commit_folder, tag_versions, write_secrets
from reconciler.daemon.logs import JsonFormatter
from reconciler.errors import UsageError
from reconciler.store.lock import LockHeld, StateLock

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"


def test_flags_override_env_override_file(tmp_path: Path) -> None:
    toml = tmp_path / "reconciler.toml"
    toml.write_text('[daemon]\nrepo = "file:///from-file"\ninterval = 30\nbranch = "prod"\n'
                    'log-format = "json"\n', encoding="utf-8")
    env = {"RECONCILER_INTERVAL": "45", "RECONCILER_BRANCH": "release"}
    config = resolve({"branch": "main", "interval": None}, env, str(toml))
    assert (config.repo, config.interval, config.branch, config.log_format) == (
        "file:///from-file", 45.0, "main", "json")
    yml = tmp_path / "reconciler.yaml"
    yml.write_text("repo: /x\nwait_lock: true\n", encoding="utf-8")
    assert resolve({}, {"RECONCILER_CONFIG": str(yml)}).wait_lock is True


def test_bad_settings_name_the_file_and_line(tmp_path: Path) -> None:
    toml = tmp_path / "reconciler.toml"
    toml.write_text('repo = "x"\n\nintervall = 3\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"reconciler.toml:3: unknown setting 'intervall'"):
        resolve({}, {}, str(toml))
    yml = tmp_path / "r.yaml"
    yml.write_text("repo: x\ninterval: [\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"r.yaml:\d+: not valid YAML"):
        resolve({}, {}, str(yml))
    with pytest.raises(UsageError, match="RECONCILER_INTERVAL: interval must be a number"):
        resolve({}, {"RECONCILER_INTERVAL": "soon"})
    with pytest.raises(UsageError, match="HOST:PORT"):
        resolve({"listen": "localhost"}, {})


def test_github_signature_and_gitlab_token() -> None:
    body = b'{"ref": "refs/heads/main"}'
    good = hooks.github_signature(b"s", body)
    assert hooks.github_ok(b"s", body, good)
    assert not hooks.github_ok(b"s", body + b" ", good)
    assert not hooks.github_ok(b"s", body, None)
    assert not hooks.github_ok(b"s", body, good.replace("sha256=", "sha1="))
    assert hooks.gitlab_ok(b"s", "s") and not hooks.gitlab_ok(b"s", "S")
    assert hooks.concerns_us("refs/tags/a@1.0.0", "main")
    assert not hooks.concerns_us("refs/heads/other", "main")
    assert hooks.webhook_secret({}) is None


def test_one_writer_per_state(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = StateLock(state)
    first.acquire()
    with pytest.raises(LockHeld, match=r"another reconciler process \(pid \d+\).*--wait-lock"):
        StateLock(state).acquire()
    first.release()
    second = StateLock(state)
    second.acquire()
    second.release()


def test_json_logs_carry_fields_not_exception_text() -> None:
    import logging

    record = logging.LogRecord("reconciler.daemon", logging.ERROR, __file__, 1, "failed",
                               None, (ValueError, ValueError("secret-value"), None))
    record.fields = {"run": 3}
    line = json.loads(JsonFormatter().format(record))
    assert line["run"] == 3 and line["exception"] == "ValueError"
    assert "secret-value" not in json.dumps(line)


def test_demo_repository_is_idempotent(tmp_path: Path) -> None:
    repo_dir = tmp_path / "repo"
    repo_dir.mkdir()
    assert commit_folder(repo_dir, EXAMPLE, "example") is not None
    assert sorted(tag_versions(repo_dir)) == [
        "daily-digest@1.0.0", "hello@1.0.0", "inbox-triage@2.1.0", "lead-enrichment@1.2.0"]
    assert commit_folder(repo_dir, EXAMPLE, "example") is None
    assert tag_versions(repo_dir) == []
    repo = pygit2.Repository(str(repo_dir))
    assert len(list(repo.walk(repo.head.target))) == 1
    assert write_secrets(tmp_path / "secrets") == 7
    assert not (tmp_path / "secrets" / "user.erin.gmail").exists()


def test_https_token_and_ssh_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.daemon.gitwatch import GitWatcher
    from reconciler.errors import GitError

    kinds = pygit2.enums.CredentialType
    monkeypatch.setenv("MY_TOKEN", "tok-123")
    watcher = GitWatcher("https://git.example.invalid/a.git", "main", Path("/nonexistent"),
                         token_env="MY_TOKEN", username="oauth2")
    callbacks = watcher._callbacks()
    cred = callbacks.credentials("https://git.example.invalid/a.git", None,
                                 kinds.USERPASS_PLAINTEXT)
    assert isinstance(cred, pygit2.UserPass)
    assert cred.credential_tuple == ("oauth2", "tok-123")
    agent = callbacks.credentials("ssh://git@h/a.git", "git", kinds.SSH_KEY)
    assert isinstance(agent, pygit2.KeypairFromAgent)
    callbacks.credentials("u", None, kinds.USERPASS_PLAINTEXT)
    with pytest.raises(GitError, match="authentication refused") as refused:
        callbacks.credentials("u", None, kinds.USERPASS_PLAINTEXT)
    assert "tok-123" not in str(refused.value)
    monkeypatch.delenv("MY_TOKEN")
    with pytest.raises(GitError, match="wants credentials"):
        watcher._callbacks().credentials("u", None, kinds.USERPASS_PLAINTEXT)

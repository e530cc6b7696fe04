"""The CLI commands on the state file and n8n from the environment (no daemon)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.adapters.n8n_server import ServerInfo
from reconciler.cli.main import entry
from tests.api.conftest import OWNER_DEV, Api

pytestmark = pytest.mark.n8n


@pytest.fixture
def env(api: Api, n8n_server: ServerInfo, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("RECONCILER_N8N_URL", n8n_server.url)
    monkeypatch.setenv("RECONCILER_N8N_API_KEY", n8n_server.api_key)
    monkeypatch.setenv("RECONCILER_STATE", str(api.platform.store.path))
    monkeypatch.setenv("RECONCILER_API_URL", "http://agents.example")
    return api


def test_key_trigger_list_get_skills(env: Api, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert entry(["instance", "key", OWNER_DEV]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("rk_")
    assert entry(["instance", "key", OWNER_DEV]) == 1  # shown once: rotate for a new one
    assert "--rotate" in capsys.readouterr().err
    payload = tmp_path / "p.json"
    payload.write_text('{"message": "from the cli"}', encoding="utf-8")
    assert entry(["trigger", OWNER_DEV, "echo", "--payload-file", str(payload), "--wait"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["response"] == {"echo": "from the cli", "n": 42}
    record_id = out["execution"]["id"]
    payload.write_text("{}", encoding="utf-8")
    assert entry(["trigger", OWNER_DEV, "fail", "--payload-file", str(payload), "--wait"]) == 1
    capsys.readouterr()
    assert entry(["executions", "list", "--instance", OWNER_DEV, "--status", "success"]) == 0
    assert record_id in capsys.readouterr().out
    assert entry(["executions", "get", record_id, "--slim"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["run"]["output"] == [{"echo": "from the cli", "n": 42}]
    assert entry(["skills", OWNER_DEV, "--write", str(tmp_path / "skills")]) == 0
    text = (tmp_path / "skills" / "echo" / "SKILL.md").read_text(encoding="utf-8")
    assert "POST http://agents.example/api/v1/workflows/echo/trigger" in text
    assert f"/webhook/echo/{OWNER_DEV}/echo" in text and "| `message` | string | yes |" in text
    assert key not in capsys.readouterr().err

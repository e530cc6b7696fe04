"""`reconciler usage` and seat overflow through the CLI, without n8n."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from reconciler.store import ledger
from reconciler.store.db import Store
from tests.credits.ledger_rows import add_execution, add_instance
from tests.credits.test_ledger import PLATFORM

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"
RunCli = Callable[..., tuple[int, str]]


def _state(tmp_path: Path) -> Path:
    store = Store(tmp_path / "state.sqlite")
    ledger.sync_accounts(store, PLATFORM)
    add_instance(store, "echo-acme")
    add_instance(store, "echo-globex", org="globex")
    add_execution(store, "r1", "echo-acme")
    add_execution(store, "r2", "echo-acme")
    add_execution(store, "r3", "echo-globex")
    add_execution(store, "old", "echo-acme", started="2026-11-03T00:00:00.000+00:00")
    store.close()
    return tmp_path / "state.sqlite"


def test_usage_json_per_account_and_instance(tmp_path: Path, run_cli: RunCli) -> None:
    state = _state(tmp_path)
    code, out = run_cli("usage", "--period", "2026-12", "-o", "json", "--state", str(state))
    assert code == 0, out
    data = json.loads(out)
    by = {a["account"]: a for a in data["accounts"]}
    assert data["period"] == "2026-12"
    assert (by["org:acme"]["used"], by["org:acme"]["balance"]) == (10, 2)
    assert by["org:acme"]["instances"] == {"echo-acme": {"credits": 10, "runs": 2}}
    assert (by["org:globex"]["plan"], by["org:globex"]["balance"]) == (None, None)
    assert by["user:erin"]["used"] == 0
    code, out = run_cli("usage", "acme", "--period", "2026-11", "-o", "json",
                        "--state", str(state))
    assert [(a["account"], a["used"]) for a in json.loads(out)["accounts"]] == [
        ("org:acme", 5)]


def test_usage_text_and_a_bad_period(tmp_path: Path, run_cli: RunCli) -> None:
    state = _state(tmp_path)
    code, out = run_cli("usage", "--period", "2026-12", "--state", str(state))
    assert code == 0
    assert "org:acme" in out and "(not metered)" in out and "echo-acme" in out
    code, out = run_cli("usage", "--period", "2026-1", "--state", str(state))
    assert code == 1 and "YYYY-MM" in out and "Traceback" not in out
    code, out = run_cli("usage", "--state", str(tmp_path / "none.sqlite"))
    assert code == 3 and not (tmp_path / "none.sqlite").exists()


def test_seat_overflow_fails_validation_naming_platform_yaml(tmp_path: Path,
                                                             run_cli: RunCli) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    text = (repo / "platform.yaml").read_text(encoding="utf-8")
    (repo / "platform.yaml").write_text(text.replace("plan: pro  #", "plan: free  #"),
                                        encoding="utf-8")
    code, out = run_cli("validate", str(repo), "-o", "json")
    assert code == 1
    problems = [p for p in json.loads(out)["problems"] if p["rule"] == "PLAN-SEATS"]
    assert len(problems) == 1
    assert problems[0]["file"] == "platform.yaml" and problems[0]["severity"] == "must"
    assert problems[0]["line"] == 15 and "organizations" in problems[0]["field"]
    assert "acme has 3 members" in problems[0]["message"]
    assert "'free' has 2 seats" in problems[0]["message"]


def test_unknown_plan_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    text = (repo / "platform.yaml").read_text(encoding="utf-8")
    (repo / "platform.yaml").write_text(text.replace("plan: free  #", "plan: platinum  #"),
                                        encoding="utf-8")
    code, out = run_cli("validate", str(repo))
    assert code == 1 and "PLAN-KNOWN" in out and "platinum" in out

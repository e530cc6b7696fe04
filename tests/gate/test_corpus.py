"""validate is the gate: every broken repository of the corpus is refused everywhere.

For each case (tests/gate/cases.py), on a branch of the good, deployed commit:

(a) `reconciler validate` exits 1 and names the file and the line or field;
(b) `reconciler plan` and `reconciler apply --yes` exit 1;
(c) every state table but the run log, and n8n's workflow and credential lists, are
    sha256-identical before and after plan and apply;
(d) for the `daemon` cases, a daemon on the branch keeps /healthz at 200 and the good
    state live: the echo installation's production webhook still answers.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from reconciler.apply.runtime import make_engine, open_store
from reconciler.daemon.app import DaemonContext, create_app
from reconciler.daemon.config import DaemonConfig
from reconciler.daemon.gitwatch import GitWatcher
from reconciler.daemon.loop import Daemon
from tests.gate.cases import CASES, GateCase
from tests.gate.conftest import Gate

pytestmark = pytest.mark.n8n

ECHO_HOOK = "webhook/echo/echo-globex/echo"
_TOKEN = re.compile(r"@(cred|wf):([^@]+)@")


def _live_ids(gate: Gate) -> dict[str, str]:
    """`cred:<secret>` and `wf:<instance>/<workflow>` -> the n8n id deployed for it."""
    conn = sqlite3.connect(str(gate.state), timeout=30)
    try:
        ids = {f"cred:{key.rsplit(':', 1)[0]}": n8n_id
               for key, n8n_id in conn.execute("SELECT key, n8n_id FROM credentials")}
        ids.update({f"wf:{inst}/{wf}": n8n_id for inst, wf, n8n_id in conn.execute(
            "SELECT instance_id, workflow_id, n8n_id FROM workflow_mappings")})
    finally:
        conn.close()
    return ids


def _substitute(folder: Path, ids: dict[str, str]) -> None:
    """Real ids of the other tenant's live objects, where a case names them."""
    for path in folder.rglob("*"):
        if path.is_file() and b"@" in (data := path.read_bytes()):
            text = data.decode("utf-8", "replace")
            if _TOKEN.search(text):
                path.write_text(_TOKEN.sub(lambda m: ids[f"{m[1]}:{m[2]}"], text),
                                encoding="utf-8")


def _prepare(gate: Gate, case: GateCase) -> tuple[str, int | None, list[str], list[str]]:
    """Commit the case; returns (branch, expected line, branches, tags) to clean up."""
    folder = gate.checkout()
    case.case.breaks(folder)
    line = case.case.expected_line(folder)  # before ids are put in: lines do not move
    _substitute(folder, _live_ids(gate))
    branch = f"case-{case.name}"
    branches, tags = [branch], []
    if case.tag_blob:  # a release tag on a blob, the branch itself good
        gate.branch(branch, folder)
        gate.tag(str(case.tag), str(gate.repo.create_blob(b"not a commit\n")))
    elif case.tag_only:
        side = gate.branch(f"{branch}-tagged", folder)
        branches.append(f"{branch}-tagged")
        gate.branch(branch, gate.checkout())  # the branch itself stays good
        gate.tag(str(case.tag), side)
    else:
        made = gate.branch(branch, folder)
        if case.tag:
            gate.tag(case.tag, made)
    if case.tag:
        tags.append(case.tag)
    return branch, line, branches, tags


def _problems(output: str) -> list[str]:
    return [line.removeprefix("error: ") for line in output.splitlines()
            if line.startswith("error: ")]


def _located(output: str, case: GateCase, line: int | None) -> bool:
    spec = case.case
    for problem in _problems(output):
        where = problem.split(": ", 1)[0]
        if not where.startswith(spec.file):
            continue
        if ((line is None or where.startswith(f"{spec.file}:{line}"))
                and (spec.field is None or where.endswith(f"[{spec.field}]"))
                and (spec.says is None or spec.says in problem)):
            return True
    return False


@pytest.fixture
def prepared(gate: Gate, baseline: tuple[str, str],
             request: pytest.FixtureRequest) -> Iterator[tuple[str, int | None]]:
    case: GateCase = request.param
    branch, line, branches, tags = _prepare(gate, case)
    try:
        yield branch, line
    finally:
        gate.forget(branches, tags)


@pytest.mark.parametrize("prepared, case", [(c, c) for c in CASES], indirect=["prepared"],
                         ids=[c.name for c in CASES])
def test_broken_repository_is_refused_and_changes_nothing(
        gate: Gate, baseline: tuple[str, str], prepared: tuple[str, int | None],
        case: GateCase) -> None:
    branch, line = prepared
    repo = str(gate.bare)
    failures: list[str] = []  # every broken promise of the case, not only the first
    code, output = gate.cli("validate", "--repo", repo, "--ref", branch)
    if code != 1:
        failures.append(f"validate exited {code}:\n{output[-1500:]}")
    elif not _located(output, case, line):
        failures.append(f"validate did not report {case.case.file}:{line} "
                        f"[{case.case.field}] {case.case.says or ''}:\n{output[-1500:]}")
    for args in (("plan",), ("apply", "--yes")):
        code, output = gate.cli(*args, "--repo", repo, "--ref", branch)
        if code != 1:
            failures.append(f"{args[0]} exited {code}:\n{output[-800:]}")
        if "Traceback" in output:
            failures.append(f"{args[0]} printed a traceback")
    before = gate.baseline_dumps
    assert before is not None
    if gate.fingerprint() != baseline:
        failures.append("changed: " + "; ".join(gate.changes(before)))
    assert not failures, "\n".join(failures)


DAEMON_CASES = [c for c in CASES if c.daemon]


def _echo(gate: Gate) -> httpx.Response:
    return httpx.post(f"{gate.env['RECONCILER_N8N_URL']}/{ECHO_HOOK}",
                      json={"message": "still here"}, timeout=30)


@pytest.mark.parametrize("prepared, case", [(c, c) for c in DAEMON_CASES],
                         indirect=["prepared"], ids=[c.name for c in DAEMON_CASES])
def test_a_daemon_on_the_bad_commit_keeps_the_good_state_live(
        gate: Gate, baseline: tuple[str, str], prepared: tuple[str, int | None],
        case: GateCase, tmp_path: Path) -> None:
    branch, _ = prepared
    config = DaemonConfig(repo=f"file://{gate.bare}", branch=branch, state=str(gate.state),
                          interval=3600.0, jitter=0.0, resync=3600.0, backoff_base=0.5,
                          backoff_max=2.0)
    engine = make_engine(open_store(str(gate.state)))
    daemon = Daemon(config, engine, GitWatcher(config.repo, branch, tmp_path / "mirrors"))
    try:
        tick = daemon.tick()
        assert tick is not None and tick.outcome in ("failed", "held"), tick
        context = DaemonContext(state_path=daemon.store.path, n8n_url=engine.base_url,
                                branch=branch, failing_grace=900.0, health=daemon.health,
                                metrics=daemon.metrics, request_reconcile=daemon.request,
                                n8n_api_key=gate.env["RECONCILER_N8N_API_KEY"],
                                hash_key=engine.hash_key)
        with TestClient(create_app(context)) as http:
            assert http.get("/healthz").status_code == 200
        answer = _echo(gate)
        assert answer.status_code == 200 and answer.json().get("echo") == "still here", (
            answer.status_code, answer.text[:300])
        assert gate.fingerprint()[1] == baseline[1], "n8n changed"
    finally:
        daemon.shutdown()
        engine.store.close()


def test_the_corpus_covers_every_layer() -> None:
    layers = {c.layer for c in CASES}
    assert {"graph", "platform", "content", "folder", "load", "history", "tenant"} <= layers
    assert len(CASES) >= 40 and len(DAEMON_CASES) >= 5
    assert len({c.name for c in CASES}) == len(CASES)

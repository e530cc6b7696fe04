"""The catalogue, install and uninstall without n8n: a generated repository of three
organizations, one use case per visibility level, and hostile inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from reconciler.load.repository import load_partial
from reconciler.load.source import FolderSource
from reconciler.model.platform import PlatformState, ProcessRec
from reconciler.plan.catalog import access_change, catalog_for
from reconciler.plan.inputs import Observed, PlanInput
from reconciler.plan.planner import make_plan
from reconciler.plan.show import render_plan
from reconciler.plan.steps import SaveProcess
from tests.conftest import RunCli

EXAMPLE = Path(__file__).resolve().parents[2] / "example-repo"

PLATFORM = {
    "users": [{"id": u, "name": u.title(), "email": f"{u}@example.test"}
              for u in ("alice", "bob", "carol", "dave", "erin", "frank", "grace")],
    "organizations": [
        {"id": "acme", "name": "Acme", "members": [{"user": "alice", "role": "owner"},
                                                   {"user": "bob"}, {"user": "carol"}],
         "teams": [{"id": "sales", "members": ["bob"]}]},
        {"id": "globex", "name": "Globex", "members": [{"user": "dave", "role": "owner"},
                                                       {"user": "erin"}],
         # the same team id as acme's: a listed team means the owner org's team only
         "teams": [{"id": "sales", "members": ["erin"]}]},
        {"id": "initech", "name": "Initech", "members": [{"user": "frank", "role": "owner"},
                                                         {"user": "grace"}]},
    ],
}
# use case -> (source folder in example-repo, visibility)
CASES = {
    "t-private": ("inbox-triage", {"level": "private"}),
    "t-users": ("inbox-triage", {"level": "userList", "users": ["carol", "frank"]}),
    "t-teams": ("inbox-triage", {"level": "teamList", "teams": ["sales"]}),
    "t-org": ("inbox-triage", {"level": "organizational"}),
    "t-public": ("inbox-triage", {"level": "public"}),
    "o-org": ("lead-enrichment", {"level": "organizational"}),
    "o-public": ("lead-enrichment", {"level": "public"}),
}


def set_visibility(repo: Path, slug: str, visibility: dict[str, object]) -> None:
    file = repo / "use-cases" / slug / "use-case.yaml"
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    data["process"]["visibility"] = visibility
    data["process"]["owner"]["user"] = "alice"
    data["process"]["owner"]["org"] = "acme"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "instances").mkdir()
    (root / "platform.yaml").write_text(yaml.safe_dump(PLATFORM), encoding="utf-8")
    for slug, (source, visibility) in CASES.items():
        shutil.copytree(EXAMPLE / "use-cases" / source, root / "use-cases" / slug)
        set_visibility(root, slug, visibility)
    return root


def offered(repo: Path, user: str) -> dict[str, tuple[str, ...]]:
    state = load_partial(FolderSource(repo))
    assert not state.load_problems, state.load_problems
    return {e.use_case: e.install_as for e in catalog_for(state, user, {})}


def test_catalogue_per_visibility_level_for_three_organizations(repo: Path) -> None:
    personal_everyone = {"t-public": ("user:{u}",)}
    expected = {
        # acme, the owner's organization
        "alice": {"t-private", "t-org", "t-public", "o-org", "o-public"},
        "bob": {"t-teams", "t-org", "t-public", "o-org", "o-public"},
        "carol": {"t-users", "t-org", "t-public", "o-org", "o-public"},
        # globex: erin is in globex's own `sales` team, which grants nothing in acme's
        "dave": {"t-public", "o-public"},
        "erin": {"t-public", "o-public"},
        # initech: frank is listed by name
        "frank": {"t-users", "t-public", "o-public"},
        "grace": {"t-public", "o-public"},
    }
    for user, slugs in expected.items():
        found = offered(repo, user)
        assert set(found) == slugs, user
        assert found["t-public"] == tuple(p.format(u=user) for p in personal_everyone["t-public"])
    assert offered(repo, "bob")["o-org"] == ("org:acme",)
    assert offered(repo, "grace")["o-public"] == ("org:initech",)


def test_catalogue_lists_versions_parameters_and_integrations(repo: Path,
                                                              run_cli: RunCli) -> None:
    code, out = run_cli("catalog", "--for", "user:grace", "--path", str(repo), "-o", "json")
    assert code == 0, out
    entries = {e["use_case"]: e for e in json.loads(out)["use_cases"]}
    lead = entries["o-public"]
    assert lead["versions"]["branch"] == "1.2.0" and lead["versions"]["published"] == []
    assert [r["name"] for r in lead["required_parameters"]] == ["COMPANY_NAME"]
    assert {(i["integration"], i["scope"]) for i in lead["integrations"]} == {
        ("anthropic", "FLEXCRED")}
    assert entries["t-public"]["integrations"][0]["scope"] == "USERCRED"
    code, text = run_cli("catalog", "--for", "user:grace", "--path", str(repo))
    assert code == 0 and "requires --param COMPANY_NAME=<string>" in text
    code, out = run_cli("catalog", "--for", "org:acme", "--path", str(repo))
    assert code == 64 and "user:ID" in out
    code, out = run_cli("catalog", "--for", "user:nobody", "--path", str(repo))
    assert code == 64 and "not declared" in out


def test_install_writes_a_file_that_validates(repo: Path, run_cli: RunCli) -> None:
    code, out = run_cli("install", "o-public", "--for", "org:initech", "--env", "prod",
                        "--param", "COMPANY_NAME=Initech", "--param", "MIN_SCORE=70",
                        "--into", str(repo))
    assert code == 0, out
    assert "anthropic (FLEXCRED)" in out
    written = yaml.safe_load((repo / "instances" / "o-public-initech.yaml").read_text())
    assert written == {"use_case": "o-public", "owner": {"org": "initech"},
                       "environment": "prod",
                       "parameters": {"COMPANY_NAME": "Initech", "MIN_SCORE": 70}}
    code, out = run_cli("validate", str(repo))
    assert code == 0, out
    code, out = run_cli("install", "t-users", "--for", "user:frank", "--env", "dev",
                        "--pin", "2.1.0", "--into", str(repo))
    assert code == 0, out
    assert (repo / "instances" / "t-users-frank-dev.yaml").is_file()
    # uninstall archives through the same file, keeping what it says
    code, out = run_cli("uninstall", "o-public-initech", "--into", str(repo))
    assert code == 0, out
    text = (repo / "instances" / "o-public-initech.yaml").read_text()
    assert text.startswith("# installed with") and text.endswith("archived: true\n")
    code, out = run_cli("validate", str(repo))
    assert code == 0, out
    code, out = run_cli("uninstall", "o-public-initech", "--into", str(repo))
    assert code == 0 and "archived already" in out
    # archived, it no longer counts: the owner may install again under another id
    code, out = run_cli("install", "o-public", "--for", "org:initech", "--env", "prod",
                        "--param", "COMPANY_NAME=Initech", "--id", "o-public-initech-2",
                        "--into", str(repo))
    assert code == 0, out


@pytest.mark.parametrize(("args", "message"), [
    (["t-private", "--for", "user:dave"], "may not install t-private"),
    (["t-users", "--for", "user:grace"], "may not install t-users"),
    (["t-teams", "--for", "user:dave"], "may not install t-teams"),
    (["o-org", "--for", "org:globex", "--param", "COMPANY_NAME=x"], "may not install o-org"),
    (["t-public", "--for", "user:alice"], "its automatic"),
    (["t-public", "--for", "org:acme"], "its owner is a user"),
    (["o-public", "--for", "user:dave"], "its owner is an organization"),
    (["o-public", "--for", "org:globex"], "needs COMPANY_NAME"),
    (["o-public", "--for", "org:globex", "--param", "COMPANY_NAME=x", "--param", "MIN_SCORE=hi"],
     "not a valid number"),
    (["o-public", "--for", "org:globex", "--param", "COMPANY_NAME=x", "--param", "NOPE=1"],
     "not declared"),
    (["t-public", "--for", "user:dave", "--pin", "9.9.9"], "no version '9.9.9'"),
    (["../../../tmp/evil", "--for", "user:dave"], "not a use-case name"),
    (["t-public\n", "--for", "user:dave"], "not a use-case name"),
    (["t-public", "--for", "user:../../x"], "--for takes"),
    (["t-public", "--for", "user:dave", "--id", "../../platform"], "not usable"),
    (["t-public", "--for", "user:dave", "--id", "t-org"], "not usable"),
    (["t-public", "--for", "user:dave", "--param", "../X=1"], "not declared"),
    (["t-public", "--for", "user:nobody"], "not declared in platform.yaml"),
    (["t-public", "--for", "user:dave", "--org", "acme"], "not a member"),
    (["missing", "--for", "user:dave"], "no use case 'missing'"),
])
def test_install_refuses(repo: Path, run_cli: RunCli, args: list[str], message: str) -> None:
    before = sorted(p.relative_to(repo) for p in repo.rglob("*"))
    code, out = run_cli("install", *args, "--env", "prod", "--into", str(repo))
    assert code == 1, out
    assert message in out and "Traceback" not in out
    assert sorted(p.relative_to(repo) for p in repo.rglob("*")) == before


def test_install_never_overwrites_and_one_per_owner(repo: Path, run_cli: RunCli) -> None:
    hand = repo / "instances" / "t-public-dave.yaml"
    hand.write_text("use_case: t-org\nowner: {user: bob}\n", encoding="utf-8")
    code, out = run_cli("install", "t-public", "--for", "user:dave", "--env", "prod",
                        "--into", str(repo))
    assert code == 1 and "exists already" in out
    assert hand.read_text() == "use_case: t-org\nowner: {user: bob}\n"
    code, out = run_cli("install", "t-public", "--for", "user:dave", "--env", "prod",
                        "--id", "other", "--into", str(repo))
    assert code == 0, out
    code, out = run_cli("install", "t-public", "--for", "user:dave", "--env", "prod",
                        "--id", "third", "--into", str(repo))
    assert code == 1 and "one instance per owner and environment" in out


def test_install_refuses_a_linked_instances_folder(repo: Path, run_cli: RunCli,
                                                   tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(repo / "instances")
    (repo / "instances").symlink_to(outside)
    code, out = run_cli("install", "t-public", "--for", "user:dave", "--env", "prod",
                        "--into", str(repo))
    assert code == 1 and not list(outside.iterdir()), out


def test_uninstall_refuses(repo: Path, run_cli: RunCli) -> None:
    for name, message in (("t-public.owner-prod", "automatic environment"),
                          ("../platform", "not an instance id"), ("absent", "no instance")):
        code, out = run_cli("uninstall", name, "--into", str(repo))
        assert code == 1 and message in out, out


def test_plan_says_who_gains_access_when_publishing(repo: Path) -> None:
    state = load_partial(FolderSource(repo))
    recorded = {slug: ProcessRec(slug, "dev", False, json.dumps(
        {"level": "private", "teams": [], "users": []}), "alice", "acme") for slug in CASES}
    plan = make_plan(PlanInput(declared=state, state=PlatformState(version=0,
                                                                    processes=recorded),
                               observed=Observed(workflows={}), publications=frozenset(),
                               secrets={}, n8n_base_url="http://127.0.0.1:5678"))
    saved = {s.use_case: s.access for s in plan.steps if isinstance(s, SaveProcess)}
    assert "t-private" not in saved  # nothing changed: no step at all
    assert saved["t-users"] == "visibility userList: gains access: user:carol, user:frank"
    assert saved["o-public"] == ("visibility public (and anyone declared later): gains "
                                 "access: org:globex, org:initech")
    assert "ACCESS: t-teams: visibility teamList: gains access: user:bob" in render_plan(
        plan, "text")
    markdown = render_plan(plan, "markdown")
    assert "#### Access (who may install)" in markdown
    assert "- `t-org`: visibility organizational: gains access: user:bob, user:carol" in markdown


def test_access_change_is_none_when_nobody_moves(repo: Path) -> None:
    state = load_partial(FolderSource(repo))
    orgs = state.platform.organizations
    process = state.use_cases["t-public"].config.process
    assert access_change(orgs, process, process) is None


def test_a_hostile_parameter_value_stays_a_value(repo: Path, run_cli: RunCli) -> None:
    value = "x\nowner: {org: acme}\n---\narchived: true # {{INSTPARM_X_MRAPTSNI}}"
    code, out = run_cli("install", "o-public", "--for", "org:globex", "--env", "prod",
                        "--param", f"COMPANY_NAME={value}", "--into", str(repo))
    assert code == 0, out
    written = yaml.safe_load((repo / "instances" / "o-public-globex.yaml").read_text())
    assert written["owner"] == {"org": "globex"} and "archived" not in written
    assert written["parameters"]["COMPANY_NAME"] == value

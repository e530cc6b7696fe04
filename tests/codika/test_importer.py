"""`reconciler import codika`: real `codika init` folders and hand-made ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from reconciler.adapters.codika_cli import CodikaInstall
from tests.codika.folders import codika_init, first_bad_backtick_line, kitchen_sink, repair
from tests.conftest import RunCli


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_codika_init_config_is_a_located_syntax_error(codika: CodikaInstall, tmp_path: Path,
                                                       run_cli: RunCli) -> None:
    src = codika_init(codika, tmp_path)
    line = first_bad_backtick_line((src / "config.ts").read_text())
    code, out = run_cli("import", "codika", str(src), "--into", str(tmp_path / "repo"))
    assert code == 1
    assert f"config.ts:{line}:" in out
    assert not (tmp_path / "repo" / "use-cases").exists()


def test_repaired_init_folder_imports_clean_and_idempotently(
        codika: CodikaInstall, tmp_path: Path, run_cli: RunCli) -> None:
    src = codika_init(codika, tmp_path)
    repair(src)
    repo = tmp_path / "repo"
    code, out = run_cli("import", "codika", str(src), "--into", str(repo), "--owner", "alice",
                        "--org", "acme")
    assert code == 0, out
    assert "node 'Codika Init': Codika Init -> No Operation" in out
    assert "Codika's standard header credential removed" in out
    assert run_cli("validate", "--strict", str(repo)) == (0, "valid: no problems found\n")
    before = _files(repo)
    code, out = run_cli("import", "codika", str(src), "--into", str(repo), "--owner", "alice",
                        "--org", "acme")
    assert code == 0 and "unchanged" in out
    assert _files(repo) == before


def test_every_trigger_field_and_scope_maps(codika: CodikaInstall, tmp_path: Path,
                                            run_cli: RunCli) -> None:
    src = kitchen_sink(tmp_path)
    repo = tmp_path / "repo"
    code, out = run_cli("import", "codika", str(src), "--into", str(repo), "--owner", "alice",
                        "--org", "acme")
    assert code == 0, out
    assert run_cli("validate", "--strict", str(repo)) == (0, "valid: no problems found\n")
    folder = repo / "use-cases" / "kitchen"
    spec = yaml.safe_load((folder / "use-case.yaml").read_text())
    assert spec["process"]["type"] == "personal"
    assert spec["process"]["tags"] == ["demo", "all"]
    assert {p: f["type"] for p, f in spec["parameters"].items()} == {
        "COMPANY": "string", "NOTES": "text", "LIMIT": "number", "ENABLED": "boolean",
        "START": "date", "TONE": "select", "LANGS": "multiselect", "MODE": "radio",
        "WORDS": "array", "CONFIG": "object", "ROWS": "objectArray"}
    assert spec["parameters"]["COMPANY"]["default"] == "Acme"
    workflows = {w["id"]: w for w in spec["workflows"]}
    assert [t["type"] for w in workflows.values() for t in w["triggers"]] == [
        "http", "schedule", "service_event", "subworkflow", "data_ingestion"]
    ask = workflows["ask"]
    assert ask["cost"] == 3 and ask["triggers"][0]["path"] == "ask"
    assert ask["triggers"][0]["input_schema"]["more"]["type"] == "section"
    assert ask["triggers"][0]["input_schema"]["more"]["fields"]["file"]["type"] == "file"
    assert workflows["report"]["triggers"][0]["manual_trigger_path"] == "report-now"
    assert workflows["ingest"]["triggers"][0] == {"type": "data_ingestion",
                                                  "embed_path": "embed",
                                                  "delete_path": "embed-delete"}
    nodes = {n["name"]: n for n in json.loads(
        (folder / "workflows" / "ask.json").read_text())["nodes"]}
    assert nodes["Codika Report Error"]["type"] == "n8n-nodes-base.stopAndError"
    assert nodes["Codika Report Error"]["parameters"]["errorMessage"] == \
        "=[validation_error] {{ $json.error }}"
    assert nodes["Codika Submit Result"]["type"] == "n8n-nodes-base.set"
    for scope in ("FLEXCRED", "USERCRED", "ORGCRED", "INSTCRED", "SYSCREDS"):
        assert nodes[f"Call {scope}"]["credentials"]["httpHeaderAuth"]["id"].startswith(
            "{{" + scope)
    assert (folder / "skills" / "ask-kitchen" / "SKILL.md").is_file()


def test_a_new_version_gives_a_small_diff(codika: CodikaInstall, tmp_path: Path,
                                          run_cli: RunCli) -> None:
    src = kitchen_sink(tmp_path)
    repo = tmp_path / "repo"
    assert run_cli("import", "codika", str(src), "--into", str(repo))[0] == 0
    before = _files(repo)
    (src / "version.json").write_text('{"version": "1.3.0"}\n')
    helper = src / "workflows" / "helper.json"
    helper.write_text(helper.read_text().replace("return $input.all();", "return [];"))
    code, out = run_cli("import", "codika", str(src), "--into", str(repo))
    assert code == 0, out
    after = _files(repo)
    changed = sorted(k for k in after if after[k] != before.get(k))
    assert changed == ["use-cases/kitchen/version.json",
                       "use-cases/kitchen/workflows/helper.json"]


@pytest.mark.parametrize("broken", ["workflows/ask.json"])
def test_a_broken_workflow_is_located(codika: CodikaInstall, tmp_path: Path, run_cli: RunCli,
                                      broken: str) -> None:
    src = kitchen_sink(tmp_path)
    text = (src / broken).read_text()
    (src / broken).write_text(text.replace('"name": "Ask",', '"name": "Ask"', 1))
    code, out = run_cli("import", "codika", str(src), "--into", str(tmp_path / "repo"))
    assert code == 1 and f"{broken}:" in out


def test_a_workflow_without_codika_init_imports_and_says_so(
        codika: CodikaInstall, tmp_path: Path, run_cli: RunCli) -> None:
    from tests.codika.corpus import _no_init

    src = codika_init(codika, tmp_path)
    repair(src)
    _no_init(src)
    code, out = run_cli("import", "codika", str(src), "--into", str(tmp_path / "repo"))
    assert code == 0, out
    assert "workflows/main-workflow.json: no Codika Init node" in out
    assert "text-processor.json: no Codika Init" not in out  # a sub-workflow is exempt

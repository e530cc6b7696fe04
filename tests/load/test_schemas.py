"""The JSON Schemas in schemas/ are the models' own, and the example files use them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.model.schemas import SCHEMAS, render_schemas

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schemas"
EXAMPLE = ROOT / "example-repo"
RunCli = Callable[..., tuple[int, str]]
_MODELINE = re.compile(r"\A# yaml-language-server: \$schema=(\S+)\n")

# example file pattern -> the schema it must name
EXPECTED = {
    "platform.yaml": "platform.schema.json",
    "use-cases/*/use-case.yaml": "use-case.schema.json",
    "instances/*.yaml": "instance.schema.json",
    "use-cases/*/tests/*.yaml": "smoke-test.schema.json",
}


def _yaml_files() -> list[tuple[Path, str]]:
    found = []
    for pattern, schema in EXPECTED.items():
        for path in sorted(EXAMPLE.glob(pattern)):
            found.append((path, schema))
    return found


def test_checked_in_schemas_match_the_models() -> None:
    rendered = render_schemas()
    on_disk = {p.name for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk == set(rendered), "schemas/ holds other files than the models make"
    stale = [name for name, text in rendered.items()
             if (SCHEMA_DIR / name).read_text(encoding="utf-8") != text]
    assert not stale, f"{stale} drifted from the models: run `reconciler schemas --write schemas`"


def test_schemas_are_deterministic() -> None:
    assert render_schemas() == render_schemas()


def test_schemas_command_writes_and_checks(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "schemas"
    assert run_cli("schemas", "--check", str(out))[0] == 1
    code, _ = run_cli("schemas", "--write", str(out))
    assert code == 0
    assert {p.name for p in out.iterdir()} == set(SCHEMAS)
    assert run_cli("schemas", "--check", str(out)) == (0, f"{out}: up to date\n")
    (out / "instance.schema.json").write_text("{}\n")
    code, output = run_cli("schemas", "--check", str(out))
    assert code == 1
    assert "instance.schema.json" in output and "platform.schema.json" not in output


def test_the_repository_schemas_pass_the_check(run_cli: RunCli) -> None:
    assert run_cli("schemas", "--check", str(SCHEMA_DIR))[0] == 0


@pytest.mark.parametrize(("path", "schema"), _yaml_files(),
                         ids=[str(p.relative_to(EXAMPLE)) for p, _ in _yaml_files()])
def test_example_yaml_names_its_schema(path: Path, schema: str) -> None:
    match = _MODELINE.match(path.read_text(encoding="utf-8"))
    assert match, f"{path} must start with '# yaml-language-server: $schema=...'"
    target = (path.parent / match.group(1)).resolve()
    # The example's own copy: the line resolves inside a repository made from it.
    assert target == (EXAMPLE / "schemas" / schema).resolve(), f"{path} names {target}"
    assert target.is_file()


def test_example_schemas_are_current(run_cli: RunCli) -> None:
    assert run_cli("schemas", "--check", str(EXAMPLE / "schemas"))[0] == 0


def test_schemas_write_into_a_users_repository(tmp_path: Path, run_cli: RunCli,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`schemas --write DIR` at a repository's root prints lines that resolve there."""
    monkeypatch.chdir(tmp_path)
    code, out = run_cli("schemas", "--write", "editor-schemas")
    assert code == 0
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": #" in line)
    assert set(lines) == {"platform.yaml", "instances/<id>.yaml",
                          "use-cases/<slug>/use-case.yaml"}
    for file, line in lines.items():
        place = tmp_path / file.replace("<id>", "a").replace("<slug>", "b")
        target = (place.parent / line.split("$schema=", 1)[1]).resolve()
        assert target.is_file() and target.parent == tmp_path / "editor-schemas", line


def test_every_example_yaml_file_is_covered() -> None:
    covered = {p for p, _ in _yaml_files()}
    everything = {p for p in EXAMPLE.rglob("*.y*ml")  # .github holds CI files, not ours
                  if not any(part.startswith(".") for part in p.relative_to(EXAMPLE).parts)}
    assert everything == covered


def _validator(schema: str) -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    loaded = json.loads((SCHEMA_DIR / schema).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(loaded)
    return jsonschema.Draft202012Validator(loaded)


def _front_matter(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n", 2)[1])


def _documents() -> list[tuple[str, str, Any]]:
    docs: list[tuple[str, str, Any]] = []
    for path, schema in _yaml_files():
        docs.append((str(path.relative_to(EXAMPLE)), schema,
                     yaml.safe_load(path.read_text(encoding="utf-8"))))
    for path in sorted(EXAMPLE.glob("use-cases/*/version.json")):
        docs.append((str(path.relative_to(EXAMPLE)), "version.schema.json",
                     json.loads(path.read_text(encoding="utf-8"))))
    for path in sorted(EXAMPLE.glob("use-cases/*/skills/*/SKILL.md")):
        docs.append((str(path.relative_to(EXAMPLE)), "skill.schema.json", _front_matter(path)))
    return docs


@pytest.mark.parametrize(("name", "schema", "data"), _documents(),
                         ids=[d[0] for d in _documents()])
def test_example_files_validate_against_the_schemas(name: str, schema: str, data: Any) -> None:
    errors = sorted(_validator(schema).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


@pytest.mark.parametrize(("schema", "data"), [
    ("instance.schema.json", {"use_case": "x", "owner": {"user": "a"}, "enviroment": "dev"}),
    ("instance.schema.json", {"owner": {"user": "a"}}),
    ("instance.schema.json", {"use_case": "x", "owner": {"user": "a"}, "version": "1.0"}),
    ("version.schema.json", {"version": "v1.0.0"}),
    ("use-case.schema.json", {"process": {}, "workflows": []}),
    ("platform.schema.json", {"targets": {"staging": {}}}),
    ("skill.schema.json", {"name": "Bad Name", "description": "d", "workflowTemplateId": "x"}),
])
def test_schemas_reject_what_the_models_reject(schema: str, data: Any) -> None:
    assert list(_validator(schema).iter_errors(data))

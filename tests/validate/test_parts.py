"""The linter's parts: locations, cron, canonical JSON, YAML list edits."""

from __future__ import annotations

import pytest

from reconciler.load.yamlfile import parse_yaml
from reconciler.model.placeholders import parse_workflow_text
from reconciler.validate.rules.content import webhook_uuid
from reconciler.validate.rules.cron import cron_error
from reconciler.validate.rules.jsontext import dump_workflow
from reconciler.validate.rules.locate import json_lines, pointer
from reconciler.validate.rules.yamledit import set_list
from tests.validate.conftest import EXAMPLE

WORKFLOW = """{
  "nodes": [
    {"name": "a/b~c", "value": {{INSTPARM_X_MRAPTSNI}}},
    {
      "name": "with \\"quote\\"",
      "list": [1,
        2]
    }
  ],
  "settings": {}
}
"""


def test_pointer_escapes_per_rfc_6901() -> None:
    assert pointer(("nodes", 3, "parameters", "path")) == "/nodes/3/parameters/path"
    assert pointer(("a/b", "m~n")) == "/a~1b/m~0n"
    assert pointer(()) == ""


def test_json_lines_follow_the_text_with_bare_placeholders() -> None:
    lines = json_lines(WORKFLOW)
    assert lines.line_of(("nodes",)) == 2
    assert lines.line_of(("nodes", 0, "value")) == 3
    assert lines.line_of(("nodes", 1, "name")) == 5
    assert lines.line_of(("nodes", 1, "list", 1)) == 7
    assert lines.line_of(("settings", "missing")) == 10  # a missing key: at its parent
    assert json_lines('{"a": [').line_of(("a",)) == 1  # truncated text does not raise


@pytest.mark.parametrize("expression", [
    "0 8 * * 1-5", "*/15 * * * *", "0 0 1 JAN,jul *", "5 4 * * SUN", "0 22 * * 1-5/2",
    "0 0 31 12 7",
])
def test_valid_cron(expression: str) -> None:
    assert cron_error(expression) is None


@pytest.mark.parametrize(("expression", "says"), [
    ("0 8 * *", "4 fields"), ("60 * * * *", "minute"), ("0 24 * * *", "hour"),
    ("0 0 0 * *", "day of month"), ("0 0 * 13 *", "month"), ("0 0 * * 8", "day of week"),
    ("0 0 * FOO *", "not a number"), ("*/0 * * * *", "step 0"), ("0 5-2 * * *", "backwards"),
    ("0 8 * * MON-", "not a value"), ("0 0 * * * *", "6 fields"),
])
def test_invalid_cron(expression: str, says: str) -> None:
    error = cron_error(expression)
    assert error is not None and says in error


def test_canonical_json_keeps_bare_placeholders_bare() -> None:
    for path in sorted(EXAMPLE.glob("use-cases/*/workflows/*.json")):
        written = path.read_text(encoding="utf-8")
        assert dump_workflow(parse_workflow_text(written)) == written, path
    out = dump_workflow(parse_workflow_text(WORKFLOW))
    assert '"value": {{INSTPARM_X_MRAPTSNI}}' in out
    assert out.endswith("}\n")


def test_webhook_uuid_is_stable_and_distinct() -> None:
    assert webhook_uuid("a.json", "Hook") == webhook_uuid("a.json", "Hook")
    assert webhook_uuid("a.json", "Hook") != webhook_uuid("b.json", "Hook")


YAML = """# comment kept
workflows:
  - id: main  # trailing comment kept
    name: Main
    integrations: [a]
  - id: sub
    name: Sub
    integrations:
      - a
      - b
    cost: 1
integrations: [a]
"""


def test_set_list_rewrites_flow_and_block_lists_in_place() -> None:
    out = set_list(YAML, ("workflows", 0, "integrations"), ["a", "c"])
    assert "    integrations: [a, c]\n" in out
    out = set_list(out, ("workflows", 1, "integrations"), ["b"])
    assert "    integrations:\n      - b\n    cost: 1\n" in out
    assert out.startswith("# comment kept\n") and "# trailing comment kept" in out
    data, _ = parse_yaml(out)
    assert data["workflows"][1]["integrations"] == ["b"]


def test_set_list_inserts_a_missing_key_after_its_sibling() -> None:
    out = set_list(YAML, ("workflows", 0, "called_by"), ["x"], after="id")
    assert "  - id: main  # trailing comment kept\n    called_by: [x]\n" in out
    without = YAML.removesuffix("integrations: [a]\n")
    assert set_list(without, ("integrations",), ["z"]) == without + "integrations: [z]\n"


def test_set_list_refuses_what_would_not_read_back() -> None:
    assert set_list(YAML, ("workflows", 0, "integrations"), ["yes"]) == YAML  # a boolean
    assert set_list(YAML, ("workflows", 0, "nothing"), ["x"], after="nope") == YAML
    assert set_list("a: [\n", ("a",), ["x"]) == "a: [\n"

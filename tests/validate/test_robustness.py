"""Rules and fixes never crash on a workflow of an unexpected shape (property test)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.load.source import FolderSource
from reconciler.model.placeholders import parse_workflow_text
from reconciler.validate.engine import lint_source, plan_fixes, select_rules
from reconciler.validate.fixer import OverlaySource
from reconciler.validate.rules.jsontext import dump_workflow
from tests.validate.conftest import DIGEST, EXAMPLE, LEAD, TRIAGE

FILES = [f"{TRIAGE}/workflows/triage.json", f"{DIGEST}/workflows/digest.json",
         f"{LEAD}/workflows/main.json", f"{LEAD}/workflows/score-lead.json",
         f"{LEAD}/workflows/summarize.json"]
BASE = FolderSource(EXAMPLE)
RULES = select_rules()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(
        ["", "x", "={{ $json.a }}", "{{ $json.a }}", "{{INSTPARM_LABEL_MRAPTSNI}}",
         "{{FOO_BAR}}", "{{ORGCRED_X_ID_DERCGRO}}", "main", "Find unread", "any", "v0"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["node", "main", "name", "type", "value", "values", "options",
                         "interval", "parameters", "credentials", "id"]), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FILES), st.integers(min_value=0), json_values)
def test_rules_and_fixes_survive_any_shape(file: str, where: int, value: Any) -> None:
    content = parse_workflow_text(BASE.read(file).decode("utf-8"))
    paths = list(_paths(content))
    path = paths[where % len(paths)]
    target = content
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = copy.deepcopy(value)
    overlay = OverlaySource(BASE, {file: dump_workflow(content)})
    result = lint_source(overlay, RULES)
    assert result.lint is not None
    for fixed_file, (_, new) in plan_fixes(result.lint, result.problems, overlay.read).items():
        if fixed_file.endswith(".json"):
            assert isinstance(parse_workflow_text(new), dict)  # still a workflow

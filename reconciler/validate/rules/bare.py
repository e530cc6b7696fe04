"""PLACEHOLDER-BARE: what stands outside a JSON string must be a placeholder."""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.model.placeholders import BARE_MARK, SUFFIXES, is_bare_marker
from reconciler.validate.rules import n8n
from reconciler.validate.rules.registry import Finding, Layer, Lint, rule


@rule("PLACEHOLDER-BARE", Layer.content, "must",
      "Only placeholders of known scopes stand outside JSON strings")
def placeholder_bare(lint: Lint) -> Iterator[Finding]:
    """A placeholder may stand where a JSON value does (`"v": {{INSTPARM_X_MRAPTSNI}}`)
    and is replaced by its value. Text shaped like a placeholder of no known scope
    is left as written (as on the reference platform): inside a string that is
    harmless (PLACEHOLDER-SCOPE warns), outside one (`"v": {{FIRST_LAST_NAME}}`) the
    workflow is not JSON and its deploy fails. Quote it, or correct the scope (a
    known scope's typos are PLACEHOLDER-SYNTAX's)."""
    for _, wf in lint.workflows():
        for path, text in n8n.strings(wf.content):
            if not is_bare_marker(text):
                continue
            inner = text.removeprefix(BARE_MARK).strip("{} ")
            if not any(inner.startswith(scope + "_") for scope in SUFFIXES):
                yield Finding(wf.path, f"{text.removeprefix(BARE_MARK)} stands outside a "
                              "string but is no placeholder of a known scope: the workflow "
                              "is not JSON", path, "put it in quotes, or fix the scope")

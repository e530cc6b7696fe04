"""Placeholder grammar: `{{PREFIX_BODY_SUFFIX}}`, the reference platform's syntax.

The suffix is the prefix written backwards (ORGSECRET is the one exception:
`TERCESORG`). Workflow files may hold a placeholder where a JSON value stands
(`"value": {{INSTPARM_X_MRAPTSNI}}`), so they are not JSON until rendered;
`parse_workflow_text` reads them anyway by turning each bare placeholder into a
marker string that the renderer replaces with a typed value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SUFFIXES: dict[str, str] = {
    "FLEXCRED": "DERCXELF",
    "USERCRED": "DERCRESU",
    "ORGCRED": "DERCGRO",
    "INSTCRED": "DERCTSNI",
    "INSTPARM": "MRAPTSNI",
    "SUBWKFL": "LFKWBUS",
    "SYSCREDS": "SDERCSYS",
    "MEMSECRT": "TRCESMEM",
    "PROCDATA": "ATADCORP",
    "USERDATA": "ATADRESU",
    "ORGSECRET": "TERCESORG",
}
CREDENTIAL_SCOPES = ("FLEXCRED", "USERCRED", "ORGCRED", "INSTCRED", "SYSCREDS")

# Anything shaped like a placeholder; scope and suffix are checked separately so a
# wrong suffix is reported, not silently left in the workflow.
PLACEHOLDER_RE = re.compile(r"\{\{([A-Z][A-Z0-9]*)_([A-Za-z0-9][A-Za-z0-9_-]*?)_([A-Z]+)\}\}")
# A looser net, to report `{{ ... }}` that do not even have the shape.
LOOSE_RE = re.compile(r"\{\{\s*([A-Z][A-Z0-9_ -]*?)\s*\}\}")

# A bare placeholder becomes this string while parsing; NUL cannot occur in n8n JSON
# text we accept, so the marker never collides with user content.
BARE_MARK = "\x00bare\x00"


@dataclass(frozen=True)
class Placeholder:
    scope: str
    body: str
    suffix: str

    @property
    def text(self) -> str:
        return f"{{{{{self.scope}_{self.body}_{self.suffix}}}}}"

    @property
    def known_scope(self) -> bool:
        return self.scope in SUFFIXES

    @property
    def suffix_ok(self) -> bool:
        return SUFFIXES.get(self.scope) == self.suffix

    @property
    def credential_part(self) -> tuple[str, str] | None:
        """For credential scopes, (INTEGRATION, "ID"|"NAME"); else None."""
        if self.scope not in CREDENTIAL_SCOPES:
            return None
        head, _, kind = self.body.rpartition("_")
        if kind in ("ID", "NAME") and head:
            return head, kind
        return None


def find_placeholders(text: str) -> list[Placeholder]:
    return [Placeholder(m.group(1), m.group(2), m.group(3)) for m in PLACEHOLDER_RE.finditer(text)]


def bare_marker(placeholder_text: str) -> str:
    return BARE_MARK + placeholder_text


def is_bare_marker(value: object) -> bool:
    return isinstance(value, str) and value.startswith(BARE_MARK)


def mark_bare_placeholders(text: str) -> str:
    """Quote every `{{...}}` standing outside a JSON string as a marker string.

    A small scanner, not a regex: it must know whether it is inside a string
    (escapes included) to leave placeholders in strings alone.
    """
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
            continue
        if ch == '"':
            in_string = True
            out.append(ch)
            i += 1
            continue
        if text.startswith("{{", i):
            end = text.find("}}", i + 2)
            if end != -1 and "\n" not in text[i:end]:
                out.append(json.dumps(bare_marker(text[i : end + 2])))
                i = end + 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_workflow_text(
    text: str, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None
) -> Any:
    """Parse workflow JSON that may hold bare placeholders; raises JSONDecodeError.

    Marking keeps line numbers: a placeholder never spans lines, so error
    positions still point into the file as the user wrote it. `object_pairs_hook`
    is json's, e.g. to find duplicate keys.
    """
    return json.loads(mark_bare_placeholders(text), object_pairs_hook=object_pairs_hook)

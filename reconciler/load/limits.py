"""Limits on what a file may hold, checked before anything recursive touches it.

Python's JSON and YAML readers, pydantic, the renderer and the normaliser all walk
nested values recursively: a file nested thousands of levels deep would end in a
RecursionError instead of an error naming the file. Real workflows and configs
nest a dozen levels; `MAX_DEPTH` leaves ample room. Numbers must be finite doubles,
the only numbers n8n (JavaScript) can hold: `1e999` would silently become
infinity, and a 5,000-digit integer cannot even be converted.
"""

from __future__ import annotations

import json
import math
import re

MAX_DEPTH = 64

# Outside strings, the tokens that matter: a whole string (skipped), an opening or
# closing bracket, a number, or one of the non-JSON constants Python's reader accepts.
_TOKENS = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"'
    r"|(?P<open>[\[{])|(?P<close>[\]}])"
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<constant>NaN|-?Infinity)",
    re.S,
)


def depth_message() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


def not_finite(text: str) -> bool:
    """Whether a decimal number written as `text` is beyond a double (or not a number)."""
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return False


def check_json_text(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and numbers n8n cannot hold.

    Raises json.JSONDecodeError at the offending position, so callers report it as
    any other JSON error: with its line and column. Bare placeholders (`{{X}}`)
    count as two balanced levels, which is harmless.
    """
    depth = 0
    for match in _TOKENS.finditer(text):
        if match["open"]:
            depth += 1
            if depth > MAX_DEPTH:
                raise json.JSONDecodeError(depth_message(), text, match.start())
        elif match["close"]:
            depth -= 1
        elif match["number"] and not_finite(match["number"]):
            raise json.JSONDecodeError("number too large (beyond a double, as n8n stores "
                                       "numbers)", text, match.start())
        elif match["constant"]:
            raise json.JSONDecodeError(f"{match['constant']} is not JSON", text,
                                       match.start())

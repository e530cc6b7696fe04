"""JSON text as JavaScript's `JSON.stringify` writes it (compact).

The reference platform renders an INSTPARM inside a string as the value's
`JSON.stringify` text; Python's `json.dumps` differs on numbers (`1.0` vs `1`,
`1e-07` vs `1e-7`, `1e+16` vs `10000000000000000`), so numbers are written by
ECMAScript's Number::toString rules, and an object's keys in JavaScript's order
(integer-like keys first). Strings and lists encode alike.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def js_number(value: float) -> str:
    """ECMAScript Number::toString of a finite float (shortest round-trip digits)."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    # n: position of the decimal point relative to the digit string (ECMA-262's n).
    point = len(whole) + (int(exp_text) if exp_text else 0)
    point -= len(whole + frac) - len((whole + frac).lstrip("0"))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    exponent = point - 1
    exp_sign = "+" if exponent >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{head}e{exp_sign}{abs(exponent)}"


def _js_string(text: str) -> str:
    """A string literal as JSON.stringify writes it: a lone surrogate (a Python str
    holds no valid pair) is escaped, as well-formed JSON.stringify does."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}",
                          json.dumps(text, ensure_ascii=False))


_INDEX = re.compile(r"0|[1-9][0-9]*")


def js_key_order(mapping: dict[Any, Any]) -> list[str]:
    """Keys in the order a JavaScript object enumerates them: array indices
    ("0", "7", up to 2**32 - 2) first, ascending, then the others as inserted."""
    keys = [str(k) for k in mapping]
    index = [k for k in keys if _INDEX.fullmatch(k) and int(k) < 2**32 - 1]
    chosen = set(index)
    return sorted(index, key=int) + [k for k in keys if k not in chosen]


def js_stringify(value: Any) -> str:
    """Compact JSON text of a JSON value, byte for byte as `JSON.stringify` gives it."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
            return js_number(float(value))
        return _js_string(value) if isinstance(value, str) else json.dumps(value)
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(js_stringify(item) for item in value) + "]"
    if isinstance(value, dict):
        named = {str(k): v for k, v in value.items()}
        return "{" + ",".join(f"{_js_string(k)}:{js_stringify(named[k])}"
                              for k in js_key_order(named)) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")

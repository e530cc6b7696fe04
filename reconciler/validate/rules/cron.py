"""Five-field cron expressions: minute hour day-of-month month day-of-week."""

from __future__ import annotations

import re

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (name, low, high, names mapped to numbers)
FIELDS: list[tuple[str, int, int, dict[str, int]]] = [
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    ("day of week", 0, 7, {d: i for i, d in enumerate(_DAYS)}),
]
_ITEM = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>\d+))?$")


def _number(text: str, names: dict[str, int]) -> int | None:
    if text.isdigit():
        return int(text)
    return names.get(text.upper())


def _field_error(text: str, name: str, low: int, high: int, names: dict[str, int]) -> str | None:
    for item in text.split(","):
        match = _ITEM.match(item)
        if match is None:
            return f"{name}: {item!r} is not a value, range or step"
        step = match.group("step")
        if step is not None and int(step) == 0:
            return f"{name}: step 0 in {item!r}"
        part = match.group("range")
        if part == "*":
            continue
        bounds = [_number(p, names) for p in part.split("-")]
        if any(b is None for b in bounds):
            return f"{name}: {part!r} is not a number" + (" or name" if names else "")
        values = [b for b in bounds if b is not None]
        if any(not low <= b <= high for b in values):
            return f"{name}: {part!r} is outside {low}-{high}"
        if len(values) == 2 and values[0] > values[1]:
            return f"{name}: range {part!r} runs backwards"
    return None


def cron_error(expression: str) -> str | None:
    """Why `expression` is not a valid five-field cron, or None."""
    parts = expression.split()
    if len(parts) != 5:
        return f"{len(parts)} fields; cron needs 5 (minute hour day month weekday)"
    for text, (name, low, high, names) in zip(parts, FIELDS, strict=True):
        error = _field_error(text, name, low, high, names)
        if error:
            return error
    return None

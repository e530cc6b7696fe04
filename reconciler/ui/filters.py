"""Small Jinja filters: times, durations, commits, money, state labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
from markupsafe import Markup

from reconciler.ui.data import STATE_LABELS


def when(value: Any) -> str:
    if not value:
        return "-"
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def ms(value: Any) -> str:
    if value is None:
        return "-"
    number = float(value)
    return f"{number:.0f} ms" if number < 10_000 else f"{number / 1000:.1f} s"


def commit(value: Any) -> str:
    return str(value)[:12] if value else "-"


def money(value: Any) -> str:
    return "-" if value is None else f"${float(value):.4f}"


def state(value: Any) -> Markup:
    text = STATE_LABELS.get(str(value), str(value))
    return Markup('<span class="badge s-{}">{}</span>').format(str(value), text)


def install(env: jinja2.Environment) -> None:
    env.filters.update(when=when, ms=ms, commit=commit, money=money, state=state)

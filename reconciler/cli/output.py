"""What every command shares about output: colors, the `-o/--output` option, tables.

Colors and live progress appear only on a terminal, and never with `NO_COLOR` set
(https://no-color.org) or `--no-color`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TypeVar

import click


@dataclass
class Output:
    debug: bool = False
    no_color: bool = False

    def reset(self) -> None:
        self.debug = self.no_color = False


OUTPUT = Output()  # set once per invocation by the group's global flags


def color(stream: IO[str] | None = None) -> bool:
    """Whether to style text written to `stream` (stdout by default)."""
    if OUTPUT.no_color or os.environ.get("NO_COLOR"):
        return False
    target = stream if stream is not None else sys.stdout
    return bool(getattr(target, "isatty", lambda: False)())


_F = TypeVar("_F", bound=Callable[..., object])


def output_option(*choices: str, default: str = "text") -> Callable[[_F], _F]:
    """`-o/--output FORMAT` (alias `--format`): the same option on every read command."""
    return click.option("-o", "--output", "--format", "fmt", type=click.Choice(list(choices)),
                        default=default, show_default=True,
                        help="Output format (`json` is stable for scripts).")


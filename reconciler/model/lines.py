"""Where each value of a YAML file came from, for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field

Path = tuple[str | int, ...]


@dataclass
class LineMap:
    """Path -> 1-based line of the key (for mappings) or item (for sequences)."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        # The deepest known prefix: a missing key is reported at its parent.
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return None


def dotted(path: Path) -> str | None:
    """`workflows[0].triggers[1].cron`: the form every message uses for a key."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None

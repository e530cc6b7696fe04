"""The credits line of a run report, from the usage the run recorded in its summary."""

from __future__ import annotations

from typing import Any


def usage_line(rec: dict[str, Any]) -> str | None:
    """`credits 2026-12: org:acme 120/50000 (balance 49880), ...`; None without usage."""
    found = rec["summary"].get("usage") or []
    if not found:
        return None
    parts = []
    for u in found:
        if u.get("credits") is None:
            parts.append(f"{u['account']} {u['used']} (not metered)")
        else:
            flag = ", exhausted" if u.get("exhausted") else ""
            parts.append(f"{u['account']} {u['used']}/{u['credits']} "
                         f"(balance {u['balance']}{flag})")
    return f"credits {found[0]['period']}: " + ", ".join(parts)

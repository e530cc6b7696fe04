"""Steps that wait on another group (`after_group`): may they run yet?

The group waited on must have succeeded in this run and its instance be live
(recorded active), so the owner's running environment goes down only once the
other one is up. Asked of SQLite, which every group has written by then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.plan.steps import Step
from reconciler.store.db import Store


def held_back(store: Store, steps: Sequence[Step], failed: Mapping[str, str],
              held: Mapping[str, str]) -> str | None:
    """Why `steps` may not run (None: they may)."""
    after = next((s.after_group for s in steps if s.after_group), "")
    if not after:
        return None
    if after in failed:
        return f"held back: {after} did not go live ({failed[after]})"
    if after in held:
        return f"held back: {after} was held back itself"
    row = store.conn.execute("SELECT state, active, state_detail FROM instances WHERE id=?",
                             (after,)).fetchone()
    if row is None:
        return f"held back: {after} is not deployed"
    state, active, detail = row
    if state != "active" or not active:
        return f"held back: {after} is not live ({state}{': ' + detail if detail else ''})"
    return None

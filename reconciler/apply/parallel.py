"""Independent instance groups applied concurrently, by a bounded pool.

Off by default (`workers=1`: the applier's sequential loop). With more workers, the
plan is cut at its barriers and the instance groups between two barriers run side
by side; inside a group nothing changes (callees before callers, drafts before
publishes, all-or-nothing with rollback), and every write is still journaled at once.
A barrier is what must see earlier groups finished:

- a step of no group (templates, processes, credentials created before the groups
  and deleted after them);
- a group that waits on another (`after_group`, the owner's dev/prod switch);
- a group whose bodies name a workflow another group creates in this run (the
  org's error workflow): every group before it has finished when it starts.

A run stopped between groups starts no new group; a run killed mid-way converges
on the next run exactly as the sequential one does (each write is recorded at once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from reconciler.plan.steps import PENDING, PutWorkflow, Step

Block = list[Step]


def blocks(steps: Sequence[Step]) -> list[Block]:
    """Consecutive steps of one group together; a step of no group alone."""
    out: list[Block] = []
    for step in steps:
        if step.group and out and out[-1][0].group == step.group:
            out[-1].append(step)
        else:
            out.append([step])
    return out


def _names_other_groups(block: Block) -> bool:
    group = block[0].group
    for step in block:
        if isinstance(step, PutWorkflow):
            text = json.dumps(step.body)
            start = text.find(PENDING + "wf:")
            while start != -1:
                key = text[start + len(PENDING) + 3:].split("/", 1)[0]
                if key != group:
                    return True
                start = text.find(PENDING + "wf:", start + 1)
    return False


def run_blocks(steps: Sequence[Step], workers: int, stopped: Callable[[], bool],
               run_step: Callable[[Step], object],
               run_group: Callable[[Block], None]) -> bool:
    """Apply `steps`; False when stopped before a block began (it and the rest skipped)."""
    batch: list[Block] = []
    skipped: list[Block] = []

    def guarded(block: Block) -> None:
        if stopped():
            skipped.append(block)
        else:
            run_group(block)

    def flush() -> None:
        if not batch:
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="apply") as pool:
            futures = [pool.submit(guarded, b) for b in batch]
            batch.clear()
            for future in futures:
                future.result()  # a failure the group did not catch (a kill) goes on up

    for block in blocks(steps):
        if stopped():
            flush()
            return False
        group = block[0].group
        if not group or any(s.after_group for s in block) or _names_other_groups(block):
            flush()
            if stopped():
                return False
            if group:
                run_group(block)
            else:
                run_step(block[0])
            continue
        batch.append(block)
        if len(batch) >= workers * 8:  # bounded: a huge plan is not one giant batch
            flush()
    flush()
    return not skipped

"""Progress of a long apply, on stderr: live per-instance lines on a terminal (rich),
one plain line per finished instance otherwise (CI logs, pipes)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import IO, Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from reconciler.apply.applier import StepResult


@dataclass
class _Counts:
    started: float
    done: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.done[outcome] = self.done.get(outcome, 0) + 1

    def text(self) -> str:
        return ", ".join(f"{n} {o}" for o, n in sorted(self.done.items())) or "starting"


class ApplyProgress:
    """Feed it every StepResult (`Engine.on_step`); `close()` when the run ends."""

    def __init__(self, stream: IO[str], *, color: bool) -> None:
        self.stream = stream
        self.live = bool(getattr(stream, "isatty", lambda: False)())
        self._groups: dict[str, _Counts] = {}
        self._current: str | None = None
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        if self.live:
            console = Console(file=stream, no_color=not color, force_terminal=True,
                              highlight=False)
            self._progress = Progress(
                SpinnerColumn(finished_text="[green]✓"), TextColumn("{task.description}"),
                TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), console=console,
                transient=False)
            self._progress.start()

    def on_step(self, result: StepResult) -> None:
        group = result.step.group or "platform"
        if group != self._current:
            self._finish()
            self._current = group
        counts = self._groups.setdefault(
            group, _Counts(time.monotonic() - result.duration_ms / 1000))
        counts.add(result.outcome)
        if self._progress is not None:
            if group not in self._tasks:
                self._tasks[group] = self._progress.add_task(group, total=None, counts="")
            self._progress.update(self._tasks[group], counts=counts.text())

    def _finish(self) -> None:
        group = self._current
        if group is None:
            return
        counts = self._groups[group]
        if self._progress is not None:
            task = self._tasks[group]
            self._progress.update(task, total=1, completed=1, counts=counts.text())
            self._progress.stop_task(task)
        else:
            seconds = time.monotonic() - counts.started
            self.stream.write(f"{group}: {counts.text()} ({seconds:.1f} s)\n")
            self.stream.flush()

    def close(self) -> None:
        self._finish()
        self._current = None
        if self._progress is not None:
            self._progress.stop()

    def __enter__(self) -> ApplyProgress:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

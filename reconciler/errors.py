"""The project's exception tree.

Every error says how to retry it (kopf's model): a `TemporaryError` may succeed if
tried again after `delay` seconds; a `PermanentError` will not. Library errors
(httpx, pygit2, sqlite3, yaml) are translated into these at the edge that calls the
library and never leak past it. Messages never hold secret values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of every command (docs/cli.md holds the same table)."""

    OK = 0  # success; `plan --detailed-exitcode`: no changes
    FAILED = 1  # invalid input, or the operation failed (apply, doctor, a not-found run)
    CHANGES = 2  # `plan --detailed-exitcode` only: the plan has changes
    CONFIG = 3  # the environment is not set up: n8n URL/key, state file, lock held
    INTERNAL = 4  # a bug: an unexpected exception (traceback with --debug)
    USAGE = 64  # the command line is wrong (sysexits EX_USAGE; never 2, which means changes)
    INTERRUPTED = 130  # Ctrl-C


@dataclass(frozen=True)
class Problem:
    """One finding about the declared state, located as precisely as we can."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None
    rule: str = "load"
    severity: str = "must"  # "must" blocks, "should" warns
    hint: str | None = None

    def location(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return where

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ReconcilerError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code: int = ExitCode.FAILED


class UsageError(ReconcilerError):
    """The command line itself is wrong."""

    exit_code = ExitCode.USAGE


class ConfigError(ReconcilerError):
    """The environment lacks something the command needs (a variable, the state file)."""

    exit_code = ExitCode.CONFIG


class PermanentError(ReconcilerError):
    """Retrying the same thing will fail the same way."""


class TemporaryError(ReconcilerError):
    """May succeed later; `delay` is the suggested wait in seconds."""

    def __init__(self, message: str, delay: float = 1.0) -> None:
        super().__init__(message)
        self.delay = delay


class InvalidInput(PermanentError):
    """The declared state is broken: holds every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = tuple(problems)
        count = len(self.problems)
        head = "; ".join(str(p) for p in self.problems[:3])
        more = f" (+{count - 3} more)" if count > 3 else ""
        super().__init__(f"{count} problem(s) in the declared state: {head}{more}")


class GitError(PermanentError):
    """A repository, revision or path could not be read."""


class PlanError(PermanentError):
    """The desired state cannot be planned (immutability, access, cycles...)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class StateConflict(PermanentError):
    """Compare-and-set failed: the state changed since the plan was made."""


class StateError(PermanentError):
    """The SQLite state file cannot be used."""

    exit_code = ExitCode.CONFIG


class SecretMissing(PermanentError):
    """A secret a credential needs is not available from any source."""


class RenderError(PermanentError):
    """A placeholder cannot be resolved; names the file, node and placeholder.

    `problems` holds one entry per unresolved placeholder, so a workflow reports
    all of them at once; the message lists them all.
    """

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: Sequence[Problem] = tuple(problems)


# --- n8n API errors, translated at the client edge -------------------------------


class N8nError(ReconcilerError):
    """Base for errors reported by, or on the way to, an n8n server."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class N8nTemporary(N8nError, TemporaryError):
    """5xx, timeouts, dropped connections: retry with backoff."""

    def __init__(self, message: str, status: int | None = None, delay: float = 1.0) -> None:
        N8nError.__init__(self, message, status)
        self.delay = delay


class N8nPermanent(N8nError, PermanentError):
    """A 4xx answer: the request itself is wrong or not allowed."""


class N8nBadRequest(N8nPermanent):
    """400: n8n rejected the request body or its references."""


class N8nUnauthorized(N8nPermanent):
    """401 or 403: the API key is wrong or lacks a scope."""


class N8nNotFound(N8nPermanent):
    """404: the object does not exist (any more)."""


class N8nConflict(N8nPermanent):
    """409: a conflict (webhook path taken, deleting a published workflow...)."""

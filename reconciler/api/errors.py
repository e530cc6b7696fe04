"""API errors: an HTTP status and a stable machine-readable code, never a stack or secret.

They are project errors too, so the CLI reports them like any other.
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import PermanentError


class ApiError(PermanentError):
    """Rendered as `{"detail": {"code": ..., "message": ..., ...}}` with `status`."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": {"code": self.code, "message": str(self), **self.extra}}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")

"""Push deliveries seen recently, by delivery id: a replayed delivery reconciles nothing.

Ids are remembered only after the signature check passed (the caller's duty), so an
unsigned request cannot poison an id before the real delivery arrives. Memory is
bounded: ids older than the window go, and past `max_ids` the oldest go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

MAX_IDS = 10_000
MAX_ID_LENGTH = 200  # real ids are UUIDs; a longer header is not an id we keep

# The headers naming one delivery, most specific first. GitLab's Idempotency-Key stays
# the same across its retries; X-Gitlab-Event-UUID names the event on older GitLab.
GITHUB_HEADERS = ("x-github-delivery",)
GITLAB_HEADERS = ("idempotency-key", "x-gitlab-event-uuid", "x-gitlab-webhook-uuid")


def delivery_id(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = (headers.get(name) or "").strip()
        if value and len(value) <= MAX_ID_LENGTH:
            return value
    return None


class Deliveries:
    def __init__(self, window: float = 600.0, max_ids: int = MAX_IDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.max_ids = max_ids
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # id -> when, oldest first
        self._lock = threading.Lock()

    def replay(self, key: str) -> bool:
        """True when `key` was seen within the window; otherwise remember it now."""
        if self.window <= 0:
            return False  # de-duplication off
        now = self._clock()
        with self._lock:
            self._forget_before(now - self.window)
            if key in self._seen:
                return True
            self._seen[key] = now
            while len(self._seen) > self.max_ids:
                self._seen.popitem(last=False)
            return False

    def __len__(self) -> int:
        return len(self._seen)

    def _forget_before(self, cutoff: float) -> None:
        while self._seen:
            oldest, when = next(iter(self._seen.items()))
            if when >= cutoff:
                return
            del self._seen[oldest]

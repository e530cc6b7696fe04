"""UUIDv7 (RFC 9562): a 48-bit Unix-millisecond prefix, so ids sort by creation time.

Within one millisecond the 12-bit `rand_a` field is a counter seeded at random
(RFC 9562 method 1), so ids made by this process stay strictly increasing.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = -1
_counter = 0


def _next(now_ms: int) -> tuple[int, int]:
    global _last_ms, _counter
    with _lock:
        if now_ms > _last_ms:
            _last_ms, _counter = now_ms, secrets.randbits(11)  # room to count up
        else:
            _counter += 1
            if _counter > 0xFFF:  # counter spent: borrow the next millisecond
                _last_ms, _counter = _last_ms + 1, 0
        return _last_ms, _counter


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    ms, counter = _next(time.time_ns() // 1_000_000 if now_ms is None else now_ms)
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76 | counter << 64
    value |= 0b10 << 62 | secrets.randbits(62)
    return uuid.UUID(int=value)


def uuid7_str() -> str:
    return str(uuid7())


def timestamp_ms(value: uuid.UUID) -> int:
    return value.int >> 80

"""Content fingerprints: a version is its content, not its history.

Each file is reduced to a canonical form (parsed, keys sorted, no formatting or
comments), hashed, and the use case's fingerprint hashes the sorted (path, digest)
pairs. Identical content gives the identical fingerprint on any machine and
after any history; any meaningful change gives another.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def file_digest(value: Any) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def use_case_fingerprint(digests: dict[str, str]) -> str:
    joined = "\n".join(f"{path}\0{digest}" for path, digest in sorted(digests.items()))
    return "sha256:" + hashlib.sha256(joined.encode("utf-8")).hexdigest()

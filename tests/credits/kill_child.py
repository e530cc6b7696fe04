"""A process that triggers echo and is SIGKILLed at a chosen point (tests only).

`python -m tests.credits.kill_child STATE INSTANCE POINT`, n8n from the environment:
POINT `finish` dies once n8n's run ended, before its record is final; `debit` dies
after the record is final, before its debit. Either way the run happened in n8n.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from reconciler.api import records
from reconciler.api.service import ApiContext, Service


def _die(*_: Any, **__: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    state, instance_id, point = sys.argv[1:4]
    if point == "finish":
        records.Records.finish = _die  # type: ignore[method-assign]
    elif point == "debit":
        records.ledger.debit = _die
    service = Service(ApiContext(state, os.environ["RECONCILER_N8N_URL"],
                                 os.environ["RECONCILER_N8N_API_KEY"], hash_key=b"t" * 32))
    service.trigger(service.instance(instance_id), "echo", {"message": "killed"}, wait=True)
    sys.exit(0)  # not reached when the kill point is passed


if __name__ == "__main__":
    main()

"""The `settings` we send for every workflow: all keys explicit, caller policy ours.

n8n 2.41.1 merges a PUT's `settings` into the stored ones (`{...stored, ...sent}`),
so a key we leave out keeps whatever someone set by hand. Every key the public API
accepts is therefore rendered, with the template's value or n8n's default. Checked
on the real server (GET after create and after update):

- on update n8n deletes `"DEFAULT"` values of `errorWorkflow`, `timezone` and the
  four `save*` keys, and `executionTimeout` equal to the instance default (-1);
  on create it stores them as sent (a stored `timezone: "DEFAULT"` would reach
  expressions as a time zone name, so creates leave such keys out);
- the public API refuses `"DEFAULT"` for the `save*` keys (booleans and
  `all|none` only), so those are sent as the instance's default values;
- `redactionPolicy` is dropped on the community edition, and `binaryMode` and
  `credentialResolverId` are ignored on write: the first is sent as its default,
  the other two are neither sent nor compared (nothing we send can change them).

The caller policy is the platform's, whatever the template says: every workflow
on one n8n is owned by the API key's user, so `workflowsFromSameOwner` isolates
nothing. Each workflow is callable only by the workflows of its own instance that
reference it (`callerIds`, n8n ids); n8n then refuses any other caller with "The
sub-workflow (<id>) cannot be called by this workflow". The same check guards
error workflows, so the built-in organization error workflow, which every workflow
of its org names in `errorWorkflow`, keeps `workflowsFromSameOwner`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.model.n8n_api import ALLOWED_SETTINGS

CALLER_POLICY = "workflowsFromAList"
SAME_OWNER = "workflowsFromSameOwner"

# n8n deletes these on update; sent so that a hand-set value goes away.
REMOVE = "DEFAULT"

# What n8n does when a key is absent, as the value we send for it.
DEFAULTS: Mapping[str, Any] = {
    "saveExecutionProgress": False,
    "saveManualExecutions": True,
    "saveDataErrorExecution": "all",
    "saveDataSuccessExecution": "all",
    "executionTimeout": -1,
    "errorWorkflow": "",  # falsy: no error workflow ("DEFAULT" would be looked up as an id)
    "timezone": REMOVE,
    "executionOrder": "v0",  # absent means the legacy order
    "callerPolicy": CALLER_POLICY,
    "callerIds": "",
    "timeSavedMode": "fixed",
    "timeSavedPerExecution": 0,
    "redactionPolicy": "none",
    "availableInMCP": False,
    "customTelemetryTags": [],
}

# Accepted but ignored on write: cannot be set, so never compared.
UNMANAGED = frozenset({"binaryMode", "credentialResolverId"})

# Values n8n treats as "absent" for a key (what we compare as the default).
_AS_DEFAULT: Mapping[str, tuple[Any, ...]] = {
    "errorWorkflow": (REMOVE, ""),
    "timezone": (REMOVE,),
    "saveExecutionProgress": (REMOVE,),
    "saveManualExecutions": (REMOVE,),
    "saveDataErrorExecution": (REMOVE,),
    "saveDataSuccessExecution": (REMOVE,),
    "executionTimeout": (-1,),
}

assert set(DEFAULTS) | UNMANAGED == ALLOWED_SETTINGS


def workflow_settings(template: Any, *, caller_ids: Iterable[str],
                      caller_policy: str = CALLER_POLICY) -> dict[str, Any]:
    """Every managed key: the template's value, else n8n's default; callers ours."""
    given = template if isinstance(template, dict) else {}
    out = {key: given.get(key, default) for key, default in DEFAULTS.items()}
    if out["errorWorkflow"] == REMOVE:
        out["errorWorkflow"] = ""
    out["callerPolicy"] = caller_policy
    out["callerIds"] = ",".join(caller_ids)
    return out


def for_create(settings: dict[str, Any]) -> dict[str, Any]:
    """On create n8n stores `"DEFAULT"` as is: leave those keys out instead."""
    return {k: v for k, v in settings.items() if v != REMOVE}


def compared_settings(settings: Any) -> dict[str, Any]:
    """Settings as n8n behaves with them: absent and its stand-ins become the default."""
    given = settings if isinstance(settings, dict) else {}
    out: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        value = given.get(key, default)
        if any(value == same and type(value) is type(same)
               for same in _AS_DEFAULT.get(key, ())):
            value = default
        out[key] = value
    return out

"""Isolation rules: what a template may not decide about who reaches its workflows."""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.validate.rules import n8n
from reconciler.validate.rules.registry import Finding, Layer, Lint, rule

# Policies only the platform sets (with the instance's own callers); `any` is refused
# outright by PLATFORM-CALLER-POLICY.
_PLATFORM_ONLY = ("workflowsFromAList", "none")


@rule("ISOLATION-CALLER-SETTINGS", Layer.platform, "should",
      "Templates leave the caller list to the platform")
def caller_settings(lint: Lint) -> Iterator[Finding]:
    """Every workflow is deployed with `settings.callerPolicy: workflowsFromAList` and
    `callerIds` listing the n8n ids of the workflows of the same installation that
    reference it through `{{SUBWKFL_<id>_LFKWBUS}}`; n8n refuses every other caller.
    A template's own `callerIds` (ids of live workflows, which a template cannot
    know) and `callerPolicy` values other than `workflowsFromSameOwner` are replaced
    on deploy, so writing them only misleads the reader."""
    for _, wf in lint.workflows():
        settings = n8n.settings(wf)
        if settings.get("callerIds"):
            yield Finding(wf.path, "settings.callerIds is replaced by the installation's own "
                          "callers on deploy", ("settings", "callerIds"),
                          "remove it; call sub-workflows through SUBWKFL placeholders")
        if settings.get("callerPolicy") in _PLATFORM_ONLY:
            yield Finding(wf.path, f"settings.callerPolicy {settings['callerPolicy']!r} is "
                          "replaced by the platform's on deploy", ("settings", "callerPolicy"),
                          "remove it")

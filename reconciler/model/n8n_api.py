"""Facts about n8n 2.x's public API that several layers need."""

from __future__ import annotations

# The only `settings` keys the public API accepts on create and update (others: 400).
ALLOWED_SETTINGS = frozenset({
    "saveExecutionProgress", "saveManualExecutions", "saveDataErrorExecution",
    "saveDataSuccessExecution", "executionTimeout", "errorWorkflow", "timezone",
    "executionOrder", "binaryMode", "callerPolicy", "callerIds", "timeSavedMode",
    "timeSavedPerExecution", "redactionPolicy", "availableInMCP", "customTelemetryTags",
    "credentialResolverId",
})

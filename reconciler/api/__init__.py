"""The agents' public API: one key per instance, triggers, execution records, skills.

`reconciler.api.routes.router_for(context)` gives the FastAPI router the daemon
mounts; `create_api_app` serves it alone (tests, schemathesis).
"""

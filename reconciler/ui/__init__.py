"""The web dashboard under /ui: server-rendered pages over the state file (Jinja2).

`mount(app, ctx)` adds it, with its packaged assets and an offline Swagger UI, to
the daemon's app. It reads through the store, report and api layers and writes
nothing but a "reconcile now" request: declared state stays in git.
"""

from reconciler.ui.pages import mount

__all__ = ["mount"]

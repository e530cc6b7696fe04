"""n8n-reconciler: a git repository of n8n use cases, reconciled into live installations."""

__version__ = "0.1.0"

"""The lint rules, in four layers; importing this package registers them all."""

from reconciler.validate.rules import (
    calls,
    codika,
    content,
    folder,
    graph,
    history,
    isolation,
    platform,
    refs,
    smoke,
    tenancy,
)
from reconciler.validate.rules.registry import (
    LOAD,
    REGISTRY,
    FixContext,
    Layer,
    Lint,
    Options,
    Rule,
)

__all__ = ["LOAD", "REGISTRY", "FixContext", "Layer", "Lint", "Options", "Rule",
           "calls", "codika", "content", "folder", "graph", "history", "isolation",
           "platform", "refs", "smoke", "tenancy"]

"""The lint rules, in four layers; importing this package registers them all."""

from reconciler.validate.rules import (
    bare,
    calls,
    codika,
    content,
    egress,
    folder,
    graph,
    history,
    isolation,
    llm_output,
    plans,
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
           "bare", "calls", "codika", "content", "egress", "folder", "graph", "history",
           "isolation", "llm_output", "plans", "platform", "refs", "smoke", "tenancy"]

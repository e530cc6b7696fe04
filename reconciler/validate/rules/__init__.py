"""The lint rules, in four layers; importing this package registers them all."""

from reconciler.validate.rules import codika, content, folder, graph, platform, refs
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
           "codika", "content", "folder", "graph", "platform", "refs"]

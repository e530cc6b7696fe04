"""LLM prices per model, to turn token usage into a cost in USD.

Prices are USD per million tokens, `input` (prompt) and `output` (completion). A
model name matches the longest known prefix, so dated snapshots
(`claude-sonnet-4-5-20250929`) find their family. `RECONCILER_PRICES` names a YAML or
JSON file `{model: {input: X, output: Y}}` that extends and overrides the defaults.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import PermanentError

PRICES_ENV = "RECONCILER_PRICES"


@dataclass(frozen=True)
class Price:
    input: float  # USD per 1M prompt tokens
    output: float  # USD per 1M completion tokens


DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus-4": Price(15.0, 75.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-3-5-sonnet": Price(3.0, 15.0),
    "claude-haiku-4": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "gpt-4o-mini": Price(0.15, 0.6),
    "gpt-4o": Price(2.5, 10.0),
    "gpt-4.1-mini": Price(0.4, 1.6),
    "gpt-4.1": Price(2.0, 8.0),
}


class PriceTable:
    def __init__(self, prices: dict[str, Price]) -> None:
        self._prices = dict(prices)

    def price(self, model: str) -> Price | None:
        best = max((p for p in self._prices if model.startswith(p)), key=len, default=None)
        return self._prices[best] if best is not None else None

    def cost(self, model: str, prompt: int, completion: int) -> float | None:
        found = self.price(model)
        if found is None:
            return None
        return (prompt * found.input + completion * found.output) / 1_000_000


def load_prices(environ: dict[str, str] | None = None) -> PriceTable:
    env = os.environ if environ is None else environ
    path = env.get(PRICES_ENV)
    table = dict(DEFAULT_PRICES)
    if path:
        table.update(_read(Path(path)))
    return PriceTable(table)


def _read(path: Path) -> dict[str, Price]:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PermanentError(f"{PRICES_ENV}={path}: cannot read the price table "
                             f"({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise PermanentError(f"{path}: the price table must map model -> {{input, output}}")
    out: dict[str, Price] = {}
    for model, entry in data.items():
        try:
            out[str(model)] = Price(float(entry["input"]), float(entry["output"]))
        except (TypeError, KeyError, ValueError):
            raise PermanentError(f"{path}: model {json.dumps(str(model))} needs numeric "
                                 "'input' and 'output' (USD per million tokens)") from None
    return out

"""What each input costs to score (D3): its share of the scoring time and memory.

Each input column goes through its own transformer in the pipeline's preparation step;
a copy of that transformer, fitted on the column alone, is timed on ROWS rows. The
model's own time (the whole pipeline's less the preparation's) is shared among the
inputs by how many model inputs each becomes (a category with many values widens the
model). Memory: the column's bytes per row in the frame plus its encoded width as
8-byte floats.

Beside each input's permutation importance from the champion's training report
(model/importance.py), an input that costs a notable share (NOTABLE) and is worth
nothing is named: the cost the ML Test Score's D3 asks to keep in check. Bounded in
work: ROWS rows and REPEATS timings per measurement (the fastest kept), so the shares
hold on any machine even though each time is a wall-clock figure.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

ROWS = 5000
REPEATS = 3
NOTABLE = 0.10


def _fastest(call: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def _width(encoded: Any) -> int:
    shape = getattr(encoded, "shape", None)
    return int(shape[1]) if shape is not None and len(shape) > 1 else 1


def feature_costs(
    model: Pipeline, frame: pd.DataFrame, importance: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Per input, costliest first: model inputs it becomes, shares of time and memory,
    and its importance when the training report has it."""
    rows = frame.head(ROWS)
    preparation = model.steps[0][1]
    seconds: dict[str, float] = {}
    widths: dict[str, int] = {}
    for name, transformer, columns in preparation.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        for column in columns:
            alone = rows[[column]]
            if transformer == "passthrough":
                seconds[column], widths[column] = 0.0, 1
                continue
            piece = clone(transformer).fit(alone)
            seconds[column] = _fastest(functools.partial(piece.transform, alone))
            widths[column] = _width(piece.transform(alone))
    whole = _fastest(lambda: model.predict(rows))
    prepared = _fastest(lambda: preparation.transform(rows))
    model_seconds = max(whole - prepared, 0.0)
    total_width = sum(widths.values()) or 1
    share = {column: widths[column] / total_width for column in seconds}
    cost = {column: seconds[column] + model_seconds * share[column] for column in seconds}
    memory = {
        column: float(rows[column].memory_usage(deep=True, index=False)) / len(rows)
        + 8 * widths[column]
        for column in seconds
    }
    total_cost, total_memory = sum(cost.values()) or 1.0, sum(memory.values()) or 1.0
    worth = {row["feature"]: row for row in importance or []}
    found = [
        {
            "feature": column,
            "model_inputs": widths[column],
            "time_share": round(cost[column] / total_cost, 4),
            "memory_share": round(memory[column] / total_memory, 4),
            "bytes_per_row": round(memory[column], 1),
            "importance": worth[column]["mean"] if column in worth else None,
            "worthless": worth[column]["worthless"] if column in worth else None,
        }
        for column in cost
    ]
    return sorted(found, key=lambda row: -row["time_share"])


def cost_lines(costs: list[dict[str, Any]]) -> Iterator[str]:
    """The per-input table for `make bench`, then the inputs that cost without paying."""
    yield "What each input costs to score (shares of the pipeline's time and memory):"
    yield f"  {'input':<28} {'model inputs':>12} {'time':>7} {'memory':>7} {'importance':>11}"
    for row in costs:
        importance = "-" if row["importance"] is None else f"{row['importance']:.4f}"
        yield (
            f"  {row['feature']:<28} {row['model_inputs']:>12} "
            f"{format(row['time_share'], '.1%'):>7} {format(row['memory_share'], '.1%'):>7} "
            f"{importance:>11}"
        )
    costly = [
        row["feature"]
        for row in costs
        if row["worthless"] and max(row["time_share"], row["memory_share"]) >= NOTABLE
    ]
    if costly:
        yield (
            f"  Costs at least {format(NOTABLE, '.0%')} of the time or memory and is worth "
            f"nothing on the holdout: {', '.join(costly)}. Consider dropping "
            + ("it" if len(costly) == 1 else "them")
            + " from the contract (config/contract.yaml)."
        )
    else:
        yield f"  No input that is worth nothing costs {format(NOTABLE, '.0%')} or more."

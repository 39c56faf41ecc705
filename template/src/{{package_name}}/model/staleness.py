"""How fast the model goes stale: a backtest over time (M4).

The rows are put in time order and cut into `WINDOWS` windows of equal size. From each
origin (the end of window 2, 3, ...) the chosen model is fitted afresh on everything
before it and scored on every later window, so each score has an age: the days between
the last training row and the middle of the window scored. Scores at the same distance
in windows are averaged across origins: that is the decay per window.

The longest age at which every origin still meets the gate's threshold is the most a
champion should be left in service, the figure for `max_model_age_days`. When it never
falls below, the data's span is a lower bound and is reported as such.

Bounded in work, never in time: WINDOWS - 2 fits, each on at most [model]
search_max_rows rows (a seeded sample), whatever the table's size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import Settings
from ..data.contract import Contract
from .evaluate import time_column
from .metrics import score

logger = logging.getLogger(__name__)

WINDOWS = 6


class StalenessError(ValueError):
    """The backtest cannot run on this data (named in the message)."""


@dataclass(frozen=True)
class Staleness:
    metric: str
    threshold: float
    column: str
    # Per distance in windows: mean age in days, mean and worst metric over origins.
    decay: list[dict[str, Any]]
    # The longest age at which every origin met the threshold; None: not even fresh.
    max_age_days: int | None
    # True when the threshold was met at every age seen (the span is a lower bound).
    lower_bound: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "threshold": self.threshold,
            "time_column": self.column,
            "decay": self.decay,
            "max_age_days": self.max_age_days,
            "lower_bound": self.lower_bound,
        }


def backtest(
    settings: Settings,
    contract: Contract,
    frame: pd.DataFrame,
    fresh_model: Callable[[], Pipeline],
) -> Staleness:
    """Fit `fresh_model()` at each origin and score it on every later window."""
    column = time_column(contract, settings)
    if column is None:
        raise StalenessError(
            "the backtest needs time: a date column in the contract, or [data] time_column "
            "(with [data] split not 'random')"
        )
    if len(frame) < WINDOWS * 20:
        raise StalenessError(f"{len(frame)} rows are too few: at least {WINDOWS * 20} needed")
    times = pd.to_datetime(frame[column])
    ordered = frame.assign(_time=times).sort_values("_time", kind="stable")
    size = math.ceil(len(ordered) / WINDOWS)
    windows = [ordered.iloc[start : start + size] for start in range(0, len(ordered), size)]
    gate, seed = settings.gate, settings.project.seed
    higher_is_better = gate.direction == "maximize"
    by_distance: dict[int, list[tuple[float, float]]] = {}
    for origin in range(2, len(windows)):
        history = pd.concat(windows[:origin])
        if len(history) > settings.model.search_max_rows:
            history = history.sample(settings.model.search_max_rows, random_state=seed)
        end = history["_time"].max()
        logger.info("backtest: fitting on %d rows up to %s", len(history), end.date())
        model = fresh_model().fit(
            history.drop(columns=[contract.target, "_time"]), history[contract.target]
        )
        for later in range(origin, len(windows)):
            window = windows[later]
            value = score(
                gate.metric,
                model,
                window.drop(columns=[contract.target, "_time"]),
                window[contract.target],
                contract.positive_label,
            )
            age = (window["_time"].median() - end) / pd.Timedelta(days=1)
            by_distance.setdefault(later - origin, []).append((age, value))
    decay = []
    for distance, pairs in sorted(by_distance.items()):
        values = [value for _, value in pairs]
        worst = min(values) if higher_is_better else max(values)
        decay.append(
            {
                "windows_later": distance + 1,
                "age_days": round(sum(age for age, _ in pairs) / len(pairs), 1),
                "mean": round(sum(values) / len(values), 6),
                "worst": round(worst, 6),
                "origins": len(pairs),
                "meets_threshold": bool(
                    worst >= gate.threshold if higher_is_better else worst <= gate.threshold
                ),
            }
        )
    passing = [row for row in decay if row["meets_threshold"]]
    first_failure = next((row for row in decay if not row["meets_threshold"]), None)
    if first_failure is not None:
        passing = [row for row in passing if row["age_days"] < first_failure["age_days"]]
    max_age = math.floor(passing[-1]["age_days"]) if passing else None
    return Staleness(gate.metric, gate.threshold, column, decay, max_age, first_failure is None)


def lines(result: Staleness, current_limit: int) -> list[str]:
    """The decay table and what it means for max_model_age_days, for a terminal or a report."""
    out = [
        f"Staleness backtest: {result.metric} by the age of the model "
        f"(threshold {result.threshold}, time column {result.column})",
        "",
        "| windows later | age (days) | mean | worst | origins | meets the threshold |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in result.decay:
        out.append(
            f"| {row['windows_later']} | {row['age_days']} | {row['mean']:.4f} | "
            f"{row['worst']:.4f} | {row['origins']} | {'yes' if row['meets_threshold'] else 'no'} |"
        )
    out.append("")
    if result.max_age_days is None:
        out.append(
            "Even a freshly trained model misses the threshold on the next window: the age "
            "limit cannot help; the model or the threshold needs work first."
        )
    elif result.lower_bound:
        verdict = (
            f"max_model_age_days = {current_limit} is within it"
            if current_limit <= result.max_age_days
            else f"max_model_age_days = {current_limit} goes beyond it: lower it to "
            f"{result.max_age_days} or backtest on a longer history"
        )
        out.append(
            f"The threshold held at every age seen, up to {result.max_age_days} days, as far "
            f"as the data reaches (the data cannot say more): {verdict}."
        )
    else:
        out.append(
            f"The model met the threshold up to {result.max_age_days} days old: set "
            f"max_model_age_days = {result.max_age_days} (now {current_limit}) in "
            "config/settings.toml [monitoring], which `make monitor` checks, and the same "
            "number of days in the ModelStale alert of monitoring/alerts.yml."
        )
    return out

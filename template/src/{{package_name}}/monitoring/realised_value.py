"""Is the model earning what it promised? Realised value from fed-back outcomes.

Training promised a value per period at the operating point (binary, [decision]) or a
cost of errors per period (regression), measured on the holdout. Once outcomes come
back, the same arithmetic on the labelled live predictions gives what the decisions
actually earned (model/value.py's `case_values`, or each error's cost), with a seeded
95% bootstrap interval. A shortfall is alarmed when the whole interval lies beyond the
promise by more than [monitoring] value_shortfall_tolerance, relative to it.

An outcome of a case acted on may reflect the action itself (a customer called may stay
because of the call): read a shortfall with the team that acts, not alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import DecisionSettings, ErrorCostSettings, Settings
from ..data.contract import Contract
from ..model.value import PROMISE_ATTRIBUTE, case_costs, case_values, per_period_interval


def realised_value(
    model: Any, labelled: pd.DataFrame, settings: Settings, contract: Contract, cast: type
) -> dict[str, Any]:
    """Realised value (or cost) per period on labelled live predictions, against the
    champion's promise."""
    promised = getattr(model, PROMISE_ATTRIBUTE, None)
    decision = settings.decision
    if promised is None or decision is None:
        return {
            "status": "not applicable: the champion has no promised value (a model trained "
            "with [decision] since this check exists has one)"
        }
    outcomes = labelled["outcome"].map(cast)
    predicted = labelled["prediction"].map(cast)
    if isinstance(decision, DecisionSettings):
        positive = contract.positive_label
        per_case = case_values(
            (predicted == positive).to_numpy(), (outcomes == positive).to_numpy(), decision
        )
    elif isinstance(decision, ErrorCostSettings):
        per_case = case_costs(predicted.to_numpy(), outcomes.to_numpy(), decision)
    else:  # pragma: no cover - settings validation pairs [decision] with the problem
        return {"status": "not applicable: no [decision] for this problem"}
    volume, period = decision.volume, decision.period
    interval = per_period_interval(per_case, volume, settings.project.seed)
    realised = round(float(np.mean(per_case)) * volume, 2)
    expected = round(float(promised["per_case"]) * volume, 2)
    tolerance = settings.monitoring.value_shortfall_tolerance
    margin = tolerance * max(abs(expected), 1.0)
    if interval is None:
        short = False
    elif promised["kind"] == "value":  # all of the interval below the promise, by the margin
        short = interval[1] < expected - margin
    else:  # a cost: all of the interval above it
        short = interval[0] > expected + margin
    word = "value" if promised["kind"] == "value" else "cost of errors"
    return {
        "status": "measured",
        "kind": promised["kind"],
        "period": period,
        "promised_per_period": expected,
        "realised_per_period": realised,
        "interval": interval,
        "labelled": len(per_case),
        "tolerance": tolerance,
        "short": bool(short),
        "message": (
            f"realised {word} {realised:,.2f} per {period} on {len(per_case)} labelled "
            f"predictions (95% interval {interval[0]:,.2f} to {interval[1]:,.2f}) misses the "
            f"{expected:,.2f} training promised by more than {format(tolerance, '.0%')}"
            if interval is not None
            else ""
        ),
    }

"""Which inputs the model's holdout score depends on: permutation importance.

Each input column is shuffled among the holdout rows, the gate's metric measured again,
and the loss is the column's importance (scikit-learn's `permutation_importance`,
seeded). A column the model does not need loses nothing when shuffled: a feature worth
its cost shows here, one that is noise shows as worth nothing: within two spreads of
no loss, or under 1% of the most important column's loss. Bounded in
work, not time: at most IMPORTANCE_ROWS holdout rows (a seeded sample) and
IMPORTANCE_REPEATS shuffles per column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .metrics import LOWER_IS_BETTER, score

IMPORTANCE_ROWS = 5000
IMPORTANCE_REPEATS = 5
NEGLIGIBLE = 0.01


def permutation_importances(
    model: Any,
    features: pd.DataFrame,
    target: pd.Series,
    metric: str,
    positive: Any = 1,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Per input column, most important first: the mean loss of `metric` when the column
    is shuffled (in the metric's units, positive when the column helps) and its spread."""
    from sklearn.inspection import permutation_importance

    rows = features
    if len(rows) > IMPORTANCE_ROWS:
        rows = rows.sample(IMPORTANCE_ROWS, random_state=seed)
    outcomes = target.loc[rows.index]
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0

    def scorer(estimator: Any, x: pd.DataFrame, y: pd.Series) -> float:
        return sign * score(metric, estimator, x, y, positive)

    result = permutation_importance(
        model, rows, outcomes, scoring=scorer, n_repeats=IMPORTANCE_REPEATS, random_state=seed
    )
    means, spreads = result.importances_mean, result.importances_std
    # Worth nothing to the model: a loss within two spreads of none, or under
    # NEGLIGIBLE of the most important column's.
    floor = NEGLIGIBLE * max(float(np.max(means, initial=0.0)), 0.0)
    found = [
        {
            "feature": str(name),
            "mean": round(float(mean), 6),
            "std": round(float(std), 6),
            "repeats": IMPORTANCE_REPEATS,
            "worthless": bool(mean <= max(2 * std, floor) + np.finfo(float).eps),
        }
        for name, mean, std in zip(rows.columns, means, spreads, strict=True)
    ]
    return sorted(found, key=lambda row: (-row["mean"], row["feature"]))

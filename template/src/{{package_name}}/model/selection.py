"""A small, fair search for the candidate model, on the training split only.

Two families, a handful of hyperparameters each: the team's candidate from
estimators.py (by default the simple linear model) and scikit-learn's histogram
gradient boosting on the same features. Cross-validation
(by time when the split is by time) scores every configuration with the gate's own
metric; the best mean wins, the simpler family on a tie. The holdout is never passed
in: it stays unseen until the gate. A time budget stops the search between families,
never mid-family, so with the budget unspent the same seed always chooses the same model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from ..config import ModelSettings
from ..data.contract import Contract
from .estimators import build_candidate
from .metrics import LOWER_IS_BETTER, score

logger = logging.getLogger(__name__)


# Tried on the simple family when its estimator has the parameter (C: logistic
# regression, alpha: ridge); another estimator is scored as estimators.py writes it.
SIMPLE_GRIDS: dict[str, list[Any]] = {"C": [0.1, 1.0, 10.0], "alpha": [0.1, 1.0, 10.0]}
BOOSTING_GRID: dict[str, list[Any]] = {"learning_rate": [0.05, 0.1], "max_leaf_nodes": [7, 15]}


@dataclass(frozen=True)
class Family:
    name: str
    pipeline: Pipeline  # features and estimator, unfitted
    grid: dict[str, list[Any]]


@dataclass
class Selection:
    """The chosen pipeline (fitted on the whole training split) and how it was chosen."""

    pipeline: Pipeline
    family: str
    params: dict[str, Any]
    cv_score: float | None
    tried: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "params": self.params,
            "cv_score": self.cv_score,
            "tried": self.tried,
            "note": self.note,
        }


def candidate_families(
    problem_type: str, contract: Contract, hidden: list[str], seed: int
) -> list[Family]:
    """The team's candidate first (it wins ties and is always searched), then gradient
    boosting on the same features."""
    simple = build_candidate(problem_type, contract, hidden, seed)
    estimator = simple.steps[-1][1]
    own = estimator.get_params()
    # The team's own value is always one of those tried.
    grid = {
        name: sorted({*values, own[name]}) for name, values in SIMPLE_GRIDS.items() if name in own
    }
    boosting: Any = (
        HistGradientBoostingRegressor(random_state=seed, early_stopping=False)
        if problem_type == "regression"
        else HistGradientBoostingClassifier(random_state=seed, early_stopping=False)
    )
    features = clone(simple.steps[0][1])
    if "sparse_threshold" in features.get_params():
        features.set_params(sparse_threshold=0.0)  # boosting needs dense input
    strong = Pipeline([(simple.steps[0][0], features), ("model", boosting)])
    return [
        Family(_snake(type(estimator).__name__), simple, grid),
        Family("hist_gradient_boosting", strong, BOOSTING_GRID),
    ]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def folds(
    problem_type: str, settings: ModelSettings, seed: int, ordered_by_time: bool
) -> KFold | StratifiedKFold | TimeSeriesSplit:
    """Later folds validate on later rows when the holdout is by time (no peeking)."""
    if ordered_by_time:
        return TimeSeriesSplit(n_splits=settings.cv_folds)
    if problem_type == "regression":
        return KFold(settings.cv_folds, shuffle=True, random_state=seed)
    return StratifiedKFold(settings.cv_folds, shuffle=True, random_state=seed)


def select_candidate(
    problem_type: str,
    contract: Contract,
    hidden: list[str],
    settings: ModelSettings,
    seed: int,
    metric: str,
    train_x: pd.DataFrame,
    train_y: pd.Series,
    time_column: str | None = None,
) -> Selection:
    """Search the families on `train_x`/`train_y` and refit the winner on all of them."""
    positive = contract.positive_label
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    if time_column is not None:
        order = pd.to_datetime(train_x[time_column]).sort_values(kind="stable").index
        train_x, train_y = train_x.loc[order], train_y.loc[order]

    def scorer(estimator: Pipeline, rows: pd.DataFrame, target: pd.Series) -> float:
        # The gate's metric, signed so that higher is better for GridSearchCV.
        return sign * score(metric, estimator, rows, target, positive)

    candidates = candidate_families(problem_type, contract, hidden, seed)
    if not settings.search:
        # The team's candidate exactly as estimators.py writes it, no CV.
        first = candidates[0]
        pipeline = first.pipeline.fit(train_x, train_y)
        return Selection(pipeline, first.name, {}, None, note="search off ([model] search)")

    splitter = folds(problem_type, settings, seed, time_column is not None)
    started = time.monotonic()
    tried: list[dict[str, Any]] = []
    best: tuple[float, Family, dict[str, Any]] | None = None
    note = ""
    for index, family in enumerate(candidates):
        if index > 0 and time.monotonic() - started > settings.search_budget_seconds:
            skipped = ", ".join(f.name for f in candidates[index:])
            note = f"budget of {settings.search_budget_seconds:g} s spent: {skipped} not tried"
            logger.warning("model search: %s", note)
            break
        last = family.pipeline.steps[-1][0]
        search = GridSearchCV(
            family.pipeline,
            {f"{last}__{name}": values for name, values in family.grid.items()},
            scoring=scorer,
            cv=splitter,
            refit=False,
            error_score=np.nan,
        )
        search.fit(train_x, train_y)
        results = search.cv_results_
        for params, mean, spread in zip(
            results["params"], results["mean_test_score"], results["std_test_score"], strict=True
        ):
            plain = {name.removeprefix(f"{last}__"): value for name, value in params.items()}
            tried.append(
                {
                    "family": family.name,
                    "params": plain,
                    "cv_score": None if np.isnan(mean) else round(sign * float(mean), 6),
                    "cv_std": None if np.isnan(spread) else round(float(spread), 6),
                }
            )
            if not np.isnan(mean) and (best is None or mean > best[0]):
                best = (float(mean), family, plain)
        logger.info(
            "model search: %s, %d configurations, best so far %s",
            family.name,
            len(results["params"]),
            "none" if best is None else f"{best[1].name} {metric} {sign * best[0]:.4f}",
        )
    if best is None:
        raise ValueError(
            f"model search: no configuration could be scored on {metric} in cross-validation "
            "(too few rows of some class per fold?); set [model] search = false or add data"
        )
    mean, family, params = best
    last = family.pipeline.steps[-1][0]
    chosen = {f"{last}__{name}": value for name, value in params.items()}
    pipeline = clone(family.pipeline).set_params(**chosen).fit(train_x, train_y)
    return Selection(pipeline, family.name, params, round(sign * mean, 6), tried, note)

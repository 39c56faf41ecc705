"""A small, fair search for the candidate model, on the training split only.

Two families, a handful of hyperparameters each: the team's candidate from
estimators.py (by default the simple linear model) and scikit-learn's histogram
gradient boosting on the same features. Cross-validation
(by time when the split is by time) scores every configuration with the gate's own
metric; the best mean wins, the simpler family on a tie. The holdout is never passed
in: it stays unseen until the gate.

The budget counts work, never seconds, so the same data and settings choose the same
model on any machine, idle or busy: the search sees at most [model] search_max_rows
training rows (a seeded sample; the most recent rows when the split is by time) and
runs at most search_max_fits fits (configurations x folds). A family whose fits do not
fit in what is left is skipped whole, and the output says so; the team's candidate is
always searched. The winner is then refit on every training row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    TimeSeriesSplit,
    train_test_split,
)
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
    # Early stopping on a seeded tenth of the rows: at most max_iter trees, fewer when
    # more stop helping, and the same number for the same data on any machine.
    stopping = {"random_state": seed, "early_stopping": True, "validation_fraction": 0.1}
    boosting: Any = (
        HistGradientBoostingRegressor(**stopping)
        if problem_type == "regression"
        else HistGradientBoostingClassifier(**stopping)
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
    search_x, search_y = search_rows(
        problem_type, train_x, train_y, settings.search_max_rows, seed, time_column is not None
    )
    if len(search_x) < len(train_x):
        logger.info(
            "model search on %d of %d training rows ([model] search_max_rows); the chosen "
            "model is refit on all of them",
            len(search_x),
            len(train_x),
        )
    fits_left = settings.search_max_fits
    tried: list[dict[str, Any]] = []
    best: tuple[float, Family, dict[str, Any]] | None = None
    skipped: list[str] = []
    for index, family in enumerate(candidates):
        fits = _configurations(family.grid) * settings.cv_folds
        if index > 0 and fits > fits_left:
            skipped.append(f"{family.name} (needs {fits} fits, {fits_left} left)")
            continue
        fits_left -= fits
        last = family.pipeline.steps[-1][0]
        search = GridSearchCV(
            family.pipeline,
            {f"{last}__{name}": values for name, values in family.grid.items()},
            scoring=scorer,
            cv=splitter,
            refit=False,
            error_score=np.nan,
        )
        search.fit(search_x, search_y)
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
            "model search: %s, %d configurations x %d folds, best so far %s",
            family.name,
            len(results["params"]),
            settings.cv_folds,
            "none" if best is None else f"{best[1].name} {metric} {sign * best[0]:.4f}",
        )
    note = ""
    if skipped:
        note = (
            f"not searched, over [model] search_max_fits = {settings.search_max_fits}: "
            + ", ".join(skipped)
        )
        logger.warning("model search: %s", note)
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


def _configurations(grid: dict[str, list[Any]]) -> int:
    count = 1
    for values in grid.values():
        count *= len(values)
    return count


def search_rows(
    problem_type: str,
    train_x: pd.DataFrame,
    train_y: pd.Series,
    limit: int,
    seed: int,
    ordered_by_time: bool,
) -> tuple[pd.DataFrame, pd.Series]:
    """At most `limit` training rows for the search: the most recent when ordered by
    time, else a seeded sample (stratified by class for classification)."""
    if len(train_x) <= limit:
        return train_x, train_y
    if ordered_by_time:
        return train_x.iloc[-limit:], train_y.iloc[-limit:]
    counts = train_y.value_counts()
    stratify = train_y if problem_type != "regression" and counts.min() >= 2 else None
    rows_x, _, rows_y, _ = train_test_split(
        train_x, train_y, train_size=limit, random_state=seed, stratify=stratify
    )
    return rows_x, rows_y

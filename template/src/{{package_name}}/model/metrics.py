"""The success metric, guardrail metrics and per-slice evaluation."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from ..config import GUARDRAIL_METRICS

LOWER_IS_BETTER = {"rmse", "mae", "mape"}
NEEDS_SCORES = {"roc_auc", "average_precision"}


class Predictor(Protocol):
    """A fitted pipeline, or the team's rule (baselines.RuleModel)."""

    @property
    def classes_(self) -> Any: ...

    def predict(self, rows: pd.DataFrame) -> Any: ...

    def predict_proba(self, rows: pd.DataFrame) -> Any: ...


def positive_column(model: Predictor, positive: Any) -> int:
    """Which predict_proba column is the positive class (the last one when unknown)."""
    classes = list(model.classes_)
    return classes.index(positive) if positive in classes else len(classes) - 1


def score(
    metric: str, model: Predictor, features: pd.DataFrame, target: pd.Series, positive: Any = 1
) -> float:
    """The value of `metric` for `model` on a labelled frame."""
    if metric in NEEDS_SCORES:
        scores = model.predict_proba(features)[:, positive_column(model, positive)]
        return score_predictions(metric, target, None, scores, positive)
    return score_predictions(metric, target, model.predict(features), None, positive)


def score_predictions(
    metric: str, target: Any, predicted: Any | None, scores: Any | None, positive: Any = 1
) -> float:
    """The value of `metric` from outcomes and predictions (labels or positive-class scores).

    Shared by evaluation (fresh predictions) and monitoring (logged predictions).
    `positive` is the binary positive class (the contract's `positive_label`).
    """
    if metric in NEEDS_SCORES:
        if pd.Series(target).nunique() < 2:
            return float("nan")
        scorer = skm.roc_auc_score if metric == "roc_auc" else skm.average_precision_score
        return float(scorer(np.asarray(target) == positive, scores))
    functions: dict[str, Any] = {
        "f1": lambda y, p: skm.f1_score(y, p, pos_label=positive, zero_division=0),
        "recall": lambda y, p: skm.recall_score(y, p, pos_label=positive, zero_division=0),
        "precision": lambda y, p: skm.precision_score(y, p, pos_label=positive, zero_division=0),
        # The share of positive decisions: 1.0 is a model that flags every case.
        "positive_rate": lambda y, p: float(np.mean(np.asarray(p) == positive)),
        "accuracy": skm.accuracy_score,
        "f1_macro": lambda y, p: skm.f1_score(y, p, average="macro", zero_division=0),
        "rmse": skm.root_mean_squared_error,
        "mae": skm.mean_absolute_error,
        "mape": skm.mean_absolute_percentage_error,
        "r2": skm.r2_score,
    }
    return float(functions[metric](target, predicted))


def guardrail_values(
    guardrails: dict[str, float],
    problem_type: str,
    model: Predictor,
    features: pd.DataFrame,
    target: pd.Series,
    positive: Any = 1,
) -> list[dict[str, Any]]:
    """Each [gate.guardrails] limit with the value the model reaches on the holdout."""
    if not guardrails:
        return []
    predicted = model.predict(features)
    values = []
    for name, limit in guardrails.items():
        metric, _, bound = name.rpartition("_")
        if metric not in GUARDRAIL_METRICS[problem_type]:
            raise ValueError(
                f"[gate.guardrails] {name}: {metric} is not measured for a {problem_type} "
                f"problem; use one of: {', '.join(GUARDRAIL_METRICS[problem_type])}"
            )
        value = score_predictions(metric, target, predicted, None, positive)
        values.append(
            {
                "name": name,
                "metric": metric,
                "bound": bound,
                "limit": limit,
                "value": round(value, 6),
            }
        )
    return values


def slice_scores(
    metric: str,
    model: Predictor,
    features: pd.DataFrame,
    target: pd.Series,
    attributes: list[str],
    positive: Any = 1,
) -> dict[str, dict[str, dict[str, Any]]]:
    """For each sensitive attribute, the metric and row count in every group."""
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for attribute in attributes:
        groups: dict[str, dict[str, Any]] = {}
        for value, index in features.groupby(attribute, dropna=False).groups.items():
            value_score = score(metric, model, features.loc[index], target.loc[index], positive)
            groups[str(value)] = {
                "rows": len(index),
                metric: None if np.isnan(value_score) else round(value_score, 6),
            }
        result[attribute] = groups
    return result

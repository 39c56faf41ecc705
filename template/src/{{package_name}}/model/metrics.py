"""The success metric, guardrail metrics and per-slice evaluation."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from ..config import GUARDRAIL_METRICS

LOWER_IS_BETTER = {"rmse", "mae", "mape"}
NEEDS_SCORES = {"roc_auc", "average_precision"}
# Slices: numbers with more distinct values than this are binned ([data] slice_bins); an
# attribute with more slices than MAX_SLICES is refused (it would identify people).
NUMERIC_AS_CATEGORY = 10
NUMERIC_BINS = 4
MAX_SLICES = 20
BOOTSTRAP_RESAMPLES = 200


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
    decided: Any | None = None,
) -> list[dict[str, Any]]:
    """Each [gate.guardrails] limit with the value the model reaches on the holdout:
    on the decisions it makes at its operating point (`decided`, labels) when there is
    one, else on its predicted labels."""
    if not guardrails:
        return []
    predicted = model.predict(features) if decided is None else decided
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
                "at": "predicted labels" if decided is None else "the operating point",
            }
        )
    return values


def bin_edges(values: pd.Series, bins: int = NUMERIC_BINS) -> list[float] | None:
    """Inner edges of `bins` equal-count bins of a numeric attribute, from training rows;
    None when the attribute is not binned (a category, or a number with few values).
    Stored with the model, so the holdout and live monitoring bin rows the same way."""
    if not pd.api.types.is_numeric_dtype(values) or values.nunique() <= NUMERIC_AS_CATEGORY:
        return None
    inner = values.quantile([step / bins for step in range(1, bins)]).drop_duplicates()
    return [float(edge) for edge in inner]


def binned_labels(values: pd.Series, edges: list[float]) -> pd.Series:
    """Each number as its bin, "(low, high]"; missing values as "missing"."""
    binned = pd.cut(values, bins=[-np.inf, *edges, np.inf])
    return binned.astype(str).where(values.notna(), "missing")


def slice_labels(values: pd.Series, attribute: str, edges: list[float] | None = None) -> pd.Series:
    """The slice of each row: a number in its bin (`edges`), a category as it is."""
    if edges is None:
        edges = bin_edges(values)
    if edges is not None:
        return binned_labels(values, edges)
    labels = values.astype(str).where(values.notna(), "missing")
    if labels.nunique() > MAX_SLICES:
        raise ValueError(
            f"sensitive attribute '{attribute}' has {labels.nunique()} distinct values: too "
            f"many to judge slice by slice (at most {MAX_SLICES}). Name a grouping column "
            "instead (an age band, a region), in [data] sensitive_attributes"
        )
    return labels


def _interval(
    metric: str, target: np.ndarray, predicted: Any, scores: Any, positive: Any, seed: int
) -> tuple[float, float] | None:
    """A 95% bootstrap interval of the metric on these rows (None when undefined)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        pick = rng.integers(0, len(target), len(target))
        value = score_predictions(
            metric,
            target[pick],
            None if predicted is None else predicted[pick],
            None if scores is None else scores[pick],
            positive,
        )
        if not np.isnan(value):
            values.append(value)
    if len(values) < BOOTSTRAP_RESAMPLES // 2:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return round(float(low), 6), round(float(high), 6)


def bootstrap_mean_interval(values: np.ndarray, seed: int) -> tuple[float, float] | None:
    """A seeded 95% bootstrap interval of the mean of `values` (None for no values)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return None
    rng = np.random.default_rng(seed)
    picks = (rng.integers(0, len(values), len(values)) for _ in range(BOOTSTRAP_RESAMPLES))
    means = [values[pick].mean() for pick in picks]
    low, high = np.percentile(means, [2.5, 97.5])
    return round(float(low), 6), round(float(high), 6)


def metric_interval(
    metric: str,
    model: Predictor,
    features: pd.DataFrame,
    target: pd.Series,
    positive: Any = 1,
    seed: int = 0,
) -> tuple[float, float] | None:
    """A seeded 95% bootstrap interval of the metric on a labelled frame (the holdout)."""
    predicted, scores = _outputs(metric, model, features, positive)
    return _interval(metric, target.to_numpy(), predicted, scores, positive, seed)


def _outputs(
    metric: str, model: Predictor, features: pd.DataFrame, positive: Any
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """What the metric reads: labels, or the positive class's scores."""
    if metric in NEEDS_SCORES:
        return None, model.predict_proba(features)[:, positive_column(model, positive)]
    return np.asarray(model.predict(features)), None


def slice_scores(
    metric: str,
    model: Predictor,
    features: pd.DataFrame,
    target: pd.Series,
    attributes: list[str],
    positive: Any = 1,
    min_rows: int = 0,
    seed: int = 0,
    edges: dict[str, list[float]] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """For each sensitive attribute and each of its slices: rows, the metric, a 95%
    bootstrap interval, and whether the slice is large enough to judge (`min_rows`).
    Slices are labelled by category or number bin, never by a raw free-text value."""
    predicted, scores = _outputs(metric, model, features, positive)
    outcomes = target.to_numpy()
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for attribute in attributes:
        bins = (edges or {}).get(attribute)
        labels = slice_labels(features[attribute], attribute, bins).to_numpy()
        groups: dict[str, dict[str, Any]] = {}
        for label in sorted(set(labels)):
            rows = np.flatnonzero(labels == label)
            part_predicted = None if predicted is None else predicted[rows]
            part_scores = None if scores is None else scores[rows]
            value = score_predictions(metric, outcomes[rows], part_predicted, part_scores, positive)
            defined = not np.isnan(value)
            judged = defined and len(rows) >= min_rows
            interval = (
                _interval(metric, outcomes[rows], part_predicted, part_scores, positive, seed)
                if judged
                else None
            )
            groups[str(label)] = {
                "rows": len(rows),
                metric: round(value, 6) if defined else None,
                "interval": list(interval) if interval else None,
                "judged": judged,
            }
        result[attribute] = groups
    return result

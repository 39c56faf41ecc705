"""Holdout evaluation, shared by training (before the gate) and `evaluate` (the champion)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from ..config import DecisionSettings, ErrorCostSettings, Settings
from ..data.contract import Contract, date_columns
from ..data.loading import load_validated
from ..data.sources import describe_source
from ..registry import lineage, load_champion, open_registry
from .baselines import RuleModel
from .estimators import build_baseline
from .fairness import group_decisions
from .importance import permutation_importances
from .metrics import (
    bin_edges,
    guardrail_values,
    metric_interval,
    positive_column,
    score,
    slice_labels,
    slice_scores,
)
from .report import write_reports
from .rule import team_rule
from .stability import require_stable
from .value import acted_on, error_cost_report, value_report


class HoldoutPredictions:
    """A model's predictions on the holdout, made once and shared by every measure
    (metric, guardrails, slices, decision) and by the report's plots."""

    def __init__(
        self, model: Any, holdout: pd.DataFrame, target: pd.Series, positive: Any = 1
    ) -> None:
        self.model = model
        self.holdout = holdout
        self.target = target
        self.positive = positive
        self.classes_ = getattr(model, "classes_", None)  # None: a regression
        self._labels: Any = None
        self._probabilities: Any = None

    def _check(self, rows: pd.DataFrame) -> None:
        if rows is not self.holdout:
            raise ValueError("HoldoutPredictions only answers for the holdout it was made on")

    def predict(self, rows: pd.DataFrame) -> Any:
        self._check(rows)
        if self._labels is None:
            self._labels = np.asarray(self.model.predict(rows))
        return self._labels

    def predict_proba(self, rows: pd.DataFrame) -> Any:
        self._check(rows)
        if self._probabilities is None:
            self._probabilities = np.asarray(self.model.predict_proba(rows))
        return self._probabilities


@dataclass(frozen=True)
class Split:
    train_x: pd.DataFrame
    train_y: pd.Series
    holdout_x: pd.DataFrame
    holdout_y: pd.Series
    # How the holdout was chosen, for the report: "random ..." or "time ...".
    method: str = "random"
    # The date column the holdout was cut by, for a time-ordered search; None when random.
    ordered_by: str | None = None


def time_column(contract: Contract, settings: Settings) -> str | None:
    """The column a time-based split orders by: [data] time_column, else the
    contract's first date column; None when the split is random."""
    if settings.data.split == "random":
        return None
    if settings.data.time_column:
        if settings.data.time_column not in contract.columns:
            raise ValueError(
                f"[data] time_column {settings.data.time_column!r} is not a contract column"
            )
        return settings.data.time_column
    dates = date_columns(contract, [])
    if not dates and settings.data.split == "time":
        raise ValueError("[data] split = 'time' needs a date column in the contract or time_column")
    return dates[0] if dates else None


def split_holdout(frame: pd.DataFrame, contract: Contract, settings: Settings) -> Split:
    """The most recent rows when the data has a time column, so the evaluation never
    learns from the future; otherwise a seeded split, stratified for classification."""
    features = frame.drop(columns=[contract.target])
    target = frame[contract.target]
    column = time_column(contract, settings)
    if column is not None:
        order = pd.to_datetime(frame[column]).sort_values(kind="stable").index
        cut = len(order) - max(1, round(len(order) * settings.data.holdout_fraction))
        train, holdout = order[:cut], order[cut:]
        start = pd.to_datetime(frame.loc[holdout, column]).min()
        return Split(
            features.loc[train],
            target.loc[train],
            features.loc[holdout],
            target.loc[holdout],
            f"time: the most recent {len(holdout)} rows by {column}, from {start.date()}",
            column,
        )
    stratify = None if settings.project.problem_type == "regression" else target
    train_x, holdout_x, train_y, holdout_y = train_test_split(
        features,
        target,
        test_size=settings.data.holdout_fraction,
        random_state=settings.project.seed,
        stratify=stratify,
    )
    method = "random: seeded" + (", stratified by class" if stratify is not None else "")
    return Split(train_x, train_y, holdout_x, holdout_y, method)


def assess(
    settings: Settings,
    model: Pipeline,
    baseline: Pipeline,
    split: Split,
    positive: Any = 1,
    rule: RuleModel | None = None,
) -> tuple[dict[str, Any], HoldoutPredictions]:
    """Metric of the model, the trivial baseline and the team's rule on the holdout,
    and of the model and the rule per sensitive slice; with the model's holdout
    predictions, for the report's plots."""
    metric = settings.gate.metric
    attributes = sliced_columns(settings, split)
    holdout_x, holdout_y = split.holdout_x, split.holdout_y
    predictions = HoldoutPredictions(model, holdout_x, holdout_y, positive)
    # A NaN or infinite score fails here, named, before any metric averages it away.
    classifier = predictions.classes_ is not None
    require_stable(
        "the model on the holdout",
        predictions.predict_proba(holdout_x) if classifier else predictions.predict(holdout_x),
        probabilities=classifier,
    )
    edges = slice_edges(model, split, settings)
    min_rows, seed = settings.gate.slice_min_rows, settings.project.seed
    rule_result: dict[str, Any] = {"rule_name": None, "rule": None, "rule_slices": {}}
    ruled: HoldoutPredictions | None = None
    if rule is not None:
        rule_result["rule_name"] = rule.name
        if rule.written(holdout_x):
            ruled = HoldoutPredictions(rule, holdout_x, holdout_y, positive)
            rule_score = score(metric, ruled, holdout_x, holdout_y, positive)
            rule_result["rule"] = round(rule_score, 6)
            rule_result["rule_slices"] = slice_scores(
                metric, ruled, holdout_x, holdout_y, attributes, positive, min_rows, seed, edges
            )
    evaluation = {
        **rule_result,
        "metric": metric,
        "direction": settings.gate.direction,
        "model": round(score(metric, predictions, holdout_x, holdout_y, positive), 6),
        "model_interval": _listed(
            metric_interval(metric, predictions, holdout_x, holdout_y, positive, seed)
        ),
        "baseline": round(score(metric, baseline, holdout_x, holdout_y, positive), 6),
        "holdout_rows": len(split.holdout_y),
        "split": split.method,
        "decision": _decision(settings, predictions, ruled, baseline, split, positive),
        "guardrails": guardrail_values(
            settings.gate.guardrails,
            settings.project.problem_type,
            predictions,
            holdout_x,
            holdout_y,
            positive,
            _decided(settings, predictions, split, positive),
        ),
        "slices": slice_scores(
            metric,
            predictions,
            holdout_x,
            holdout_y,
            attributes,
            positive,
            min_rows,
            seed,
            edges,
        ),
        "slice_edges": edges,
        "fairness": _fairness(settings, predictions, split, positive, edges, attributes),
        "importance": permutation_importances(
            model, holdout_x[used_columns(model)], holdout_y, metric, positive, seed
        ),
    }
    if settings.project.problem_type != "regression":
        evaluation.update(class_details(predictions, holdout_y, positive, evaluation["decision"]))
    return evaluation, predictions


def _listed(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else list(interval)


def slice_edges(model: Any, split: Split, settings: Settings) -> dict[str, list[float]]:
    """Bins of numeric sensitive attributes: the model's own (stored at training), else
    from the training rows ([data] slice_bins); never from the holdout."""
    stored = getattr(model, "slice_edges_", None)
    if stored is not None:
        return dict(stored)
    edges = {}
    for name in sliced_columns(settings, split):
        if name in split.train_x:
            found = bin_edges(split.train_x[name], settings.data.slice_bins)
            if found is not None:
                edges[name] = found
    return edges


def sliced_columns(settings: Settings, split: Split) -> list[str]:
    """Sensitive attributes, then business slices ([data] business_slices)."""
    missing = [name for name in settings.data.business_slices if name not in split.holdout_x]
    if missing:
        raise ValueError(
            f"[data] business_slices names {', '.join(missing)}: not a column of the "
            "data (the target cannot be a slice)"
        )
    sensitive = settings.data.sensitive_attributes
    return [*sensitive, *(name for name in settings.data.business_slices if name not in sensitive)]


def _fairness(
    settings: Settings,
    predictions: HoldoutPredictions,
    split: Split,
    positive: Any,
    edges: dict[str, list[float]],
    attributes: list[str],
) -> dict[str, Any]:
    """Binary: each slice's decisions at the operating point (model/fairness.py)."""
    if settings.project.problem_type != "binary":
        return {}
    labels = _decided(settings, predictions, split, positive)
    if labels is None:
        labels = np.asarray(predictions.predict(split.holdout_x))
    acted_label = list(predictions.model.classes_)[positive_column(predictions, positive)]
    acted = labels == acted_label
    positives = (split.holdout_y == acted_label).to_numpy()
    gate, seed = settings.gate, settings.project.seed
    return {
        name: group_decisions(
            acted,
            positives,
            slice_labels(split.holdout_x[name], name, edges.get(name)),
            gate.fairness_metric,
            gate.slice_min_rows,
            seed,
        )
        for name in attributes
    }


def used_columns(pipeline: Pipeline) -> list[str]:
    """The input columns a fitted pipeline's model actually uses, in its own order
    (the columns its first step, the feature preparation, selects)."""
    preparation = pipeline.steps[0][1]
    return [
        str(column)
        for name, _, columns in getattr(preparation, "transformers_", [])
        if name != "remainder"
        for column in columns
    ]


def decided_labels(
    predictions: HoldoutPredictions, positive: Any, decision: dict[str, Any] | None
) -> np.ndarray:
    """The labels the model acts on: at the operating point when there is a decision."""
    labels = predictions.predict(predictions.holdout)
    if decision is None:
        return np.asarray(labels)
    classes = list(predictions.model.classes_)
    negative = next(c for c in classes if c != positive)
    threshold = decision["model"]["threshold"]
    if threshold is None:
        return np.full(len(labels), negative, dtype=object)
    column = positive_column(predictions, positive)
    scores = predictions.predict_proba(predictions.holdout)[:, column]
    decided: np.ndarray = np.where(scores >= threshold, positive, negative)
    return decided


def class_details(
    predictions: HoldoutPredictions,
    target: pd.Series,
    positive: Any,
    decision: dict[str, Any] | None,
) -> dict[str, Any]:
    """Per-class precision, recall and F1, the class balance, and the confusion matrix,
    at the operating point when there is a decision."""
    labels = decided_labels(predictions, positive, decision)
    classes = [c for c in predictions.model.classes_]
    per_class = classification_report(
        target, labels, labels=classes, output_dict=True, zero_division=0
    )
    matrix = confusion_matrix(target, labels, labels=classes)
    counts = target.value_counts()
    return {
        "per_class": {
            str(c): {
                key: round(float(per_class[str(c)][key]), 6)
                for key in ("precision", "recall", "f1-score", "support")
            }
            for c in classes
        },
        "class_balance": {str(c): int(counts.get(c, 0)) for c in classes},
        "confusion_matrix": {
            "labels": [str(c) for c in classes],
            "rows_actual_columns_predicted": matrix.tolist(),
            "at": "the operating point" if decision is not None else "the predicted class",
        },
    }


def _decision(
    settings: Settings,
    model: HoldoutPredictions,
    rule: HoldoutPredictions | None,
    baseline: Pipeline,
    split: Split,
    positive: Any,
) -> dict[str, Any] | None:
    """Binary: the operating point and value per period of the model, the team's rule,
    untargeted action and doing nothing. Regression: the cost of errors per period of the model, the
    rule and the mean ([decision])."""
    decision, holdout = settings.decision, split.holdout_x
    if isinstance(decision, ErrorCostSettings) and settings.project.problem_type == "regression":
        return error_cost_report(
            model.predict(holdout),
            None if rule is None else rule.predict(holdout),
            baseline.predict(holdout),
            split.holdout_y.to_numpy(),
            decision,
            settings.project.seed,
        )
    if not isinstance(decision, DecisionSettings) or settings.project.problem_type != "binary":
        return None
    column = positive_column(model, positive)
    positives = (split.holdout_y == list(model.model.classes_)[column]).to_numpy()
    model_scores = model.predict_proba(holdout)[:, column]
    rule_scores = None if rule is None else rule.predict_proba(holdout)[:, column]
    return value_report(model_scores, rule_scores, positives, decision, settings.project.seed)


def _decided(
    settings: Settings, model: HoldoutPredictions, split: Split, positive: Any
) -> np.ndarray | None:
    """A binary model's decisions on the holdout at its operating point, as labels (the
    cases acted on are the positive class); None without a binary [decision]."""
    decision = settings.decision
    if not isinstance(decision, DecisionSettings) or settings.project.problem_type != "binary":
        return None
    classes = list(model.model.classes_)
    column = positive_column(model, positive)
    positives = (split.holdout_y == classes[column]).to_numpy()
    act = acted_on(model.predict_proba(split.holdout_x)[:, column], positives, decision)
    negative = classes[1 - column]
    return np.array([classes[column] if acting else negative for acting in act])


def evaluate_champion(settings: Settings) -> dict[str, Any]:
    """Re-evaluate the current champion on the holdout and refresh the reports."""
    contract, frame = load_validated(settings)
    split = split_holdout(frame, contract, settings)
    registry = open_registry(settings.registry)
    model, version = load_champion(registry)
    baseline = build_baseline(
        settings.project.problem_type, contract, settings.data.not_features
    ).fit(split.train_x, split.train_y)
    rule = RuleModel(team_rule, baseline, contract.positive_label)
    result, predictions = assess(settings, model, baseline, split, contract.positive_label, rule)
    # The champion's verdict and search stay as its training run recorded them.
    trained = registry.report(version) or {}
    report = {
        "model_version": version,
        "evaluation": result,
        "selection": trained.get("selection"),
        "features": used_columns(model),
        "gate": trained.get("gate"),
        "footprint": trained.get("footprint"),
        "lineage": lineage.collect(frame, describe_source(settings.data), settings),
        "thresholds": settings.gate.model_dump(),
    }
    write_reports(settings, report, predictions, update_model_card=True)
    return report

"""The evaluation report's plots, drawn from the holdout predictions with
scikit-learn's display classes: ROC, precision-recall, calibration, the value curve
and the confusion matrix (classification); predicted against actual and residuals
(regression)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import CalibrationDisplay
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    PredictionErrorDisplay,
    RocCurveDisplay,
)

from ..config import DecisionSettings
from ..figures import png_data_uri
from .evaluate import HoldoutPredictions, decided_labels
from .metrics import positive_column
from .value import random_action_value, value_curve

SIZE = (4.6, 3.4)


def evaluation_plots(
    problem_type: str,
    target: pd.Series,
    predictions: HoldoutPredictions,
    positive: Any,
    decision: DecisionSettings | None,
    decided: dict[str, Any] | None,
) -> list[tuple[str, str]]:
    """(title, PNG data URI) for each plot that fits the problem type."""
    if problem_type == "regression":
        return _regression(target, predictions)
    plots = []
    if problem_type == "binary":
        plots += _binary(target, predictions, positive, decision, decided)
    figure, axis = plt.subplots(figsize=SIZE, dpi=90)
    labels = decided_labels(predictions, positive, decided)
    classes = list(predictions.model.classes_)
    ConfusionMatrixDisplay.from_predictions(target, labels, labels=classes, ax=axis, colorbar=False)
    where = "at the operating point" if decided is not None else "predicted class"
    title = f"Confusion matrix ({where})"
    axis.set_title(title, fontsize=10)
    plots.append((title, png_data_uri(figure)))
    return plots


def _binary(
    target: pd.Series,
    predictions: HoldoutPredictions,
    positive: Any,
    decision: DecisionSettings | None,
    decided: dict[str, Any] | None,
) -> list[tuple[str, str]]:
    holdout = predictions.holdout
    scores = predictions.predict_proba(holdout)[:, positive_column(predictions, positive)]
    outcomes = (target == positive).to_numpy()
    plots = []
    for title, display in [
        ("ROC curve", RocCurveDisplay),
        ("Precision-recall curve", PrecisionRecallDisplay),
    ]:
        figure, axis = plt.subplots(figsize=SIZE, dpi=90)
        display.from_predictions(outcomes, scores, ax=axis, name="model")
        axis.set_title(title, fontsize=10)
        plots.append((title, png_data_uri(figure)))
    figure, axis = plt.subplots(figsize=SIZE, dpi=90)
    CalibrationDisplay.from_predictions(outcomes, scores, n_bins=10, ax=axis, name="model")
    axis.set_title("Calibration (10 bins)", fontsize=10)
    plots.append(("Calibration", png_data_uri(figure)))
    if decision is not None and decided is not None:
        share, value = value_curve(scores, outcomes, decision)
        figure, axis = plt.subplots(figsize=SIZE, dpi=90)
        axis.plot(share, value, label="model")
        # Acting at random is a straight line from acting on none to acting on all.
        random = [random_action_value(outcomes, decision, s) * decision.volume for s in (0, 1)]
        axis.plot([0, 1], random, color="grey", linestyle=":", label="at random")
        rule = decided.get("rule")
        if rule is not None:
            axis.plot(rule["actions"] / len(scores), rule["value_per_period"], "s",
                      color="tab:orange", label="team's rule")  # fmt: skip
        acted = decided["model"]["actions"] / len(scores)
        axis.axvline(acted, color="tab:red", linestyle="--", label="operating point")
        axis.axhline(0, color="grey", linewidth=0.8)
        axis.set_xlabel("share of cases acted on (highest scores first)")
        axis.set_ylabel(f"expected value per {decision.period}")
        axis.legend(fontsize=8)
        axis.set_title("Value curve", fontsize=10)
        plots.append(("Value curve", png_data_uri(figure)))
    return plots


def _regression(target: pd.Series, predictions: HoldoutPredictions) -> list[tuple[str, str]]:
    predicted = np.asarray(predictions.predict(predictions.holdout), dtype=float)
    plots = []
    for title, kind in [
        ("Predicted against actual", "actual_vs_predicted"),
        ("Residuals against predicted", "residual_vs_predicted"),
    ]:
        figure, axis = plt.subplots(figsize=SIZE, dpi=90)
        PredictionErrorDisplay.from_predictions(
            target.to_numpy(dtype=float), predicted, kind=kind, ax=axis, random_state=0
        )
        axis.set_title(title, fontsize=10)
        plots.append((title, png_data_uri(figure)))
    return plots

"""The baseline and the candidate model, each one scikit-learn pipeline.

The pipeline object (features + estimator) is what the registry stores and what
batch scoring and the API load, so there is no second feature implementation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from .contract import Contract
from .features import build_preprocessor
from .metrics import positive_column


def build_baseline(problem_type: str, contract: Contract, personal_data: list[str]) -> Pipeline:
    """The non-ML baseline: the class prior (classification) or the mean (regression)."""
    estimator: Any = (
        DummyRegressor(strategy="mean")
        if problem_type == "regression"
        else DummyClassifier(strategy="prior")
    )
    return Pipeline(
        [("features", build_preprocessor(contract, personal_data)), ("model", estimator)]
    )


def build_candidate(
    problem_type: str, contract: Contract, personal_data: list[str], seed: int
) -> Pipeline:
    """A simple, well-understood first model; replace the estimator when it earns it."""
    estimator: Any = (
        Ridge(alpha=1.0)
        if problem_type == "regression"
        else LogisticRegression(max_iter=1000, random_state=seed)
    )
    return Pipeline(
        [("features", build_preprocessor(contract, personal_data)), ("model", estimator)]
    )


def predict_frame(
    model: Pipeline, frame: pd.DataFrame, problem_type: str, positive: Any = 1
) -> pd.DataFrame:
    """Predictions as columns: `prediction`, plus `probability` for classifiers.

    Binary: `probability` is that of the positive class (the contract's positive_label).
    """
    if problem_type == "regression":
        return pd.DataFrame({"prediction": model.predict(frame)}, index=frame.index)
    probabilities = model.predict_proba(frame)
    classes = model.classes_
    best = np.argmax(probabilities, axis=1)
    result = pd.DataFrame({"prediction": classes[best]}, index=frame.index)
    # Binary: the probability of the positive class; multiclass: of the predicted class.
    result["probability"] = (
        probabilities[:, positive_column(model, positive)]
        if problem_type == "binary"
        else probabilities[np.arange(len(best)), best]
    )
    return result

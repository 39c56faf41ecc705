"""The baseline and the candidate model, each one scikit-learn pipeline.

The pipeline object (features + estimator) is what the registry stores and what
batch scoring and the API load, so there is no second feature implementation.
"""

from __future__ import annotations

from typing import Any

from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from ..data.contract import Contract
from .features import build_preprocessor


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

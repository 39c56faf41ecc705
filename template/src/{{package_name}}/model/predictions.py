"""Predictions as a table: the one shape batch scoring, the API and monitoring share.

Separate from estimators.py (the team's choice of estimators) so that a team's edits there
never change what a prediction looks like.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .metrics import positive_column
from .scorers import UNSET, decide


def predict_frame(
    model: Pipeline, frame: pd.DataFrame, problem_type: str, positive: Any = 1
) -> pd.DataFrame:
    """Predictions as columns: `prediction`, plus `probability` for classifiers.

    Binary: `probability` is that of the positive class (the contract's positive_label)
    and `prediction` the one decision: at the model's operating point when training
    chose one ([decision], model/value.py), the positive label for the cases to act on.
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
    if problem_type == "binary":
        point = getattr(model, "operating_point_", UNSET)
        if point != UNSET:
            index = positive_column(model, positive)
            act = decide(result["probability"].to_numpy(), point)
            result["prediction"] = np.where(act, classes[index], classes[1 - index])
    return result

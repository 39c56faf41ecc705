"""The team's rule (model/rule.py) as something the evaluation can score like a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

Rule = Callable[[pd.DataFrame], "pd.Series | None"]


def _scores(values: pd.Series) -> bool:
    """Numbers from a binary rule are scores (1/0 included); anything else is labels."""
    return pd.api.types.is_numeric_dtype(values)


class RuleModel:
    """`predict` and `predict_proba` from the team's rule; the fitted prior (or mean)
    stands in while the rule returns None."""

    def __init__(self, rule: Rule, prior: Pipeline, positive: Any = 1) -> None:
        self.rule = rule
        self.prior = prior
        self.positive = positive
        doc = (rule.__doc__ or "").strip().splitlines()
        self.name = doc[0].rstrip(".") if doc else getattr(rule, "__name__", "the team's rule")

    @property
    def classes_(self) -> Any:
        return self.prior.classes_

    def written(self, rows: pd.DataFrame) -> bool:
        return self._apply(rows.head(5)) is not None

    def _apply(self, rows: pd.DataFrame) -> pd.Series | None:
        result = self.rule(rows)
        if result is None:
            return None
        values = pd.Series(result)
        if len(values) != len(rows):
            raise ValueError(
                f"model/rule.py: team_rule returned {len(values)} values for {len(rows)} rows"
            )
        if values.isna().any():
            raise ValueError("model/rule.py: team_rule returned missing values; give every row one")
        if pd.api.types.is_bool_dtype(values):
            values = values.astype(float)  # act / don't act
        return values.set_axis(rows.index)

    def predict(self, rows: pd.DataFrame) -> Any:
        values = self._apply(rows)
        if values is None:
            return self.prior.predict(rows)
        classes = getattr(self.prior, "classes_", None)  # None: a regression
        if classes is not None and len(classes) == 2 and _scores(values):
            negative = next(c for c in classes if c != self.positive)
            return np.where(values.astype(float) >= 0.5, self.positive, negative)
        return values.to_numpy()

    def predict_proba(self, rows: pd.DataFrame) -> Any:
        values = self._apply(rows)
        if values is None:
            return self.prior.predict_proba(rows)
        if len(self.classes_) != 2:
            raise ValueError("model/rule.py: scores are for binary problems; return labels")
        if _scores(values):
            share = values.astype(float).clip(0, 1).to_numpy()
        else:  # labels: the positive one counts as a certain positive
            share = (values == self.positive).astype(float).to_numpy()
        column = list(self.classes_).index(self.positive) if self.positive in self.classes_ else 1
        return np.column_stack([1 - share, share] if column == 1 else [share, 1 - share])

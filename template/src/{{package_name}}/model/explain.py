"""Why the model scored one case as it did: each input's contribution (I5).

Contributions are Shapley values from shap's permutation explainer, measured against a
typical case: the training rows' median of each numeric input and most frequent value
of each other one, stored with the model at training (`explain_baseline_`). Each input
is either the case's own value or the typical one, so any column type works (text,
dates, missing values), and the contributions add up exactly to the case's score minus
the typical case's score.

The work is bounded in model calls, never in time: `PERMUTATIONS` orderings of the
inputs, each costing two calls per input, with a fixed seed, so the same case gets the
same explanation on any machine. `<package> explain` and the service's `/explain` use
this module with the model they serve, so both explain the score that was given. shap
compiles parts of itself with numba when first used: the first explanation in a
process takes a few seconds more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# Light to import (numpy only): the service's compiled model carries the typical case.
BASELINE_ATTRIBUTE = "explain_baseline_"
PERMUTATIONS = 10

# Rows of inputs in, one number per row out: the score being explained.
ScoreRows = Callable[[list[dict[str, Any]]], np.ndarray]


class ExplainError(ValueError):
    """The case cannot be explained (named in the message)."""


@dataclass(frozen=True)
class Explanation:
    explained: str  # what the score is, in words
    score: float  # the case's score
    typical_score: float  # the typical case's score
    # Per input, largest effect first; they sum to score - typical_score.
    contributions: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "explained": self.explained,
            "score": self.score,
            "typical_score": self.typical_score,
            "contributions": self.contributions,
        }


def score_of(
    scorer: Any, problem_type: str, target: str, positive: Any, case: Mapping[str, Any]
) -> tuple[ScoreRows, str]:
    """The score to explain, from the scorer that serves the model: the positive class's
    probability, the predicted value, or (multiclass) the probability of the class
    predicted for this case."""
    if problem_type == "binary":
        return (lambda rows: np.asarray(scorer.score_rows(rows).probability)), (
            f"probability that {target} is {positive}"
        )
    if problem_type == "regression":
        predicted = f"predicted {target}"
        return (lambda rows: np.asarray(scorer.score_rows(rows).prediction)), predicted
    model = scorer.model if scorer.kind == "scikit-learn" else None  # the pipeline
    if model is None:
        raise ExplainError(
            "the compiled model gives only the predicted class's probability: explain a "
            "multiclass case with the pipeline (`explain` on the command line)"
        )
    label = scorer.score_rows([dict(case)]).prediction[0]
    index = list(model.classes_).index(label)

    def probability(rows: list[dict[str, Any]]) -> np.ndarray:
        import pandas as pd

        return np.asarray(model.predict_proba(pd.DataFrame.from_records(rows))[:, index])

    return probability, f"probability that {target} is {label}"


def typical_case(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """The median of each numeric input, the most frequent value of any other."""
    import pandas as pd

    typical: dict[str, Any] = {}
    for column in columns:
        values = frame[column].dropna()
        if values.empty:
            typical[column] = None
        elif pd.api.types.is_bool_dtype(values):
            typical[column] = bool(values.mode().iloc[0])
        elif pd.api.types.is_datetime64_any_dtype(values):
            typical[column] = pd.Timestamp(values.median()).isoformat()
        elif pd.api.types.is_numeric_dtype(values):
            median = float(values.median())
            integral = pd.api.types.is_integer_dtype(values)
            typical[column] = round(median) if integral else median
        else:
            mode = values.mode().iloc[0]
            typical[column] = mode.item() if isinstance(mode, np.generic) else mode
    return typical


def explain_case(
    score_rows: ScoreRows,
    case: Mapping[str, Any],
    typical: Mapping[str, Any],
    explained: str,
    seed: int,
) -> Explanation:
    """Contributions of the inputs named in `typical` to the case's score."""
    import shap  # imported here: only explanations need it

    inputs = list(typical)
    missing = [name for name in inputs if name not in case]
    if missing:
        raise ExplainError(f"the case has no value for {missing}")

    def scores(chosen: np.ndarray) -> np.ndarray:
        # 1 keeps the case's own value, 0 puts the typical case's in its place.
        rows = [
            {**case, **{name: case[name] if keep else typical[name]
                        for name, keep in zip(inputs, mask, strict=True)}}
            for mask in chosen
        ]  # fmt: skip
        return np.asarray(score_rows(rows), dtype=float)

    explainer = shap.PermutationExplainer(
        scores, shap.maskers.Independent(np.zeros((1, len(inputs)))), seed=seed
    )
    calls = PERMUTATIONS * (2 * len(inputs) + 1)
    result = explainer(np.ones((1, len(inputs))), max_evals=calls, silent=True)
    values = [float(value) for value in result.values[0]]
    order = sorted(range(len(inputs)), key=lambda index: -abs(values[index]))
    own, usual = scores(np.ones((1, len(inputs))))[0], scores(np.zeros((1, len(inputs))))[0]
    return Explanation(
        explained=explained,
        score=float(own),
        typical_score=float(usual),
        contributions={inputs[index]: values[index] for index in order},
    )


def lines(explanation: Explanation, limit: int = 10) -> list[str]:
    """The explanation as a few lines for a terminal."""
    out = [
        f"{explanation.explained}: {explanation.score:.4f} for this case, "
        f"{explanation.typical_score:.4f} for a typical one",
        "",
        f"{'input':<32} contribution",
    ]
    for name, value in list(explanation.contributions.items())[:limit]:
        out.append(f"{name:<32} {value:+.4f}")
    rest = len(explanation.contributions) - limit
    if rest > 0:
        out.append(f"... and {rest} more (--json shows all)")
    return out

"""Numerical stability: a score that is not a finite number, or a probability outside
[0, 1], is refused wherever it is made (training, batch scoring, the API) and counted,
never passed on as a decision. A model that makes one is broken (an overflow in a
custom step, a division by a zero variance), not uncertain, and a NaN compared with an
operating point quietly means "do not act".
"""

from __future__ import annotations

from typing import Any

import numpy as np

# ONNX computes in 32-bit floats: a probability may land this far outside [0, 1].
SLACK = 1e-6


class UnstableScoresError(ValueError):
    """Some rows got a score that is not a finite number or not a probability."""

    def __init__(self, where: str, rows: list[int], total: int) -> None:
        self.rows = rows
        shown = ", ".join(str(row) for row in rows[:5]) + (", ..." if len(rows) > 5 else "")
        super().__init__(
            f"{where}: the model gave {len(rows)} of {total} rows a score that is not a "
            f"finite number (or a probability outside [0, 1]), at rows {shown}. The model is "
            "numerically unstable on these inputs; nothing was written or answered"
        )


def unstable_rows(values: Any, probabilities: bool) -> list[int]:
    """Positions of the rows whose score (a 1-D array of values, or one row per case of
    class probabilities) is not finite, or for probabilities, outside [0, 1]."""
    scores = np.asarray(values, dtype=float)
    if scores.ndim == 1:
        scores = scores.reshape(-1, 1)
    bad = ~np.isfinite(scores)
    if probabilities:
        bad |= (scores < -SLACK) | (scores > 1 + SLACK)
    return [int(row) for row in np.flatnonzero(bad.any(axis=1))]


def require_stable(where: str, values: Any, probabilities: bool) -> None:
    """Raise UnstableScoresError when any row's score is unstable."""
    rows = unstable_rows(values, probabilities)
    if rows:
        raise UnstableScoresError(where, rows, len(np.asarray(values)))

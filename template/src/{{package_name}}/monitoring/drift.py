"""Distribution drift between a reference sample and a live window.

Two views per column, because each alone misleads: the population stability index
(PSI) says how much a distribution moved, and is noisy on small samples; the
statistical test (scipy's two-sample Kolmogorov-Smirnov for numbers, chi-square on
the contingency table for categories) says whether the move is real, and flags
trivial moves on large samples. A column has drifted only when both agree.
PSI is a few lines of arithmetic, so it is written here rather than installed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

BINS = 10
# Floor for empty bins: keeps PSI finite when a value never occurred before.
EPSILON = 1e-4


@dataclass(frozen=True)
class Drift:
    column: str
    kind: str  # "numeric" or "categorical"
    psi: float
    test: str
    p_value: float
    drifted: bool
    new_categories: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of two proportion vectors over the same bins."""
    expected = np.clip(expected, EPSILON, None)
    actual = np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def numeric_drift(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    """PSI over the reference's decile bins, and the KS test's p-value."""
    ref = pd.to_numeric(reference, errors="coerce").dropna().to_numpy(dtype=float)
    cur = pd.to_numeric(current, errors="coerce").dropna().to_numpy(dtype=float)
    if len(ref) == 0 or len(cur) == 0:
        return float("nan"), float("nan")
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, BINS + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    if len(edges) < 3:  # a (nearly) constant column: split at its value
        value = float(np.median(ref))
        edges = np.array([-np.inf, value, np.nextafter(value, np.inf), np.inf])
    expected = np.histogram(ref, edges)[0] / len(ref)
    actual = np.histogram(cur, edges)[0] / len(cur)
    return psi(expected, actual), float(stats.ks_2samp(ref, cur).pvalue)


def categorical_drift(reference: pd.Series, current: pd.Series) -> tuple[float, float, list[str]]:
    """PSI over the union of categories, the chi-square p-value, and unseen categories."""
    ref_counts = reference.dropna().astype(str).value_counts()
    cur_counts = current.dropna().astype(str).value_counts()
    categories = sorted(set(ref_counts.index) | set(cur_counts.index))
    ref_vector = ref_counts.reindex(categories, fill_value=0).to_numpy(dtype=float)
    cur_vector = cur_counts.reindex(categories, fill_value=0).to_numpy(dtype=float)
    new = sorted(set(cur_counts.index) - set(ref_counts.index))
    if ref_vector.sum() == 0 or cur_vector.sum() == 0:
        return float("nan"), float("nan"), new
    value = psi(ref_vector / ref_vector.sum(), cur_vector / cur_vector.sum())
    if len(categories) < 2:
        return value, 1.0, new
    p_value = float(stats.chi2_contingency(np.vstack([ref_vector, cur_vector]))[1])
    return value, p_value, new


def column_drift(
    column: str,
    reference: pd.Series,
    current: pd.Series,
    *,
    categorical: bool,
    psi_limit: float,
    p_value_limit: float,
) -> Drift:
    if categorical:
        value, p_value, new = categorical_drift(reference, current)
        test = "chi-square"
    else:
        (value, p_value), new = numeric_drift(reference, current), []
        test = "kolmogorov-smirnov"
    drifted = bool(
        not np.isnan(value)
        and value > psi_limit
        and not np.isnan(p_value)
        and p_value < p_value_limit
    )
    return Drift(
        column=column,
        kind="categorical" if categorical else "numeric",
        psi=round(value, 6) if not np.isnan(value) else float("nan"),
        test=test,
        p_value=p_value,
        drifted=drifted,
        new_categories=new,
    )

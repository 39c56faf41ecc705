"""Fairness at the operating point (binary): the decisions as the team will take them,
group by group, for each sensitive attribute and each business slice.

Per group, with fairlearn's MetricFrame: the selection rate (the share acted on),
recall (the share of positive cases reached) and precision (the share of actions that
hit). The gap between the best and the worst group large enough to judge
([gate] slice_min_rows) in [gate] fairness_metric comes with fairlearn's bootstrap
interval, and the gate fails only when the interval's lower bound is above
[gate] max_fairness_gap: a gap that chance could explain does not block, a gap that
is surely too wide does.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.metrics import precision_score, recall_score

from . import metrics

FAIRNESS_METRICS = {
    "selection_rate": selection_rate,
    "recall": partial(recall_score, zero_division=0),
    "precision": partial(precision_score, zero_division=0),
}


def group_decisions(
    acted: np.ndarray,
    positives: np.ndarray,
    labels: pd.Series,
    gap_metric: str,
    min_rows: int,
    seed: int,
) -> dict[str, Any]:
    """Per group: rows, selection rate, recall, precision, and whether it is judged; and
    the gap in `gap_metric` between the judged groups, with its 95% interval."""
    labels = labels.reset_index(drop=True).astype(str)
    acted, positives = np.asarray(acted, dtype=bool), np.asarray(positives, dtype=bool)
    with warnings.catch_warnings():  # a group without positives has no recall: 0, said
        warnings.simplefilter("ignore")
        every = MetricFrame(
            metrics=FAIRNESS_METRICS, y_true=positives, y_pred=acted, sensitive_features=labels
        ).by_group
    counts = labels.value_counts()
    groups = {
        str(group): {
            "rows": int(counts[group]),
            **{name: round(float(row[name]), 6) for name in FAIRNESS_METRICS},
            "judged": bool(counts[group] >= min_rows),
        }
        for group, row in every.iterrows()
    }
    judged = [group for group, values in groups.items() if values["judged"]]
    gap: dict[str, Any] = {"metric": gap_metric, "value": None, "interval": None}
    if len(judged) >= 2:
        keep = labels.isin(judged).to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = MetricFrame(
                metrics=FAIRNESS_METRICS[gap_metric],
                y_true=positives[keep],
                y_pred=acted[keep],
                sensitive_features=labels[keep],
                n_boot=metrics.BOOTSTRAP_RESAMPLES,
                ci_quantiles=[0.025, 0.975],
                random_state=seed,
            )
            low, high = frame.difference_ci()
        values = {group: groups[group][gap_metric] for group in judged}
        gap.update(
            value=round(float(frame.difference()), 6),
            interval=[round(float(low), 6), round(float(high), 6)],
            lowest=min(values, key=values.__getitem__),
            highest=max(values, key=values.__getitem__),
        )
    return {"groups": groups, "gap": gap}

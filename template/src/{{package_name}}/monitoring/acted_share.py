"""Is the share of cases acted on still the share training planned?

The operating point is a score threshold fixed at training (model/value.py); under the
capacity policy, the score of the capacity's last case on the holdout. Batch scoring
and the API compare each case with it, one at a time, so a case gets the same decision
on every path, a streamed batch needs one pass, and a single request needs no batch to
be ranked against. The price: when the scores drift, the share acted on drifts with
them, and a team set up to call 40 customers a week is asked to call 90. This check
watches that share on the live window: a binomial test of the live share against the
share of the training data's cases at the point (the reference every monitoring check
uses; the holdout's share, the plan, is reported beside it), alarmed when the
difference is both significant ([monitoring] p_value) and larger than
[monitoring] acted_share_tolerance, relative to the reference.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from scipy.stats import binomtest

from ..config import MonitoringSettings
from ..model.scorers import UNSET, decide


def acted_share_check(
    model: Any,
    reference_scores: pd.Series,
    scores: pd.Series,
    limits: MonitoringSettings,
    enough: bool,
) -> dict[str, Any]:
    """The live share acted on at the champion's operating point against the share of
    the training data's cases there."""
    point = getattr(model, "operating_point_", UNSET)
    planned = getattr(model, "acted_share_", None)
    if point == UNSET or planned is None:
        return {
            "status": "not applicable: the champion has no operating point with a planned "
            "share (a binary model trained with [decision] has one)"
        }
    live = pd.to_numeric(scores, errors="coerce").dropna().to_numpy(dtype=float)
    if len(live) == 0:
        return {"status": "not measured: no live scores in the window"}
    acted = int(decide(live, point).sum())
    realised = acted / len(live)
    reference = pd.to_numeric(reference_scores, errors="coerce").dropna().to_numpy(dtype=float)
    expected = float(decide(reference, point).mean()) if len(reference) else float(planned)
    # Expected shares of 0 or 1 make any departure certain, not a matter of chance.
    p_value = (
        float(binomtest(acted, len(live), expected).pvalue)
        if 0.0 < expected < 1.0
        else (0.0 if realised != expected else 1.0)
    )
    shift = abs(realised - expected) / expected if expected > 0 else float(realised > 0)
    drifted = bool(enough and p_value < limits.p_value and shift > limits.acted_share_tolerance)
    return {
        "status": "checked" if enough else "insufficient data: reported, not alarmed",
        "operating_point": None if point is None else float(point),
        "planned": round(float(planned), 6),
        "expected": round(expected, 6),
        "realised": round(realised, 6),
        "acted": acted,
        "rows": len(live),
        "relative_shift": round(shift, 6),
        "p_value": p_value,
        "tolerance": limits.acted_share_tolerance,
        "drifted": drifted,
        "message": (
            f"share acted on drifted: {acted} of {len(live)} live cases "
            f"({format(realised, '.1%')}) reached the operating point, against "
            f"{format(expected, '.1%')} of the training data's (planned on the holdout: "
            f"{format(planned, '.1%')}; binomial p={p_value:.2g}); retrain to set the point "
            "on recent scores"
        ),
    }

"""What the model costs to run (ML Test Score Mo6): training time, scoring throughput,
one-row latency (p95) and the training process's peak memory, measured at training and
compared with the champion's figures from its own training report.

Reported, never gated: these are wall-clock figures, which depend on how busy the
machine is, and the gate must give the same verdict on any machine. The report flags a
figure more than WARNING_RATIO times worse than the champion's, for a person to judge
(`make bench` measures the service itself under load).
"""

from __future__ import annotations

import resource
import time
from typing import Any

import numpy as np
import pandas as pd

# A figure this many times worse than the champion's is flagged in the report.
WARNING_RATIO = 2.0
# One-row calls timed for the latency percentile: bounded work, whatever the holdout.
LATENCY_CALLS = 50
# Figures where more is worse, and the one where more is better.
WORSE_WHEN_HIGHER = ("training_seconds", "p95_latency_ms", "peak_memory_mb")
BETTER_WHEN_HIGHER = ("rows_per_second",)


def measure(model: Any, holdout: pd.DataFrame, training_seconds: float) -> dict[str, float]:
    """The candidate's figures: `training_seconds` as timed by training, the rest here."""
    score = model.predict_proba if hasattr(model, "predict_proba") else model.predict
    started = time.perf_counter()
    score(holdout)
    rows_per_second = len(holdout) / max(time.perf_counter() - started, 1e-9)
    latencies = []
    for position in range(min(LATENCY_CALLS, len(holdout))):
        started = time.perf_counter()
        score(holdout.iloc[[position]])
        latencies.append(time.perf_counter() - started)
    # Linux reports the peak resident size in kilobytes.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "training_seconds": round(training_seconds, 3),
        "rows_per_second": round(rows_per_second, 1),
        "p95_latency_ms": round(float(np.percentile(latencies, 95)) * 1000, 3),
        "peak_memory_mb": round(peak_mb, 1),
    }


def compare(candidate: dict[str, float], champion: dict[str, float] | None) -> dict[str, Any]:
    """Each figure's ratio to the champion's, in the direction where above 1 is worse,
    and a verdict naming the figures past WARNING_RATIO."""
    if not champion:
        return {
            "candidate": candidate,
            "champion": None,
            "worse_by": {},
            "flagged": [],
            "verdict": "no champion figures to compare with (the first model, or a champion "
            "trained before they were recorded)",
        }
    worse_by = {
        name: round(candidate[name] / max(champion[name], 1e-9), 2)
        for name in WORSE_WHEN_HIGHER
        if name in champion
    } | {
        name: round(champion[name] / max(candidate[name], 1e-9), 2)
        for name in BETTER_WHEN_HIGHER
        if name in champion
    }
    flagged = [name for name, ratio in worse_by.items() if ratio > WARNING_RATIO]
    verdict = (
        "heavier than the champion: "
        + ", ".join(f"{name.replace('_', ' ')} {worse_by[name]:.1f}x worse" for name in flagged)
        if flagged
        else f"within {WARNING_RATIO:.0f}x of the champion on every figure"
    )
    return {
        "candidate": candidate,
        "champion": champion,
        "worse_by": worse_by,
        "flagged": flagged,
        "verdict": verdict,
    }

"""Monitoring: is the system still working? Live data against the training reference.

Checks, each with limits from [monitoring] in config/settings.toml:
- data quality of live inputs: contract violation rate, missing-value rate per column;
- drift of every feature and of the predictions (see drift.py);
- performance on outcomes fed back for logged predictions, overall and per slice, and
  the value (or cost) the decisions realised against training's promise
  (realised_value.py);
- binary with an operating point: the share of live cases acted on against the plan
  (see acted_share.py);
- the champion's age.

The verdict (documented in the README and docs/runbook.md):
  ok           nothing crossed a limit                      exit 0
  retrain      drift, performance or age crossed a limit    exit 3
  investigate  live inputs break the contract or go missing exit 4
               (retraining on broken data would not help)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings
from ..data.contract import Contract
from ..data.loading import load_validated
from ..data.sources import read_table
from ..model.features import feature_columns
from ..model.metrics import LOWER_IS_BETTER, NEEDS_SCORES, score_predictions
from ..model.predictions import predict_frame
from ..registry import load_champion, open_registry
from .acted_share import acted_share_check
from .drift import Drift, column_drift
from .prediction_log import SLICE_PREFIX, PredictionLog, utc_now
from .realised_value import realised_value

logger = logging.getLogger(__name__)

EXIT_STATUS = {"ok": 0, "retrain": 3, "investigate": 4}


class NoLiveDataError(ValueError):
    """Nothing to monitor in the window."""


@dataclass
class MonitoringResult:
    report: dict[str, Any]
    reference: pd.DataFrame
    current: pd.DataFrame
    reference_scores: pd.Series
    current_scores: pd.Series
    drift: list[Drift] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return str(self.report["verdict"])


def run_monitoring(
    settings: Settings, as_of: datetime | None = None, current_path: Path | None = None
) -> MonitoringResult:
    """Compare the live window (the prediction log, or a file) with the training data."""
    limits = settings.monitoring
    as_of = as_of or utc_now()
    since = as_of - timedelta(days=limits.window_days)
    contract, reference = load_validated(settings)
    registry = open_registry(settings.registry)
    model, version = load_champion(registry)
    numeric, categorical = feature_columns(contract, settings.data.personal_data)
    features = numeric + categorical
    problem_type = settings.project.problem_type
    log = PredictionLog(limits.prediction_log_url)

    if current_path is not None:
        current = read_table(current_path)
        source = str(current_path)
    else:
        current = log.read_predictions(since, as_of, features)
        source = "prediction log"
    if current.empty:
        raise NoLiveDataError(
            f"no live data: the prediction log has no predictions between {since:%Y-%m-%d %H:%M} "
            f"and {as_of:%Y-%m-%d %H:%M} UTC. Point PREDICTION_LOG_URL at the production "
            "log, or pass --current with a file of live inputs."
        )
    logger.info(
        "monitoring %d live rows (%s) against %d reference rows",
        len(current),
        source,
        len(reference),
    )

    quality = data_quality(contract, reference, current, features, settings)
    enough = len(current) >= limits.min_rows
    drift = [
        column_drift(
            name,
            reference[name],
            current[name] if name in current else pd.Series(dtype=object),
            categorical=name in categorical,
            psi_limit=limits.psi_limit,
            p_value_limit=limits.p_value,
        )
        for name in features
    ]
    reference_predictions = predict_frame(model, reference, problem_type, contract.positive_label)
    reference_scores = _scores(reference_predictions, problem_type)
    if "prediction" in current:  # from the log: what the service actually answered
        current_scores = _scores(current, problem_type)
    else:
        current_scores = _scores(
            _predict_valid_rows(model, contract, current, problem_type), problem_type
        )
    prediction = column_drift(
        "prediction",
        reference_scores,
        current_scores,
        categorical=problem_type == "multiclass",
        psi_limit=limits.prediction_psi_limit,
        p_value_limit=limits.p_value,
    )
    acted = acted_share_check(model, reference_scores, current_scores, limits, enough)
    trained_at = registry.trained_at(version)
    age_days = None if trained_at is None else (as_of - trained_at).total_seconds() / 86400
    performance: dict[str, Any] = (
        live_performance(log, settings, contract, as_of, model)
        if current_path is None
        else {"status": "not measured: outcomes join to logged predictions, not to a file"}
    )

    investigate = quality["alerts"]
    retrain: list[str] = []
    if enough:
        retrain += [
            f"feature `{d.column}` drifted: PSI {d.psi:.3f} > {limits.psi_limit} "
            f"({d.test} p={d.p_value:.2g})"
            for d in drift
            if d.drifted
        ]
        if prediction.drifted:
            retrain.append(
                f"predictions drifted: PSI {prediction.psi:.3f} > {limits.prediction_psi_limit}"
            )
    if acted.get("drifted"):
        retrain.append(acted["message"])
    realised: dict[str, Any] = performance.get("realised_value", {})
    if realised.get("short"):
        retrain.append(realised["message"])
    if performance.get("below_threshold"):
        retrain.append(performance["message"])
    if age_days is not None and age_days > limits.max_model_age_days:
        retrain.append(
            f"champion v{version} is {age_days:.0f} days old (limit {limits.max_model_age_days})"
        )
    reasons = investigate + retrain
    verdict = "investigate" if investigate else ("retrain" if retrain else "ok")

    report = {
        "verdict": verdict,
        "exit_status": EXIT_STATUS[verdict],
        "reasons": reasons,
        "as_of": as_of.isoformat(timespec="seconds"),
        "window": {
            "source": source,
            "start": since.isoformat(timespec="seconds"),
            "end": as_of.isoformat(timespec="seconds"),
            "rows": len(current),
            "reference_rows": len(reference),
        },
        "model": {
            "version": version,
            "trained_at": None if trained_at is None else trained_at.isoformat(timespec="seconds"),
            "age_days": None if age_days is None else round(age_days, 2),
            "max_age_days": limits.max_model_age_days,
        },
        "data_quality": quality,
        "drift": {
            "status": "checked"
            if enough
            else (
                f"insufficient data: {len(current)} rows < min_rows {limits.min_rows}; "
                "reported, not alarmed"
            ),
            "psi_limit": limits.psi_limit,
            "p_value": limits.p_value,
            "features": [d.as_dict() for d in drift],
            "drifted": [d.column for d in drift if d.drifted] if enough else [],
        },
        "prediction_drift": prediction.as_dict(),
        "acted_share": acted,
        "performance": performance,
    }
    return MonitoringResult(report, reference, current, reference_scores, current_scores, drift)


def data_quality(
    contract: Contract,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: list[str],
    settings: Settings,
) -> dict[str, Any]:
    """Contract violation rate and the rise of missing values, column by column."""
    limits = settings.monitoring
    failures = contract.failure_cases(current, features)
    broken_rows = failures["index"].dropna().nunique()
    whole_columns = failures[failures["index"].isna()]["column"].dropna().unique().tolist()
    rate = 1.0 if whole_columns else broken_rows / len(current)
    by_rule: dict[str, dict[str, int]] = {}
    for (column, check), group in failures.groupby(["column", "check"], dropna=False):
        by_rule.setdefault(str(column), {})[str(check)] = len(group)
    missing: dict[str, dict[str, float]] = {}
    alerts: list[str] = []
    for name in features:
        current_rate = float(current[name].isna().mean()) if name in current else 1.0
        reference_rate = float(reference[name].isna().mean())
        increase = current_rate - reference_rate
        missing[name] = {
            "reference": round(reference_rate, 6),
            "current": round(current_rate, 6),
            "increase": round(increase, 6),
        }
        if increase > limits.max_missing_increase:
            alerts.append(
                f"column `{name}`: missing values rose to {percent(current_rate)} "
                f"(reference {percent(reference_rate)}, "
                f"limit +{percent(limits.max_missing_increase, 0)})"
            )
    if rate > limits.max_violation_rate:
        broken = ", ".join(f"`{c}`" for c in by_rule) or "the table"
        alerts.insert(
            0,
            f"{percent(rate)} of live rows break the contract "
            f"(limit {percent(limits.max_violation_rate)}); "
            f"columns: {broken}",
        )
    return {
        "violation_rate": round(rate, 6),
        "max_violation_rate": limits.max_violation_rate,
        "violations": by_rule,
        "missing": missing,
        "max_missing_increase": limits.max_missing_increase,
        "alerts": alerts,
    }


def live_performance(
    log: PredictionLog,
    settings: Settings,
    contract: Contract,
    as_of: datetime,
    model: Any = None,
) -> dict[str, Any]:
    """The success metric on predictions whose outcomes came back, overall and per slice.

    Outcomes arrive late (the charter's ground-truth delay), so the window reaches
    back `window_days + ground_truth_delay_days`. Unlabelled predictions younger
    than the delay are pending; older ones are missing, a sign the loop is broken.
    """
    limits, gate = settings.monitoring, settings.gate
    delay = timedelta(days=settings.data.ground_truth_delay_days)
    since = as_of - timedelta(days=limits.window_days) - delay
    logged = log.read_predictions(since, as_of)
    outcomes = log.read_feedback(as_of)
    if logged.empty:
        return {"status": "no predictions in the window", "labelled": 0}
    joined = logged.merge(outcomes[["prediction_id", "outcome"]], on="prediction_id", how="left")
    labelled = joined[joined["outcome"].notna()]
    unlabelled = joined[joined["outcome"].isna()]
    pending = int((unlabelled["logged_at"] > as_of - delay).sum())
    counts = {
        "metric": gate.metric,
        "threshold": gate.threshold,
        "direction": gate.direction,
        "labelled": len(labelled),
        "pending": pending,
        "missing": len(unlabelled) - pending,
    }
    if len(labelled) < limits.min_labels:
        return {
            **counts,
            "status": f"insufficient labels: {len(labelled)} < min_labels {limits.min_labels}",
        }
    value = logged_metric(gate.metric, labelled, contract)
    worse = value > gate.threshold if gate.metric in LOWER_IS_BETTER else value < gate.threshold
    slices, unmeasured = {}, {}
    for attribute in settings.data.sensitive_attributes:
        # Personal attributes are logged as their slice label only (prediction_log.py).
        column = next((c for c in (SLICE_PREFIX + attribute, attribute) if c in labelled), None)
        if column is None:
            unmeasured[attribute] = (
                "not in the prediction log: send it with each request or scoring row (a "
                "personal attribute is logged as its slice label only; a number needs a "
                "model trained since slice bins are stored)"
            )
            continue
        slices[attribute] = {
            str(group): {
                "rows": len(rows),
                gate.metric: _rounded(logged_metric(gate.metric, rows, contract)),
            }
            for group, rows in labelled.groupby(column, dropna=False)
        }
    return {
        **counts,
        "status": "measured",
        "realised_value": realised_value(
            model, labelled, settings, contract, target_type(contract)
        ),
        "value": _rounded(value),
        "below_threshold": bool(worse),
        "message": (
            f"live {gate.metric} {value:.4f} on {len(labelled)} labelled predictions misses "
            f"the threshold {gate.threshold}"
        ),
        "slices": slices,
        "unmeasured_slices": unmeasured,
    }


def percent(value: float, digits: int = 1) -> str:
    """0.125 → '12.5%' (a helper, so no f-string format spec ends in a percent sign)."""
    return format(value, f".{digits}%")


def target_type(contract: Contract) -> type:
    """The Python type of logged outcomes and predictions (they are stored as JSON)."""
    kind = contract.columns[contract.target].dtype
    return {"int": int, "float": float, "bool": bool}.get(kind, str)


def logged_metric(metric: str, rows: pd.DataFrame, contract: Contract) -> float:
    """The metric on logged rows: `outcome`, `prediction` and (for scores) `score`."""
    cast = target_type(contract)
    target = rows["outcome"].map(cast)
    predicted = rows["prediction"].map(cast)
    if metric in NEEDS_SCORES:
        scores = rows["score"].astype(float)
        return score_predictions(metric, target, None, scores, contract.positive_label)
    return score_predictions(metric, target, predicted, None, contract.positive_label)


def _rounded(value: float) -> float | None:
    return None if np.isnan(value) else round(value, 6)


def _scores(predictions: pd.DataFrame, problem_type: str) -> pd.Series:
    """What to compare for prediction drift: scores, values, or predicted classes."""
    if problem_type == "multiclass":
        return predictions["prediction"].astype(str).reset_index(drop=True)
    if problem_type == "regression":
        column = "prediction"
    else:  # binary: the logged `score`, or `probability` from a fresh prediction
        column = "score" if "score" in predictions else "probability"
    return pd.to_numeric(predictions[column], errors="coerce").reset_index(drop=True)


def _predict_valid_rows(
    model: Any, contract: Contract, frame: pd.DataFrame, problem_type: str
) -> pd.DataFrame:
    """Score the rows the contract accepts; broken rows are counted in data quality."""
    failures = contract.failure_cases(frame, contract.input_columns)
    if failures["index"].isna().any():
        return pd.DataFrame({"prediction": []})
    valid = frame.drop(index=list(failures["index"].dropna().unique()))
    return (
        predict_frame(model, valid, problem_type, contract.positive_label)
        if len(valid)
        else pd.DataFrame({"prediction": []})
    )

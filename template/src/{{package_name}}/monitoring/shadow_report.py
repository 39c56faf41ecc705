"""Champion against challenger on the same live traffic: `make shadow-report`.

Every request answered while a challenger ran in shadow (or as a canary) has both
versions' predictions in the prediction log under one prediction id. On those pairs:
- agreement: the share of rows where both predict the same label (classification),
  or the mean absolute difference of their values (regression);
- score shift: PSI and the KS test of the challenger's scores against the champion's
  (predicted labels for multiclass), as monitoring measures drift;
- where outcomes have come back: the success metric of both, each with a 95%
  bootstrap interval, and the interval of their difference on the same resampled rows;
  overall and per slice of each sensitive attribute.
The verdict says the challenger would have been better only when the whole interval
of the difference favours it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings
from ..data.contract import Contract
from ..model.metrics import LOWER_IS_BETTER, NEEDS_SCORES, score_predictions
from .drift import categorical_drift, numeric_drift
from .monitor import target_type
from .prediction_log import SLICE_PREFIX, PredictionLog

RESAMPLES = 1000


class NoPairsError(ValueError):
    """No request in the window was scored by both versions."""


def paired_predictions(
    log: PredictionLog, champion: str, challenger: str, since: datetime, until: datetime
) -> pd.DataFrame:
    """One row per request both versions scored: champion_* and challenger_* columns,
    `canary` (the challenger answered), the logged features and the latest outcome."""
    answered = log.read_predictions(since, until)
    if answered.empty:
        return answered
    answered = answered[answered["model_version"].isin([champion, challenger])]
    # Shadow rows are written just after their answer: allow for the last seconds.
    shadow = log.read_shadow(since, until + timedelta(minutes=5))
    shadow = shadow[shadow["model_version"].isin([champion, challenger])]
    both = answered.merge(
        shadow[["prediction_id", "model_version", "prediction", "score"]],
        on="prediction_id",
        suffixes=("", "_shadow"),
    )
    both = both[both["model_version"] != both["model_version_shadow"]].reset_index(drop=True)
    canary = both["model_version"] == challenger
    pairs = both.drop(columns=["prediction", "score", "prediction_shadow", "score_shadow"])
    for role, answered_it in (("champion", ~canary), ("challenger", canary)):
        for column in ("prediction", "score"):
            pairs[f"{role}_{column}"] = both[column].where(answered_it, both[f"{column}_shadow"])
    pairs["canary"] = canary
    outcomes = log.read_feedback(until + timedelta(days=366))
    return pairs.merge(outcomes[["prediction_id", "outcome"]], on="prediction_id", how="left")


def compare(
    pairs: pd.DataFrame, settings: Settings, contract: Contract, seed: int = 0
) -> dict[str, Any]:
    """Agreement, score shift and (with outcomes) both metrics on paired predictions."""
    problem_type = settings.project.problem_type
    result: dict[str, Any] = {
        "rows": len(pairs),
        "canary_rows": int(pairs["canary"].sum()),
        **_agreement(pairs, problem_type),
        "score_shift": _score_shift(pairs, problem_type),
    }
    labelled = pairs[pairs["outcome"].notna()].reset_index(drop=True)
    metric, minimum = settings.gate.metric, settings.monitoring.min_labels
    result["outcomes"] = _metrics(labelled, metric, contract, minimum, seed)
    result["verdict"] = _verdict(result["outcomes"], metric)
    slices: dict[str, dict[str, Any]] = {}
    for attribute in settings.data.sensitive_attributes:
        column = next((c for c in (SLICE_PREFIX + attribute, attribute) if c in pairs), None)
        if column is None:
            continue
        slices[attribute] = {
            str(group): {
                "rows": len(rows),
                **_agreement(rows, problem_type),
                "outcomes": _metrics(
                    rows[rows["outcome"].notna()].reset_index(drop=True),
                    metric,
                    contract,
                    minimum,
                    seed,
                ),
            }
            for group, rows in pairs.groupby(column, dropna=False)
        }
    result["slices"] = slices
    return result


def _agreement(pairs: pd.DataFrame, problem_type: str) -> dict[str, Any]:
    if problem_type == "regression":
        difference = pd.to_numeric(pairs["champion_prediction"]) - pd.to_numeric(
            pairs["challenger_prediction"]
        )
        return {"agreement": None, "mean_absolute_difference": _round(difference.abs().mean())}
    same = pairs["champion_prediction"].astype(str) == pairs["challenger_prediction"].astype(str)
    return {"agreement": _round(same.mean()), "mean_absolute_difference": None}


def _score_shift(pairs: pd.DataFrame, problem_type: str) -> dict[str, Any]:
    if problem_type == "multiclass":
        champion = pairs["champion_prediction"].astype(str)
        value, p_value, _ = categorical_drift(champion, pairs["challenger_prediction"].astype(str))
        return {"of": "predicted classes", "psi": _round(value), "p_value": _round(p_value)}
    column = "score" if problem_type == "binary" else "prediction"
    value, p_value = numeric_drift(pairs[f"champion_{column}"], pairs[f"challenger_{column}"])
    of = "positive-class probabilities" if problem_type == "binary" else "predicted values"
    return {"of": of, "psi": _round(value), "p_value": _round(p_value)}


def _metrics(
    labelled: pd.DataFrame, metric: str, contract: Contract, minimum: int, seed: int
) -> dict[str, Any]:
    """Both versions' metric with 95% bootstrap intervals, and their difference
    (challenger minus champion) on the same resampled rows."""
    found: dict[str, Any] = {"labelled": len(labelled), "metric": metric}
    if len(labelled) < minimum:
        found["status"] = f"too few outcomes: {len(labelled)} < [monitoring] min_labels {minimum}"
        return found
    cast = target_type(contract)
    target = labelled["outcome"].map(cast).to_numpy()
    scored = metric in NEEDS_SCORES
    column = "score" if scored else "prediction"
    outputs = {
        role: labelled[f"{role}_{column}"].map(float if scored else cast).to_numpy()
        for role in ("champion", "challenger")
    }

    def measured(rows: np.ndarray) -> tuple[float, float]:
        champion, challenger = (
            score_predictions(
                metric,
                target[rows],
                None if scored else outputs[role][rows],
                outputs[role][rows] if scored else None,
                contract.positive_label,
            )
            for role in ("champion", "challenger")
        )
        return champion, challenger

    champion, challenger = measured(np.arange(len(labelled)))
    rng = np.random.default_rng(seed)
    resampled = []
    for _ in range(RESAMPLES):
        values = measured(rng.integers(0, len(labelled), len(labelled)))
        if not np.isnan(values).any():
            resampled.append(values)
    found["status"] = "measured"
    found["champion"] = _round(champion)
    found["challenger"] = _round(challenger)
    found["difference"] = _round(challenger - champion)
    if len(resampled) >= RESAMPLES // 2:
        draws = np.array(resampled)
        found["champion_interval"] = _interval(draws[:, 0])
        found["challenger_interval"] = _interval(draws[:, 1])
        found["difference_interval"] = _interval(draws[:, 1] - draws[:, 0])
    return found


def _verdict(outcomes: dict[str, Any], metric: str) -> str:
    if outcomes["status"] != "measured":
        return f"undecided: {outcomes['status']}"
    if "difference_interval" not in outcomes:
        return "undecided: the metric is undefined on too many resamples"
    low, high = outcomes["difference_interval"]
    better_is_lower = metric in LOWER_IS_BETTER
    if (high < 0) if better_is_lower else (low > 0):
        return "challenger better: it would have beaten the champion on these outcomes"
    if (low > 0) if better_is_lower else (high < 0):
        return "challenger worse: the champion did better on these outcomes"
    return "no clear difference: the 95% interval of the difference includes zero"


def _interval(values: np.ndarray) -> list[float | None]:
    low, high = np.percentile(values, [2.5, 97.5])
    return [_round(low), _round(high)]


def _round(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else round(value, 6)


def render_markdown(report: dict[str, Any]) -> str:
    outcomes = report["outcomes"]
    shift = report["score_shift"]
    lines = [
        f"# Shadow report: challenger v{report['challenger']} against champion "
        f"v{report['champion']}",
        "",
        f"{report['since']} to {report['until']}: {report['rows']} requests scored by both "
        f"({report['canary_rows']} answered by the challenger as a canary).",
        "",
        f"**Verdict: {report['verdict']}.**",
        "",
        "| Measure | Value |",
        "|---|---|",
        f"| Agreement | {_shown(report['agreement'])} |",
        f"| Mean absolute difference | {_shown(report['mean_absolute_difference'])} |",
        f"| Shift of {shift['of']} (PSI) | {_shown(shift['psi'])} |",
        f"| Shift p-value (KS / chi-squared) | {_shown(shift['p_value'])} |",
        f"| Outcomes | {outcomes['labelled']} |",
    ]
    if outcomes["status"] == "measured":
        for role in ("champion", "challenger", "difference"):
            interval = outcomes.get(f"{role}_interval")
            span = f" (95% interval {interval[0]} to {interval[1]})" if interval else ""
            lines.append(f"| {outcomes['metric']}: {role} | {_shown(outcomes[role])}{span} |")
    else:
        lines.append(f"| {outcomes['metric']} | {outcomes['status']} |")
    for attribute, groups in report["slices"].items():
        lines += ["", f"## By {attribute}", ""]
        lines += [f"| {attribute} | Rows | Agreement | Outcomes | Champion | Challenger |"]
        lines += ["|---|---|---|---|---|---|"]
        for group, values in groups.items():
            measured = values["outcomes"]
            lines.append(
                f"| {group} | {values['rows']} | {_shown(values['agreement'])} | "
                f"{measured['labelled']} | {_shown(measured.get('champion'))} | "
                f"{_shown(measured.get('challenger'))} |"
            )
    return "\n".join(lines) + "\n"


def _shown(value: Any) -> str:
    return "n/a" if value is None else str(value)


def shadow_report(
    settings: Settings, contract: Contract, champion: str, challenger: str, as_of: datetime
) -> dict[str, Any]:
    """Compare the two versions on the monitoring window (plus the outcome delay), and
    write reports/shadow.md and shadow.json."""
    delay = timedelta(days=settings.data.ground_truth_delay_days)
    since = as_of - timedelta(days=settings.monitoring.window_days) - delay
    log = PredictionLog(settings.monitoring.prediction_log_url)
    pairs = paired_predictions(log, champion, challenger, since, as_of)
    if pairs.empty:
        raise NoPairsError(
            f"no request since {since:%Y-%m-%d} was scored by both v{champion} and "
            f'v{challenger}: set [shadow] version = "{challenger}" and let the service (or '
            "the batch job) run on traffic first"
        )
    report = {
        "champion": champion,
        "challenger": challenger,
        "since": since.isoformat(timespec="seconds"),
        "until": as_of.isoformat(timespec="seconds"),
        **compare(pairs, settings, contract, seed=settings.project.seed),
    }
    folder: Path = settings.reports.path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shadow.json").write_text(json.dumps(report, indent=2) + "\n")
    (folder / "shadow.md").write_text(render_markdown(report))
    return report

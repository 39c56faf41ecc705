"""Holdout evaluation, shared by training (before the gate) and `evaluate` (the champion)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from ..config import Settings
from ..data.contract import Contract
from ..data.loading import load_validated
from ..data.sources import describe_source
from ..registry import lineage, load_champion, open_registry
from .baselines import RuleModel
from .estimators import build_baseline
from .metrics import guardrail_values, positive_column, score, slice_scores
from .report import write_reports
from .rule import team_rule
from .value import value_report


@dataclass(frozen=True)
class Split:
    train_x: pd.DataFrame
    train_y: pd.Series
    holdout_x: pd.DataFrame
    holdout_y: pd.Series
    # How the holdout was chosen, for the report: "random ..." or "time ...".
    method: str = "random"


def time_column(contract: Contract, settings: Settings) -> str | None:
    """The column a time-based split orders by: [data] time_column, else the
    contract's first date column; None when the split is random."""
    if settings.data.split == "random":
        return None
    if settings.data.time_column:
        if settings.data.time_column not in contract.columns:
            raise ValueError(
                f"[data] time_column {settings.data.time_column!r} is not a contract column"
            )
        return settings.data.time_column
    dates = [name for name, spec in contract.columns.items() if spec.dtype == "date"]
    if not dates and settings.data.split == "time":
        raise ValueError("[data] split = 'time' needs a date column in the contract or time_column")
    return dates[0] if dates else None


def split_holdout(frame: pd.DataFrame, contract: Contract, settings: Settings) -> Split:
    """The most recent rows when the data has a time column, so the evaluation never
    learns from the future; otherwise a seeded split, stratified for classification."""
    features = frame.drop(columns=[contract.target])
    target = frame[contract.target]
    column = time_column(contract, settings)
    if column is not None:
        order = pd.to_datetime(frame[column]).sort_values(kind="stable").index
        cut = len(order) - max(1, round(len(order) * settings.data.holdout_fraction))
        train, holdout = order[:cut], order[cut:]
        start = pd.to_datetime(frame.loc[holdout, column]).min()
        return Split(
            features.loc[train],
            target.loc[train],
            features.loc[holdout],
            target.loc[holdout],
            f"time: the most recent {len(holdout)} rows by {column}, from {start.date()}",
        )
    stratify = None if settings.project.problem_type == "regression" else target
    train_x, holdout_x, train_y, holdout_y = train_test_split(
        features,
        target,
        test_size=settings.data.holdout_fraction,
        random_state=settings.project.seed,
        stratify=stratify,
    )
    method = "random: seeded" + (", stratified by class" if stratify is not None else "")
    return Split(train_x, train_y, holdout_x, holdout_y, method)


def assess(
    settings: Settings,
    model: Pipeline,
    baseline: Pipeline,
    split: Split,
    positive: Any = 1,
    rule: RuleModel | None = None,
) -> dict[str, Any]:
    """Metric of the model, the trivial baseline and the team's rule on the holdout,
    and of the model and the rule per sensitive slice."""
    metric = settings.gate.metric
    attributes = settings.data.sensitive_attributes
    min_rows, seed = settings.gate.slice_min_rows, settings.project.seed
    rule_result: dict[str, Any] = {"rule_name": None, "rule": None, "rule_slices": {}}
    if rule is not None:
        rule_result["rule_name"] = rule.name
        if rule.written(split.holdout_x):
            holdout_x, holdout_y = split.holdout_x, split.holdout_y
            rule_score = score(metric, rule, holdout_x, holdout_y, positive)
            rule_result["rule"] = round(rule_score, 6)
            rule_result["rule_slices"] = slice_scores(
                metric, rule, holdout_x, holdout_y, attributes, positive, min_rows, seed
            )
    written_rule = rule if rule_result["rule"] is not None else None
    return {
        **rule_result,
        "metric": metric,
        "direction": settings.gate.direction,
        "model": round(score(metric, model, split.holdout_x, split.holdout_y, positive), 6),
        "baseline": round(score(metric, baseline, split.holdout_x, split.holdout_y, positive), 6),
        "holdout_rows": len(split.holdout_y),
        "split": split.method,
        "decision": _decision(settings, model, written_rule, split, positive),
        "guardrails": guardrail_values(
            settings.gate.guardrails,
            settings.project.problem_type,
            model,
            split.holdout_x,
            split.holdout_y,
            positive,
        ),
        "slices": slice_scores(
            metric,
            model,
            split.holdout_x,
            split.holdout_y,
            attributes,
            positive,
            min_rows,
            seed,
        ),
    }


def _decision(
    settings: Settings, model: Pipeline, rule: RuleModel | None, split: Split, positive: Any
) -> dict[str, Any] | None:
    """Operating point and value per period of the model, the team's rule and doing
    nothing ([decision], binary problems)."""
    if settings.decision is None or settings.project.problem_type != "binary":
        return None
    column = positive_column(model, positive)
    positives = (split.holdout_y == model.classes_[column]).to_numpy()
    model_scores = model.predict_proba(split.holdout_x)[:, column]
    rule_scores = None if rule is None else rule.predict_proba(split.holdout_x)[:, column]
    return value_report(model_scores, rule_scores, positives, settings.decision)


def evaluate_champion(settings: Settings) -> dict[str, Any]:
    """Re-evaluate the current champion on the holdout and refresh the reports."""
    contract, frame = load_validated(settings)
    split = split_holdout(frame, contract, settings)
    registry = open_registry(settings.registry)
    model, version = load_champion(registry)
    baseline = build_baseline(
        settings.project.problem_type, contract, settings.data.not_features
    ).fit(split.train_x, split.train_y)
    rule = RuleModel(team_rule, baseline, contract.positive_label)
    result = assess(settings, model, baseline, split, contract.positive_label, rule)
    report = {
        "model_version": version,
        "evaluation": result,
        "gate": None,
        "lineage": lineage.collect(frame, describe_source(settings.data)),
        "thresholds": settings.gate.model_dump(),
    }
    write_reports(settings, report, update_model_card=True)
    return report

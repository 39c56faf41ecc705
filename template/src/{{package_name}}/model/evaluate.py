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
from .metrics import guardrail_values, score, slice_scores
from .report import write_reports
from .rule import team_rule


@dataclass(frozen=True)
class Split:
    train_x: pd.DataFrame
    train_y: pd.Series
    holdout_x: pd.DataFrame
    holdout_y: pd.Series


def split_holdout(frame: pd.DataFrame, contract: Contract, settings: Settings) -> Split:
    """A seeded split; stratified for classification so every class is in the holdout."""
    features = frame.drop(columns=[contract.target])
    target = frame[contract.target]
    stratify = None if settings.project.problem_type == "regression" else target
    train_x, holdout_x, train_y, holdout_y = train_test_split(
        features,
        target,
        test_size=settings.data.holdout_fraction,
        random_state=settings.project.seed,
        stratify=stratify,
    )
    return Split(train_x, train_y, holdout_x, holdout_y)


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
    return {
        **rule_result,
        "metric": metric,
        "direction": settings.gate.direction,
        "model": round(score(metric, model, split.holdout_x, split.holdout_y, positive), 6),
        "baseline": round(score(metric, baseline, split.holdout_x, split.holdout_y, positive), 6),
        "holdout_rows": len(split.holdout_y),
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

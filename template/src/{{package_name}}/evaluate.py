"""Holdout evaluation, shared by training (before the gate) and `evaluate` (the champion)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from . import lineage
from .config import Settings
from .contract import Contract, load_contract
from .data import describe_source, load_training_frame
from .metrics import score, slice_scores
from .model import build_baseline
from .registry import load_champion, open_registry
from .report import write_reports

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Split:
    train_x: pd.DataFrame
    train_y: pd.Series
    holdout_x: pd.DataFrame
    holdout_y: pd.Series


def load_validated(settings: Settings) -> tuple[Contract, pd.DataFrame]:
    """Load the training data and check it against the contract (raises ContractError)."""
    contract = load_contract(settings.data.contract)
    frame = load_training_frame(settings.data)
    logger.info("loaded %d rows, %d columns", len(frame), frame.shape[1])
    contract.check_training_table(frame, settings.data.max_duplicate_share)
    frame = contract.check(frame, with_target=True)
    missing = [a for a in settings.data.sensitive_attributes if a not in contract.columns]
    if missing:
        raise ValueError(
            f"sensitive attribute(s) {missing} are not columns of the contract "
            f"({settings.data.contract}); add them or remove them from [data]"
        )
    return contract, frame


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
    settings: Settings, model: Pipeline, baseline: Pipeline, split: Split, positive: Any = 1
) -> dict[str, Any]:
    """Metric of the model and the baseline on the holdout, and per sensitive slice."""
    metric = settings.gate.metric
    return {
        "metric": metric,
        "direction": settings.gate.direction,
        "model": round(score(metric, model, split.holdout_x, split.holdout_y, positive), 6),
        "baseline": round(score(metric, baseline, split.holdout_x, split.holdout_y, positive), 6),
        "holdout_rows": len(split.holdout_y),
        "slices": slice_scores(
            metric,
            model,
            split.holdout_x,
            split.holdout_y,
            settings.data.sensitive_attributes,
            positive,
        ),
    }


def evaluate_champion(settings: Settings) -> dict[str, Any]:
    """Re-evaluate the current champion on the holdout and refresh the reports."""
    contract, frame = load_validated(settings)
    split = split_holdout(frame, contract, settings)
    registry = open_registry(settings.registry)
    model, version = load_champion(registry)
    baseline = build_baseline(
        settings.project.problem_type, contract, settings.data.personal_data
    ).fit(split.train_x, split.train_y)
    result = assess(settings, model, baseline, split, contract.positive_label)
    report = {
        "model_version": version,
        "evaluation": result,
        "gate": None,
        "lineage": lineage.collect(frame, describe_source(settings.data)),
        "thresholds": settings.gate.model_dump(),
    }
    write_reports(settings, report, update_model_card=True)
    return report

"""Training: contract → baseline and candidate → holdout evaluation → gate → registry.

A candidate becomes champion only when the gate passes; otherwise the run is
recorded, nothing is promoted and the champion stays as it was. With
[registry] promotion = "pull_request" a passing candidate is registered and proposed
for review instead (promotion.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..data.loading import load_validated
from ..data.sources import describe_source
from ..registry import lineage, open_registry
from ..registry.base import TrainingData
from ..registry.continuity import check_not_reset
from ..registry.promotion import write_proposal
from ..registry.training_lock import training_lock
from .baselines import RuleModel
from .estimators import build_baseline
from .evaluate import assess, split_holdout, used_columns
from .gate import GateResult
from .report import write_reports
from .rule import team_rule
from .selection import select_candidate
from .verdict import judge, score_champion

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingOutcome:
    gate: GateResult
    version: str | None
    report: dict[str, Any]
    promoted: bool
    # The champion this run's data, code and config are identical to: nothing registered.
    identical_to: str | None = None


def train(settings: Settings, *, reset_acknowledged: bool = False) -> TrainingOutcome:
    """`reset_acknowledged`: train although the registry forgot versions the prediction
    log remembers (registry/continuity.py). One training of a registry at a time: a
    second waits for the first (registry/training_lock.py)."""
    with training_lock(settings.registry):
        return _train(settings, reset_acknowledged=reset_acknowledged)


def _train(settings: Settings, *, reset_acknowledged: bool) -> TrainingOutcome:
    problem_type = settings.project.problem_type
    hidden = settings.data.not_features  # personal data, sensitive attributes
    registry = open_registry(settings.registry)
    log_url = settings.monitoring.prediction_log_url
    check_not_reset(registry, log_url, acknowledged=reset_acknowledged)
    logger.info("[1/5] loading data and checking the contract")
    contract, frame = load_validated(settings)
    split = split_holdout(frame, contract, settings)

    logger.info(
        "[2/5] fitting the baseline and searching the candidate on %d rows", len(split.train_y)
    )
    baseline = build_baseline(problem_type, contract, hidden).fit(split.train_x, split.train_y)
    selection = select_candidate(
        problem_type,
        contract,
        hidden,
        settings.model,
        settings.project.seed,
        settings.gate.metric,
        split.train_x,
        split.train_y,
        split.ordered_by,
    )
    candidate = selection.pipeline
    logger.info("chose %s %s", selection.family, selection.params)

    logger.info("[3/5] evaluating on %d holdout rows", len(split.holdout_y))
    rule = RuleModel(team_rule, baseline, contract.positive_label)
    evaluation, predictions = assess(
        settings, candidate, baseline, split, contract.positive_label, rule
    )
    champion_version, champion_score = score_champion(settings, registry, split, contract)
    evaluation["champion"] = champion_score

    logger.info("[4/5] applying the quality gate")
    if evaluation["rule"] is None:
        logger.info("the team's rule (model/rule.py) is not written yet: the prior stands in")
    decision = evaluation["decision"]
    if decision is not None and "threshold" in decision["model"]:
        # The operating point travels with the model: batch scoring and the API use it.
        candidate.operating_point_ = decision["model"]["threshold"]
    # Slice bins travel too: live monitoring labels personal attributes with them.
    candidate.slice_edges_ = evaluation["slice_edges"]
    gate = judge(settings, evaluation, champion_score)
    source = describe_source(settings.data)
    data_lineage = lineage.collect(frame, source, settings)
    identical_to = None
    if champion_version is not None:
        recorded = registry.report(champion_version) or {}
        if lineage.same_inputs(data_lineage, recorded.get("lineage")):
            identical_to = champion_version
            logger.info(
                "data, code and config are identical to champion v%s's: the run is recorded, "
                "no new version is registered",
                champion_version,
            )
    data = TrainingData.redacted(split.train_x, split.train_y, settings.data.personal_data, source)
    metrics = {
        "holdout_" + settings.gate.metric: evaluation["model"],
        "baseline_" + settings.gate.metric: evaluation["baseline"],
    }
    if evaluation["rule"] is not None:
        metrics["rule_" + settings.gate.metric] = evaluation["rule"]
    if selection.cv_score is not None:
        metrics["cv_" + settings.gate.metric] = selection.cv_score
    params = {
        "estimator": type(candidate[-1]).__name__,
        "family": selection.family,
        "seed": settings.project.seed,
        **{f"model.{name}": value for name, value in selection.params.items()},
    }

    report: dict[str, Any] = {
        "model_version": None,
        "evaluation": evaluation,
        "selection": selection.summary(),
        "features": used_columns(candidate),
        "gate": gate.as_report(),
        "lineage": data_lineage,
        "thresholds": settings.gate.model_dump(),
        "identical_to": identical_to,
    }
    automatic = settings.registry.promotion == "automatic"
    new = gate.passed and identical_to is None
    action = (" and promoting" if automatic else " and proposing") if new else ""
    logger.info("[5/5] recording the run%s", action)
    version = registry.record(
        candidate, metrics, params, data_lineage, register=new, data=data, report=report
    )
    report["model_version"] = version
    # Reports first, promotion last: a failure on the way leaves the champion as it was.
    write_reports(settings, report, predictions, update_model_card=new)
    promoted = False
    if new and version is not None and automatic:
        registry.promote(version)
        promoted = True
    if new and not automatic:
        write_proposal(settings.registry, registry, report)
    return TrainingOutcome(
        gate=gate, version=version, report=report, promoted=promoted, identical_to=identical_to
    )

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
from ..registry.promotion import write_proposal
from .baselines import RuleModel
from .estimators import build_baseline, build_candidate
from .evaluate import assess, split_holdout
from .gate import GateResult, Guardrail, RuleScore, SliceScore, ValueScore, evaluate_gate
from .metrics import score
from .report import write_reports
from .rule import team_rule

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingOutcome:
    gate: GateResult
    version: str | None
    report: dict[str, Any]
    promoted: bool


def _value_check(settings: Settings, evaluation: dict[str, Any]) -> ValueScore | None:
    """The model must be worth more per period than the team's rule (or than doing
    nothing while the rule is not written), when [decision] gate_on_value is set."""
    decision = evaluation["decision"]
    if decision is None or settings.decision is None or not settings.decision.gate_on_value:
        return None
    model = decision["model"]["value_per_period"]
    if decision["rule"] is not None:
        name = f"the team's rule ({evaluation['rule_name']})"
        return ValueScore(model, decision["rule"]["value_per_period"], name, decision["period"])
    return ValueScore(model, decision["do_nothing_per_period"], "doing nothing", decision["period"])


def train(settings: Settings) -> TrainingOutcome:
    problem_type = settings.project.problem_type
    hidden = settings.data.not_features  # personal data, sensitive attributes
    logger.info("[1/5] loading data and checking the contract")
    contract, frame = load_validated(settings)
    split = split_holdout(frame, contract, settings)

    logger.info("[2/5] fitting baseline and candidate on %d rows", len(split.train_y))
    baseline = build_baseline(problem_type, contract, hidden).fit(split.train_x, split.train_y)
    candidate = build_candidate(problem_type, contract, hidden, settings.project.seed)
    candidate.fit(split.train_x, split.train_y)

    logger.info("[3/5] evaluating on %d holdout rows", len(split.holdout_y))
    rule = RuleModel(team_rule, baseline, contract.positive_label)
    evaluation = assess(settings, candidate, baseline, split, contract.positive_label, rule)
    registry = open_registry(settings.registry)
    champion_version = registry.champion_version()
    champion_score = None
    if champion_version is not None:
        champion = registry.load(champion_version)
        try:
            champion_score = score(
                settings.gate.metric,
                champion,
                split.holdout_x,
                split.holdout_y,
                contract.positive_label,
            )
        except (KeyError, ValueError) as error:
            # Trained on other columns (the sample, or an older contract): no fair comparison.
            logger.warning(
                "champion v%s cannot score this data (%s): it was trained on another "
                "contract, so the gate does not compare with it",
                champion_version,
                error,
            )
    evaluation["champion"] = champion_score

    logger.info("[4/5] applying the quality gate")
    measured = evaluation["rule"]
    rule_score = None if measured is None else RuleScore(evaluation["rule_name"], measured)
    if rule_score is None:
        logger.info("the team's rule (model/rule.py) is not written yet: the prior stands in")
    worth = _value_check(settings, evaluation)
    decision = evaluation["decision"]
    if decision is not None:
        # The operating point travels with the model: batch scoring and the API use it.
        candidate.operating_point_ = decision["model"]["threshold"]
    guardrails = [Guardrail(**values) for values in evaluation["guardrails"]]
    slices = []
    for attribute, groups in evaluation["slices"].items():
        for group, values in groups.items():
            if values["judged"]:
                interval = tuple(values["interval"]) if values["interval"] else None
                value = values[settings.gate.metric]
                slices.append(SliceScore(attribute, group, values["rows"], value, interval))
            else:
                logger.warning(
                    "slice %s=%s: too small to judge (%d holdout rows, fewer than %d)",
                    attribute,
                    group,
                    values["rows"],
                    settings.gate.slice_min_rows,
                )
    gate = evaluate_gate(
        settings.gate,
        evaluation["model"],
        evaluation["baseline"],
        champion_score,
        rule_score,
        guardrails,
        slices,
        worth,
    )
    data_lineage = lineage.collect(frame, describe_source(settings.data))
    metrics = {
        "holdout_" + settings.gate.metric: evaluation["model"],
        "baseline_" + settings.gate.metric: evaluation["baseline"],
    }
    if measured is not None:
        metrics["rule_" + settings.gate.metric] = measured
    params = {"estimator": type(candidate[-1]).__name__, "seed": settings.project.seed}

    automatic = settings.registry.promotion == "automatic"
    action = (" and promoting" if automatic else " and proposing") if gate.passed else ""
    logger.info("[5/5] recording the run%s", action)
    version = registry.record(candidate, metrics, params, data_lineage, register=gate.passed)
    promoted = False
    if gate.passed and version is not None and automatic:
        registry.promote(version)
        promoted = True
    report = {
        "model_version": version,
        "evaluation": evaluation,
        "gate": {
            "passed": gate.passed,
            "checks": [
                {"name": c.name, "passed": c.passed, "message": c.message} for c in gate.checks
            ],
        },
        "lineage": data_lineage,
        "thresholds": settings.gate.model_dump(),
    }
    write_reports(settings, report, update_model_card=gate.passed)
    if gate.passed and not automatic:
        write_proposal(settings.registry, registry, report)
    return TrainingOutcome(gate=gate, version=version, report=report, promoted=promoted)

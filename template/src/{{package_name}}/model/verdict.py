"""The quality gate's inputs gathered from a holdout evaluation.

Shared by training (a new candidate) and challenger promotion (a registered version
promoted from shadow), so both face exactly the same gate.
"""

from __future__ import annotations

import logging
from typing import Any

from ..config import Settings
from ..data.contract import Contract
from ..registry import Registry, RegistryFault
from .evaluate import Split
from .gate import (
    FairnessGap,
    GateResult,
    Guardrail,
    RuleScore,
    SliceScore,
    ValueScore,
    evaluate_gate,
)
from .metrics import score

logger = logging.getLogger(__name__)


def score_champion(
    settings: Settings, registry: Registry, split: Split, contract: Contract
) -> tuple[str | None, float | None]:
    """The champion's version and its metric on this holdout (None: no fair comparison)."""
    version = registry.champion_version()
    if version is None:
        return None, None
    try:
        champion = registry.load(version)
    except RegistryFault as error:
        # A stored champion that is corrupt or gone: `make train`, which the fault's
        # message advises, replaces it if the candidate passes the rest of the gate (a
        # store that is down fails recording the candidate, so nothing is promoted).
        logger.warning(
            "champion v%s cannot be loaded, so the gate does not compare with it: %s",
            version,
            error,
        )
        return version, None
    try:
        value = score(
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
            version,
            error,
        )
        return version, None
    return version, value


def judge(
    settings: Settings, evaluation: dict[str, Any], champion_score: float | None
) -> GateResult:
    """Apply the gate to an evaluation (evaluate.assess) against the champion's score."""
    measured = evaluation["rule"]
    rule_score = None if measured is None else RuleScore(evaluation["rule_name"], measured)
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
    return evaluate_gate(
        settings.gate,
        evaluation["model"],
        evaluation["baseline"],
        champion_score,
        rule_score,
        guardrails,
        slices,
        value_check(settings, evaluation),
        fairness_gaps(evaluation),
    )


def fairness_gaps(evaluation: dict[str, Any]) -> list[FairnessGap]:
    """The gaps model/fairness.py measured, for attributes with two judged groups."""
    return [
        FairnessGap(
            attribute,
            gap["metric"],
            gap["value"],
            (gap["interval"][0], gap["interval"][1]),
            gap["lowest"],
            gap["highest"],
        )
        for attribute, result in evaluation.get("fairness", {}).items()
        if (gap := result["gap"])["interval"] is not None
    ]


def value_check(settings: Settings, evaluation: dict[str, Any]) -> ValueScore | None:
    """The model must be worth more per period than the better of the team's rule and
    untargeted action, when [decision] gate_on_value is set; for a regression, its
    errors must cost less than the rule's (or the mean's)."""
    decision = evaluation["decision"]
    if decision is None or settings.decision is None or not settings.decision.gate_on_value:
        return None
    if decision.get("kind") == "error_cost":
        model_cost, period = decision["model"]["cost_per_period"], decision["period"]
        if decision["rule"] is not None:
            name = f"the team's rule ({evaluation['rule_name']})"
            return ValueScore(model_cost, decision["rule"]["cost_per_period"], name, period, True)
        baseline = decision["baseline"]["cost_per_period"]
        return ValueScore(model_cost, baseline, "the trivial baseline (the mean)", period, True)
    model, period = decision["model"]["value_per_period"], decision["period"]
    untargeted = decision.get("untargeted_per_period")
    if untargeted is None:  # a report written before untargeted action was measured
        untargeted, name = decision["do_nothing_per_period"], "doing nothing"
    elif decision["policy"] == "capacity":
        name = "untargeted action at capacity, as many cases at random"
    else:
        name = "untargeted action, on every case or on none"
    rule = decision["rule"]
    if rule is not None and rule["value_per_period"] >= untargeted:
        name = f"the team's rule ({evaluation['rule_name']})"
        return ValueScore(model, rule["value_per_period"], name, period)
    return ValueScore(model, untargeted, name, period)

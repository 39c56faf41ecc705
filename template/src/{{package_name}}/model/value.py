"""What acting on the model's scores is worth, in the product owner's units (binary),
or what a regression's errors cost (error_cost_report).

A binary decision: act on a case (call the customer) or not. Each action costs
`cost_of_an_action`; acting on a positive case is worth `value_of_a_hit`; a positive
case left alone costs `cost_of_a_miss`. The policy is either a capacity (act on the
`capacity` highest scores among `volume` cases per period) or a score threshold
chosen to maximise the expected value on the holdout. The chosen threshold is the
operating point that batch scoring and the API use to return a decision.

Under a capacity every scorer (the model, the team's rule, the prior) acts on exactly
as many cases as the capacity allows, ties broken by a seeded draw: a 0/1 rule that
flags fewer cases than the capacity is not credited with acting on everyone. What
acting without a model is worth, the reference a model must beat when no rule is
written, is untargeted action: the capacity's share of cases at random, or under a
threshold the better of acting on every case and on none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..config import DecisionSettings, ErrorCostSettings
from .metrics import bootstrap_mean_interval


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float | None  # the lowest score acted on; None: no action
    actions: int
    hits: int
    false_alarms: int
    misses: int
    value_per_case: float
    value_per_period: float
    precision: float
    recall: float
    lift: float


def value_of(hits: int, false_alarms: int, misses: int, decision: DecisionSettings) -> float:
    """The total value of a set of decisions (a correct "don't act" is worth nothing)."""
    gain = decision.value_of_a_hit - decision.cost_of_an_action
    return (
        hits * gain - false_alarms * decision.cost_of_an_action - misses * decision.cost_of_a_miss
    )


def _point(
    scores: np.ndarray, positives: np.ndarray, act: np.ndarray, decision: DecisionSettings
) -> OperatingPoint:
    hits = int(np.sum(act & positives))
    false_alarms = int(np.sum(act & ~positives))
    misses = int(np.sum(~act & positives))
    actions = int(np.sum(act))
    per_case = value_of(hits, false_alarms, misses, decision) / len(scores)
    base_rate = positives.mean() if len(positives) else 0.0
    precision = hits / actions if actions else 0.0
    return OperatingPoint(
        threshold=float(scores[act].min()) if actions else None,
        actions=actions,
        hits=hits,
        false_alarms=false_alarms,
        misses=misses,
        value_per_case=round(per_case, 6),
        value_per_period=round(per_case * decision.volume, 2),
        precision=round(precision, 6),
        recall=round(hits / positives.sum(), 6) if positives.sum() else 0.0,
        lift=round(precision / base_rate, 6) if base_rate else 0.0,
    )


def capacity_share(decision: DecisionSettings) -> float:
    """The share of cases the team can act on."""
    return min(decision.capacity / decision.volume, 1.0)


def top_cases(scores: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """Exactly round(share x cases) cases (at least one) with the highest scores; among
    equal scores, a seeded draw decides which are acted on."""
    scores = np.asarray(scores, dtype=float)
    k = min(max(round(len(scores) * share), 1), len(scores))
    tie_break = np.random.default_rng(seed).permutation(len(scores))
    order = np.lexsort((tie_break, -scores))  # the last key sorts first
    act = np.zeros(len(scores), dtype=bool)
    act[order[:k]] = True
    return act


def random_action_value(positives: np.ndarray, decision: DecisionSettings, share: float) -> float:
    """Expected value per case of acting on `share` of the cases drawn at random: that
    share of every hit and false alarm, the rest of the positives missed."""
    positives = np.asarray(positives, dtype=bool)
    cases, hits = len(positives), int(positives.sum())
    acted = share * value_of(hits, cases - hits, 0, decision)
    left = (1 - share) * value_of(0, 0, hits, decision)
    return (acted + left) / cases if cases else 0.0


def untargeted_value(positives: np.ndarray, decision: DecisionSettings) -> float:
    """Expected value per case of acting without a model: a capacity's share of cases at
    random, or under a threshold the better of acting on every case and on none."""
    if decision.policy == "capacity":
        return random_action_value(positives, decision, capacity_share(decision))
    return max(random_action_value(positives, decision, share) for share in (0.0, 1.0))


def operating_point(
    scores: np.ndarray, positives: np.ndarray, decision: DecisionSettings
) -> OperatingPoint:
    """The decisions the policy makes on these scores, and what they are worth."""
    scores, positives = np.asarray(scores, dtype=float), np.asarray(positives, dtype=bool)
    if decision.policy == "capacity":
        return _point(scores, positives, top_cases(scores, capacity_share(decision)), decision)
    candidates = [_point(scores, positives, scores >= t, decision) for t in np.unique(scores)]
    candidates.append(_point(scores, positives, np.zeros(len(scores), bool), decision))
    # The best value; on a tie, the fewest actions.
    return max(candidates, key=lambda point: (point.value_per_case, -point.actions))


def acted_on(scores: np.ndarray, positives: np.ndarray, decision: DecisionSettings) -> np.ndarray:
    """Which cases the policy acts on: under a capacity the top cases, under a threshold
    those at or above the threshold worth the most."""
    scores = np.asarray(scores, dtype=float)
    if decision.policy == "capacity":
        return top_cases(scores, capacity_share(decision))
    threshold = operating_point(scores, positives, decision).threshold
    return np.zeros(len(scores), dtype=bool) if threshold is None else scores >= threshold


def case_values(acted: np.ndarray, positives: np.ndarray, decision: DecisionSettings) -> np.ndarray:
    """What each case's decision is worth: a hit, a wasted action, a miss, or nothing."""
    acted, positives = np.asarray(acted, dtype=bool), np.asarray(positives, dtype=bool)
    gain = decision.value_of_a_hit - decision.cost_of_an_action
    return np.select(
        [acted & positives, acted & ~positives, ~acted & positives],
        [gain, -decision.cost_of_an_action, -decision.cost_of_a_miss],
        0.0,
    )


def per_period_interval(per_case: np.ndarray, volume: int, seed: int) -> list[float] | None:
    """A seeded 95% bootstrap interval of a per-case amount, per period (x volume)."""
    interval = bootstrap_mean_interval(per_case, seed)
    return None if interval is None else [round(bound * volume, 2) for bound in interval]


def value_report(
    model_scores: np.ndarray,
    rule_scores: np.ndarray | None,
    positives: np.ndarray,
    decision: DecisionSettings,
    seed: int = 0,
) -> dict[str, Any]:
    """The model's operating point and value (with a bootstrap interval: the same
    decisions on resampled cases), the team's rule's, untargeted action's and doing
    nothing's."""
    positives = np.asarray(positives, dtype=bool)
    acted = acted_on(model_scores, positives, decision)
    nothing = value_of(0, 0, int(positives.sum()), decision) / len(positives)
    untargeted = untargeted_value(positives, decision)
    shares, values = value_curve(model_scores, positives, decision)
    best = int(np.argmax(values))  # the most valuable share to act on, capacity aside
    return {
        "policy": decision.policy,
        "period": decision.period,
        "model": asdict(operating_point(model_scores, positives, decision)),
        "rule": None
        if rule_scores is None
        else asdict(operating_point(rule_scores, positives, decision)),
        "do_nothing_per_period": round(nothing * decision.volume, 2),
        "untargeted_per_period": round(untargeted * decision.volume, 2),
        "model_interval_per_period": per_period_interval(
            case_values(acted, positives, decision), decision.volume, seed
        ),
        "acted_share": round(float(np.mean(acted)), 6),
        "best_share": round(float(shares[best]), 6),
        "best_per_period": round(float(values[best]), 2),
    }


# What training stores on the model for monitoring to hold it to (realised_value.py):
# {"kind": "value" | "cost", "per_case": float}.
PROMISE_ATTRIBUTE = "promised_value_"


def promise(decision: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a training report's decision promises per case."""
    if decision is None:
        return None
    if decision.get("kind") == "error_cost":
        return {"kind": "cost", "per_case": decision["model"]["cost_per_case"]}
    return {"kind": "value", "per_case": decision["model"]["value_per_case"]}


def value_curve(
    scores: np.ndarray, positives: np.ndarray, decision: DecisionSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Expected value per period when acting on the k highest scores, k = 0..n, against
    the share of cases acted on: where the operating point sits and what is around it."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    ranked = np.asarray(positives, dtype=bool)[order]
    hits = np.concatenate([[0], np.cumsum(ranked)])
    actions = np.arange(len(ranked) + 1)
    misses = ranked.sum() - hits
    gain = decision.value_of_a_hit - decision.cost_of_an_action
    total = hits * gain - (actions - hits) * decision.cost_of_an_action
    total = total - misses * decision.cost_of_a_miss
    per_period = total / max(len(ranked), 1) * decision.volume
    return actions / max(len(ranked), 1), per_period


def error_cost(
    predicted: np.ndarray, actual: np.ndarray, costs: ErrorCostSettings
) -> dict[str, float]:
    """The mean cost of errors per case and per period: each unit a prediction is too
    high costs `cost_of_overestimate`, each unit too low `cost_of_underestimate`."""
    error = np.asarray(predicted, dtype=float) - np.asarray(actual, dtype=float)
    over = float(np.clip(error, 0, None).mean()) if len(error) else 0.0
    under = float(np.clip(-error, 0, None).mean()) if len(error) else 0.0
    per_case = over * costs.cost_of_overestimate + under * costs.cost_of_underestimate
    return {
        "over_per_case": round(over, 6),
        "under_per_case": round(under, 6),
        "cost_per_case": round(per_case, 6),
        "cost_per_period": round(per_case * costs.volume, 2),
    }


def case_costs(predicted: np.ndarray, actual: np.ndarray, costs: ErrorCostSettings) -> np.ndarray:
    """What each case's error costs: its overestimate or underestimate, priced."""
    error = np.asarray(predicted, dtype=float) - np.asarray(actual, dtype=float)
    priced: np.ndarray = (
        np.clip(error, 0, None) * costs.cost_of_overestimate
        + np.clip(-error, 0, None) * costs.cost_of_underestimate
    )
    return priced


def error_cost_report(
    model: np.ndarray,
    rule: np.ndarray | None,
    baseline: np.ndarray,
    actual: np.ndarray,
    costs: ErrorCostSettings,
    seed: int = 0,
) -> dict[str, Any]:
    """The cost of errors per period of the model (with a bootstrap interval), the
    team's rule and the mean."""
    per_case = case_costs(model, actual, costs)
    return {
        "kind": "error_cost",
        "period": costs.period,
        "model": error_cost(model, actual, costs),
        "model_interval_per_period": per_period_interval(per_case, costs.volume, seed),
        "rule": None if rule is None else error_cost(rule, actual, costs),
        "baseline": error_cost(baseline, actual, costs),
    }

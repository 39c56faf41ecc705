"""The quality gate: the rules a model must pass before it becomes champion.

Blocking by design: there is no flag to skip it. Change the numbers in
config/settings.toml [gate], in a reviewed pull request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config import GateSettings


@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool
    message: str


@dataclass(frozen=True)
class GateResult:
    checks: tuple[GateCheck, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[str]:
        return [check.message for check in self.checks if not check.passed]

    def as_report(self) -> dict[str, Any]:
        """The verdict as recorded in evaluation reports and the registry."""
        return {
            "passed": self.passed,
            "checks": [
                {"name": c.name, "passed": c.passed, "message": c.message} for c in self.checks
            ],
        }


def _better_by(policy: GateSettings, value: float, reference: float) -> float:
    """How much better `value` is than `reference` in the metric's direction."""
    return value - reference if policy.direction == "maximize" else reference - value


@dataclass(frozen=True)
class RuleScore:
    """The team's rule today (model/rule.py), measured on the same holdout."""

    name: str
    value: float


@dataclass(frozen=True)
class Guardrail:
    """A [gate.guardrails] limit and the value the candidate reaches."""

    name: str
    metric: str
    bound: str  # "min" or "max"
    limit: float
    value: float
    at: str = "predicted labels"  # or "the operating point": the decisions acted on

    @property
    def passed(self) -> bool:
        return self.value >= self.limit if self.bound == "min" else self.value <= self.limit


@dataclass(frozen=True)
class SliceScore:
    """The candidate's metric on one slice large enough to judge, with its interval."""

    attribute: str
    group: str
    rows: int
    value: float
    interval: tuple[float, float] | None = None


@dataclass(frozen=True)
class FairnessGap:
    """The gap between the best and worst judged group of an attribute, in one measure
    of the decisions at the operating point, with its 95% interval."""

    attribute: str
    metric: str
    value: float
    interval: tuple[float, float]
    lowest: str
    highest: str


@dataclass(frozen=True)
class ValueScore:
    """Expected value per period of the model and of what it must beat; with `cost`,
    the expected cost of errors instead, which must be lower."""

    model: float
    reference: float
    reference_name: str
    period: str
    cost: bool = False


def evaluate_gate(
    policy: GateSettings,
    candidate: float,
    baseline: float,
    champion: float | None,
    rule: RuleScore | None = None,
    guardrails: Sequence[Guardrail] = (),
    slices: Sequence[SliceScore] = (),
    value: ValueScore | None = None,
    gaps: Sequence[FairnessGap] = (),
) -> GateResult:
    """Threshold, the trivial baseline (prior or mean), the team's rule when written,
    the guardrails, every slice large enough to judge, and the champion: every check
    must pass."""
    metric = policy.metric
    word = "at least" if policy.direction == "maximize" else "at most"
    meets = _better_by(policy, candidate, policy.threshold) >= 0
    checks = [
        GateCheck(
            "threshold",
            meets,
            f"{metric} = {candidate:.4f} must be {word} the threshold {policy.threshold:.4f}",
        )
    ]
    margin = _better_by(policy, candidate, baseline)
    checks.append(
        GateCheck(
            "baseline",
            margin >= policy.baseline_margin,
            f"{metric} = {candidate:.4f} must beat the trivial baseline {baseline:.4f} by "
            f"{policy.baseline_margin:.4f}; the margin is {margin:.4f}",
        )
    )
    if rule is not None:
        beat = _better_by(policy, candidate, rule.value)
        checks.append(
            GateCheck(
                "team_rule",
                beat >= policy.baseline_margin,
                f"{metric} = {candidate:.4f} must beat the team's rule ({rule.name}) "
                f"{rule.value:.4f} by {policy.baseline_margin:.4f}; the margin is {beat:.4f}",
            )
        )
    for guardrail in guardrails:
        bound = "at least" if guardrail.bound == "min" else "at most"
        checks.append(
            GateCheck(
                f"guardrail_{guardrail.name}",
                guardrail.passed,
                f"guardrail: {guardrail.metric} = {guardrail.value:.4f} must be {bound} "
                f"{guardrail.limit:.4f}",
            )
        )
    sign = -1 if policy.direction == "maximize" else 1
    required = policy.threshold + sign * policy.slice_allowance
    loosened = "minus" if policy.direction == "maximize" else "plus"
    for part in slices:
        interval = (
            f" (95% interval {part.interval[0]:.4f} to {part.interval[1]:.4f})"
            if part.interval
            else ""
        )
        checks.append(
            GateCheck(
                f"slice_{part.attribute}={part.group}",
                _better_by(policy, part.value, required) >= 0,
                f"slice {part.attribute}={part.group} ({part.rows} rows): {metric} = "
                f"{part.value:.4f}{interval} must be {word} {required:.4f} (the threshold "
                f"{loosened} the slice tolerance {policy.slice_allowance:.4f})",
            )
        )
    for gap in gaps:
        low, high = gap.interval
        checks.append(
            GateCheck(
                f"fairness_{gap.attribute}",
                low <= policy.max_fairness_gap,
                f"fairness: the {gap.metric} gap between {gap.attribute} groups "
                f"({gap.highest} against {gap.lowest}) is {gap.value:.4f} (95% interval "
                f"{low:.4f} to {high:.4f}); its lower bound must be at most "
                f"{policy.max_fairness_gap:.4f}",
            )
        )
    if value is not None and value.cost:
        checks.append(
            GateCheck(
                "value",
                value.model < value.reference,
                f"expected cost of errors per {value.period} = {value.model:,.2f} must be "
                f"below {value.reference_name}'s ({value.reference:,.2f})",
            )
        )
    elif value is not None:
        checks.append(
            GateCheck(
                "value",
                value.model > value.reference,
                f"expected value per {value.period} = {value.model:,.2f} must beat "
                f"{value.reference_name} ({value.reference:,.2f})",
            )
        )
    if champion is not None:
        regression = -_better_by(policy, candidate, champion)
        checks.append(
            GateCheck(
                "champion",
                regression <= policy.champion_tolerance,
                f"{metric} = {candidate:.4f} may trail the champion's {champion:.4f} by at most "
                f"{policy.champion_tolerance:.4f}; it trails by {max(regression, 0.0):.4f}",
            )
        )
    return GateResult(tuple(checks))

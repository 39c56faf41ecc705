"""What to decide, in one paragraph at the top of every evaluation report: promote or
not, and what the model is worth against what the team has without it."""

from __future__ import annotations

from typing import Any

# Capacity is the binding limit when acting on more cases would be worth this much more.
BINDING_GAIN = 0.01


def recommendation(report: dict[str, Any]) -> list[str]:
    """Sentences for the product owner, from a training or evaluation report."""
    gate, version = report.get("gate"), report.get("model_version")
    evaluation = report["evaluation"]
    if gate is None:
        lines = [f"Version {version} has no training report: no recommendation."]
    elif not gate["passed"]:
        failed = [check["message"] for check in gate["checks"] if not check["passed"]]
        lines = [f"Recommendation: do not promote. The gate failed: {failed[0]}."]
    elif version is None:
        lines = [
            "Recommendation: nothing to decide. Data, code and config are identical to "
            f"champion version {report.get('identical_to')}'s."
        ]
    else:
        lines = [f"Recommendation: promote version {version}; it passed every gate check."]
    decision = evaluation.get("decision")
    if decision is not None:
        lines += _worth(decision, evaluation.get("rule_name"))
    return lines


def _worth(decision: dict[str, Any], rule_name: str | None) -> list[str]:
    period = decision["period"]
    if decision.get("kind") == "error_cost":
        cost = decision["model"]["cost_per_period"]
        against = [("the mean", decision["baseline"]["cost_per_period"])]
        if decision["rule"] is not None:
            rule = decision["rule"]["cost_per_period"]
            against.insert(0, (f"the team's rule ({rule_name})", rule))
        compared = "; ".join(f"{other - cost:,.2f} less than {name}'s" for name, other in against)
        spread = _spread(decision)
        return [f"Its errors cost {cost:,.2f} per {period}{spread}: {compared}."]
    value = decision["model"]["value_per_period"]
    against = []
    if decision["rule"] is not None:
        against.append((f"the team's rule ({rule_name})", decision["rule"]["value_per_period"]))
    if "untargeted_per_period" in decision:
        against.append(("untargeted action", decision["untargeted_per_period"]))
    against.append(("doing nothing", decision["do_nothing_per_period"]))
    compared = "; ".join(f"{value - other:+,.2f} against {name}" for name, other in against)
    lines = [
        f"At its operating point the model is worth {value:,.2f} per {period}"
        f"{_spread(decision)}: {compared}."
    ]
    best = decision.get("best_per_period")
    if decision["policy"] == "capacity" and best is not None:
        gain = best - value
        if gain > BINDING_GAIN * max(abs(value), 1.0):
            lines.append(
                "Capacity, not the model, is the binding limit: acting on "
                f"{format(decision['best_share'], '.1%')} of cases instead of the capacity's "
                f"{format(decision['acted_share'], '.1%')} would be worth {best:,.2f} per {period} "
                f"({gain:+,.2f})."
            )
    return lines


def _spread(decision: dict[str, Any]) -> str:
    """The 95% bootstrap interval of the model's value or cost, when the report has one."""
    interval = decision.get("model_interval_per_period")
    if interval is None:
        return ""
    return f" (95% interval {interval[0]:,.2f} to {interval[1]:,.2f})"

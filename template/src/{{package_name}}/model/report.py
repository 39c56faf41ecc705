"""The evaluation report (JSON for machines, Markdown and HTML for people) and the
model card, which carries the Markdown's essentials."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..config import DecisionSettings, Settings
from .recommendation import recommendation

if TYPE_CHECKING:
    from .evaluate import HoldoutPredictions

CARD_START = "<!-- groundwork:evaluation:start -->"
CARD_END = "<!-- groundwork:evaluation:end -->"


def render_markdown(report: dict[str, Any]) -> str:
    evaluation = report["evaluation"]
    metric = evaluation["metric"]
    thresholds = report["thresholds"]
    identical = report.get("identical_to")
    version = report["model_version"] or (
        f"not registered: data, code and config are identical to champion version {identical}'s"
        if identical
        else "not registered"
    )
    lines = [
        *(part for line in recommendation(report) for part in (line, "")),
        f"Model version: **{version}**",
        "",
        f"Data: {report['lineage'].get('data_source', 'not recorded')}",
        "",
        f"| {metric} ({evaluation['direction']}) | value |",
        "| --- | --- |",
        f"| model | {evaluation['model']:.4f}{_interval_text(evaluation)} |",
        f"| trivial baseline (prior or mean) | {evaluation['baseline']:.4f} |",
        _rule_row(evaluation),
        f"| threshold | {thresholds['threshold']:.4f} |",
        f"| required margin over the baselines | {thresholds['baseline_margin']:.4f} |",
        *(
            f"| guardrail: {g['metric']} {'≥' if g['bound'] == 'min' else '≤'} "
            f"{g['limit']:.4f} | {g['value']:.4f} |"
            for g in evaluation.get("guardrails", [])
        ),
        "",
        f"Holdout rows: {evaluation['holdout_rows']} ({evaluation.get('split', 'random')})",
        "",
    ]
    lines += _decision_table(evaluation.get("decision"))
    gate = report.get("gate")
    if gate is not None:
        verdict = "PASSED" if gate["passed"] else "FAILED"
        lines += [f"Quality gate: **{verdict}**", ""]
        lines += [f"- {'ok' if c['passed'] else 'FAIL'}: {c['message']}" for c in gate["checks"]]
        lines.append("")
    else:
        lines += ["Quality gate: not recorded for this version (no training report).", ""]
    lines += _class_table(evaluation)
    rule_slices = evaluation.get("rule_slices") or {}
    for attribute, groups in evaluation["slices"].items():
        lines += _slice_table(attribute, groups, rule_slices.get(attribute, {}), metric)
    for attribute, result in (evaluation.get("fairness") or {}).items():
        lines += _fairness_table(attribute, result)
    lines += _footprint_lines(report.get("footprint"))
    lines += _selection_lines(report.get("selection"), metric)
    features = report.get("features")
    if features:
        lines += ["Features the model uses: " + ", ".join(f"`{name}`" for name in features), ""]
    lines += _importance_lines(evaluation.get("importance"), metric)
    lines += ["Lineage:", ""]
    lines += [f"- {key}: `{value}`" for key, value in report["lineage"].items()]
    return "\n".join(lines) + "\n"


def _decision_table(decision: dict[str, Any] | None) -> list[str]:
    """The operating point and what acting on it is worth, beside the team's rule."""
    if decision is None:
        return []
    period = decision["period"]
    if decision.get("kind") == "error_cost":
        return _error_cost_table(decision)
    rows = [("model", decision["model"]), ("team's rule", decision["rule"])]
    lines = [
        f"Decision ({decision['policy']} policy), expected value per {period}:",
        "",
        f"| | value per {period} | actions | hits | false alarms | misses | precision | "
        "recall | lift | operating point |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, point in rows:
        if point is None:
            continue
        threshold = "-" if point["threshold"] is None else f"{point['threshold']:.4f}"
        lines.append(
            f"| {name} | {point['value_per_period']:,.2f} | {point['actions']} | "
            f"{point['hits']} | {point['false_alarms']} | {point['misses']} | "
            f"{point['precision']:.4f} | {point['recall']:.4f} | {point['lift']:.2f} | "
            f"{threshold} |"
        )
    if "untargeted_per_period" in decision:
        untargeted = f"{decision['untargeted_per_period']:,.2f}"
        lines.append(f"| untargeted action | {untargeted} | | | | | | | | |")
    lines.append(f"| doing nothing | {decision['do_nothing_per_period']:,.2f} | 0 | | | | | | | |")
    return [*lines, ""]


def _error_cost_table(decision: dict[str, Any]) -> list[str]:
    """What the errors of the model, the team's rule and the mean cost per period."""
    period = decision["period"]
    lines = [
        f"Cost of errors, expected per {period}:",
        "",
        f"| | cost per {period} | cost per case | mean overestimate | mean underestimate |",
        "| --- | --- | --- | --- | --- |",
    ]
    rows = [("model", decision["model"]), ("team's rule", decision["rule"])]
    for name, cost in [*rows, ("trivial baseline (the mean)", decision["baseline"])]:
        if cost is not None:
            lines.append(
                f"| {name} | {cost['cost_per_period']:,.2f} | {cost['cost_per_case']:.4f} | "
                f"{cost['over_per_case']:.4f} | {cost['under_per_case']:.4f} |"
            )
    return [*lines, ""]


def _slice_table(
    attribute: str, groups: dict[str, Any], rule_groups: dict[str, Any], metric: str
) -> list[str]:
    """One attribute's slices: the model with its 95% interval, the team's rule, and
    whether the gate judged the slice or found it too small."""
    extra = " team's rule |" if rule_groups else ""
    lines = [f"Slices by `{attribute}`:", "", f"| {attribute} | rows | {metric} | 95% interval |"
             f"{extra} verdict |", "| --- | --- | --- | --- |" + (" --- |" if rule_groups else "")
             + " --- |"]  # fmt: skip
    judged = []
    for group, values in groups.items():
        interval = values.get("interval")
        cells = [
            _shown(values[metric]),
            f"{interval[0]:.4f} to {interval[1]:.4f}" if interval else "-",
        ]
        if rule_groups:
            cells.append(_shown(rule_groups.get(group, {}).get(metric)))
        cells.append("judged" if values.get("judged") else "too small to judge")
        lines.append(f"| {group} | {values['rows']} | " + " | ".join(cells) + " |")
        if values.get("judged"):
            judged.append(values[metric])
    if len(judged) > 1:
        lines += ["", f"Largest gap between judged slices: {max(judged) - min(judged):.4f}"]
    return [*lines, ""]


def _fairness_table(attribute: str, result: dict[str, Any]) -> list[str]:
    """One attribute's decisions group by group at the operating point, and the gap the
    gate judges (model/fairness.py)."""
    lines = [
        f"Decisions by `{attribute}` (at the operating point):",
        "",
        f"| {attribute} | rows | selection rate | recall | precision | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for group, values in result["groups"].items():
        verdict = "judged" if values["judged"] else "too small to judge"
        lines.append(
            f"| {group} | {values['rows']} | {values['selection_rate']:.4f} | "
            f"{values['recall']:.4f} | {values['precision']:.4f} | {verdict} |"
        )
    gap = result["gap"]
    if gap["interval"] is not None:
        low, high = gap["interval"]
        lines += [
            "",
            f"Largest {gap['metric']} gap: {gap['value']:.4f} ({gap['highest']} against "
            f"{gap['lowest']}; 95% interval {low:.4f} to {high:.4f}).",
        ]
    return [*lines, ""]


def _footprint_lines(footprint: dict[str, Any] | None) -> list[str]:
    """What the model costs to run, against the champion (model/footprint.py)."""
    if not footprint:
        return []
    champion = footprint["champion"] or {}
    lines = [
        f"What it costs to run: {footprint['verdict']}.",
        "",
        "| figure | this model | champion | worse by |",
        "| --- | --- | --- | --- |",
    ]
    for name, value in footprint["candidate"].items():
        ratio = footprint["worse_by"].get(name)
        theirs = champion.get(name)
        lines.append(
            f"| {name.replace('_', ' ')} | {value:,} | "
            + (f"{theirs:,} | " if theirs is not None else "- | ")
            + (f"{ratio:.2f}x |" if ratio is not None else "- |")
        )
    return [*lines, ""]


def _class_table(evaluation: dict[str, Any]) -> list[str]:
    """Precision, recall and F1 per class, with how many holdout rows each class has."""
    per_class = evaluation.get("per_class")
    if not per_class:
        return []
    where = evaluation["confusion_matrix"]["at"]
    lines = [
        f"Per class ({where}):",
        "",
        "| class | precision | recall | F1 | holdout rows |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, values in per_class.items():
        lines.append(
            f"| {name} | {values['precision']:.4f} | {values['recall']:.4f} | "
            f"{values['f1-score']:.4f} | {evaluation['class_balance'][name]} |"
        )
    return [*lines, ""]


def _importance_lines(importance: list[dict[str, Any]] | None, metric: str) -> list[str]:
    """Permutation importance on the holdout (model/importance.py)."""
    if not importance:
        return []
    lines = [
        f"Permutation importance on the holdout: the loss of {metric} when a column is "
        f"shuffled ({importance[0]['repeats']} shuffles). Within two spreads of no loss, or "
        "under 1% of the largest, a column is worth nothing to the model:",
        "",
        "| column | loss | spread | worth |",
        "| --- | --- | --- | --- |",
    ]
    for row in importance:
        worth = "nothing" if row["worthless"] else "kept"
        lines.append(f"| {row['feature']} | {row['mean']:.4f} | {row['std']:.4f} | {worth} |")
    return [*lines, ""]


def _selection_lines(selection: dict[str, Any] | None, metric: str) -> list[str]:
    """Which model family and hyperparameters the cross-validated search chose."""
    if not selection:
        return []
    params = ", ".join(f"{k}={v}" for k, v in selection["params"].items()) or "as written"
    line = f"Model: **{selection['family']}** ({params})"
    if selection["cv_score"] is not None:
        tried = len(selection.get("tried", []))
        line += f", cross-validated {metric} {selection['cv_score']:.4f} (best of {tried})"
    if selection.get("note"):
        line += f"; {selection['note']}"
    return [line, ""]


def _shown(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def _rule_row(evaluation: dict[str, Any]) -> str:
    """The team's rule beside the model; a rule not yet written says so."""
    name = evaluation.get("rule_name") or "the team's rule"
    value = evaluation.get("rule")
    if value is None:
        return "| team's rule: not written yet (model/rule.py) | - |"
    return f"| team's rule: {name} | {value:.4f} |"


def write_reports(
    settings: Settings,
    report: dict[str, Any],
    predictions: HoldoutPredictions,
    *,
    update_model_card: bool,
) -> None:
    # Plotting libraries load only here: serving imports nothing of this.
    from .html_report import render_html
    from .plots import evaluation_plots

    folder = settings.reports.path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evaluation.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    markdown = render_markdown(report)
    (folder / "evaluation.md").write_text("# Evaluation report\n\n" + markdown)
    plots = evaluation_plots(
        settings.project.problem_type,
        predictions.target,
        predictions,
        predictions.positive,
        settings.decision if isinstance(settings.decision, DecisionSettings) else None,
        report["evaluation"].get("decision"),
    )
    (folder / "evaluation.html").write_text(render_html(report, plots), encoding="utf-8")
    if update_model_card:
        _update_model_card(settings, markdown)


def _update_model_card(settings: Settings, markdown: str) -> None:
    """Replace only the generated section, so the team's own prose survives."""
    card = settings.reports.model_card
    if not card.exists():
        return
    text = card.read_text()
    if CARD_START not in text or CARD_END not in text:
        text = text.rstrip("\n") + f"\n\n## Evaluation\n\n{CARD_START}\n{CARD_END}\n"
    head, rest = text.split(CARD_START, 1)
    _, tail = rest.split(CARD_END, 1)
    card.write_text(f"{head}{CARD_START}\n{markdown}{CARD_END}{tail}")


def _interval_text(evaluation: dict[str, Any]) -> str:
    interval = evaluation.get("model_interval")
    return "" if interval is None else f" (95% interval {interval[0]:.4f} to {interval[1]:.4f})"

"""The evaluation report (JSON for machines, Markdown for people) and the model card."""

from __future__ import annotations

import json
from typing import Any

from ..config import Settings

CARD_START = "<!-- groundwork:evaluation:start -->"
CARD_END = "<!-- groundwork:evaluation:end -->"


def render_markdown(report: dict[str, Any]) -> str:
    evaluation = report["evaluation"]
    metric = evaluation["metric"]
    thresholds = report["thresholds"]
    lines = [
        f"Model version: **{report['model_version'] or 'not registered'}**",
        "",
        f"Data: {report['lineage'].get('data_source', 'not recorded')}",
        "",
        f"| {metric} ({evaluation['direction']}) | value |",
        "| --- | --- |",
        f"| model | {evaluation['model']:.4f} |",
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
    rule_slices = evaluation.get("rule_slices") or {}
    for attribute, groups in evaluation["slices"].items():
        lines += _slice_table(attribute, groups, rule_slices.get(attribute, {}), metric)
    lines += ["Lineage:", ""]
    lines += [f"- {key}: `{value}`" for key, value in report["lineage"].items()]
    return "\n".join(lines) + "\n"


def _decision_table(decision: dict[str, Any] | None) -> list[str]:
    """The operating point and what acting on it is worth, beside the team's rule."""
    if decision is None:
        return []
    period = decision["period"]
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
    lines.append(f"| doing nothing | {decision['do_nothing_per_period']:,.2f} | 0 | | | | | | | |")
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


def _shown(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def _rule_row(evaluation: dict[str, Any]) -> str:
    """The team's rule beside the model; a rule not yet written says so."""
    name = evaluation.get("rule_name") or "the team's rule"
    value = evaluation.get("rule")
    if value is None:
        return "| team's rule: not written yet (model/rule.py) | - |"
    return f"| team's rule: {name} | {value:.4f} |"


def write_reports(settings: Settings, report: dict[str, Any], *, update_model_card: bool) -> None:
    folder = settings.reports.path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evaluation.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    markdown = render_markdown(report)
    (folder / "evaluation.md").write_text("# Evaluation report\n\n" + markdown)
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

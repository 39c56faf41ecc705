"""The evaluation report as one self-contained HTML page (reports/evaluation.html):
the gate's verdict check by check, the numbers of evaluation.md as real tables, and
the plots (model/plots.py) embedded as images."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from .recommendation import recommendation

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;"
    "color:#1f2328}table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #d0d7de;padding:.3em .7em;text-align:left}"
    "th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".passed{color:#1a7f37}.failed{color:#cf222e}.verdict{font-size:1.3em}"
    "figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:.9em;color:#57606a}"
)


def _cell(value: Any) -> str:
    if value is None:
        return "<td>-</td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int):
        return f'<td class="num">{value:,}</td>'
    if isinstance(value, float):
        return f'<td class="num">{value:,.4f}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _verdict(gate: dict[str, Any] | None, version: str | None) -> str:
    if gate is None:
        return (
            '<p class="verdict">Quality gate: <strong>not recorded</strong> '
            f"(model version {html.escape(str(version))} has no training report)</p>"
        )
    state = "passed" if gate["passed"] else "failed"
    checks = table(
        ["check", "result", "message"],
        [(c["name"], "ok" if c["passed"] else "FAIL", c["message"]) for c in gate["checks"]],
    )
    return f'<p class="verdict {state}">Quality gate: <strong>{state.upper()}</strong></p>{checks}'


def _headline(report: dict[str, Any]) -> str:
    evaluation, thresholds = report["evaluation"], report["thresholds"]
    interval = evaluation.get("model_interval")
    rows: list[tuple[str, Any]] = [
        ("model", evaluation["model"]),
        *(
            [("model: 95% bootstrap interval", f"{interval[0]:.4f} to {interval[1]:.4f}")]
            if interval
            else []
        ),
        ("trivial baseline (prior or mean)", evaluation["baseline"]),
        (
            f"team's rule: {evaluation.get('rule_name')}"
            if evaluation.get("rule") is not None
            else "team's rule: not written yet (model/rule.py)",
            evaluation.get("rule"),
        ),
        ("threshold", thresholds["threshold"]),
        ("required margin over the baselines", thresholds["baseline_margin"]),
    ]
    metric = f"{evaluation['metric']} ({evaluation['direction']})"
    guardrails = evaluation.get("guardrails") or []
    bounds = {"min": "at least", "max": "at most"}
    limits = table(
        ["guardrail", "limit", "value"],
        [(f"{g['metric']} {bounds[g['bound']]}", g["limit"], g["value"]) for g in guardrails],
    )
    split = html.escape(str(evaluation.get("split")))
    return (
        table([metric, "value"], rows)
        + f"<p>Holdout: {evaluation['holdout_rows']:,} rows ({split})</p>"
        + (f"<h3>Guardrails</h3>{limits}" if guardrails else "")
    )


def _error_cost(decision: dict[str, Any]) -> str:
    period = decision["period"]
    named = [
        ("model", decision["model"]),
        ("team's rule", decision["rule"]),
        ("trivial baseline (the mean)", decision["baseline"]),
    ]
    rows = [
        (
            name,
            f"{cost['cost_per_period']:,.2f}",
            cost["cost_per_case"],
            cost["over_per_case"],
            cost["under_per_case"],
        )
        for name, cost in named
        if cost is not None
    ]
    headers = ["", f"cost per {period}", "cost per case", "mean over", "mean under"]
    return "<h2>Cost of errors</h2>" + table(headers, rows)


def _decision(decision: dict[str, Any] | None) -> str:
    if decision is None:
        return ""
    if decision.get("kind") == "error_cost":
        return _error_cost(decision)
    period = decision["period"]
    rows: list[tuple[Any, ...]] = []
    for name, point in [("model", decision["model"]), ("team's rule", decision["rule"])]:
        if point is not None:
            rows.append(
                (
                    name,
                    f"{point['value_per_period']:,.2f}",
                    point["actions"],
                    point["hits"],
                    point["false_alarms"],
                    point["misses"],
                    point["precision"],
                    point["recall"],
                    point["lift"],
                    point["threshold"],
                )
            )
    if "untargeted_per_period" in decision:
        untargeted = f"{decision['untargeted_per_period']:,.2f}"
        rows.append(("untargeted action", untargeted, None, *[None] * 7))
    rows.append(("doing nothing", f"{decision['do_nothing_per_period']:,.2f}", 0, *[None] * 7))
    headers = [
        "",
        f"value per {period}",
        "actions",
        "hits",
        "false alarms",
        "misses",
        "precision",
        "recall",
        "lift",
        "operating point",
    ]
    return f"<h2>Decision ({html.escape(decision['policy'])} policy)</h2>" + table(headers, rows)


def _classes(evaluation: dict[str, Any]) -> str:
    per_class = evaluation.get("per_class")
    if not per_class:
        return ""
    balance = evaluation["class_balance"]
    total = sum(balance.values()) or 1
    rows = [
        (
            name,
            values["precision"],
            values["recall"],
            values["f1-score"],
            balance[name],
            round(balance[name] / total, 4),
        )
        for name, values in per_class.items()
    ]
    where = evaluation["confusion_matrix"]["at"]
    return f"<h2>Per class ({html.escape(where)}) and class balance</h2>" + table(
        ["class", "precision", "recall", "F1", "holdout rows", "share"], rows
    )


def _slices(evaluation: dict[str, Any]) -> str:
    metric = evaluation["metric"]
    rule_slices = evaluation.get("rule_slices") or {}
    parts = []
    for attribute, groups in evaluation["slices"].items():
        rule_groups = rule_slices.get(attribute, {})
        rows = []
        for group, values in groups.items():
            interval = values.get("interval")
            rows.append(
                (
                    group,
                    values["rows"],
                    values[metric],
                    f"{interval[0]:.4f} to {interval[1]:.4f}" if interval else None,
                    rule_groups.get(group, {}).get(metric),
                    "judged" if values.get("judged") else "too small to judge",
                )
            )
        headers = [attribute, "rows", metric, "95% interval", "team's rule", "verdict"]
        parts.append(f"<h3>Slices by {html.escape(attribute)}</h3>" + table(headers, rows))
    return ("<h2>Slices</h2>" + "".join(parts)) if parts else ""


def _fairness(evaluation: dict[str, Any]) -> str:
    parts = []
    for attribute, result in (evaluation.get("fairness") or {}).items():
        rows = [
            (group, v["rows"], v["selection_rate"], v["recall"], v["precision"],
             "judged" if v["judged"] else "too small to judge")
            for group, v in result["groups"].items()
        ]  # fmt: skip
        headers = [attribute, "rows", "selection rate", "recall", "precision", "verdict"]
        gap = result["gap"]
        note = (
            f"<p>Largest {html.escape(gap['metric'])} gap: {gap['value']:.4f} "
            f"({html.escape(gap['highest'])} against {html.escape(gap['lowest'])}; 95% "
            f"interval {gap['interval'][0]:.4f} to {gap['interval'][1]:.4f})</p>"
            if gap["interval"] is not None
            else ""
        )
        parts.append(f"<h3>By {html.escape(attribute)}</h3>" + table(headers, rows) + note)
    return ("<h2>Decisions by group, at the operating point</h2>" + "".join(parts)) if parts else ""


def _importance(importance: list[dict[str, Any]] | None, metric: str) -> str:
    if not importance:
        return ""
    rows = [
        (row["feature"], row["mean"], row["std"], "nothing" if row["worthless"] else "kept")
        for row in importance
    ]
    return (
        "<h2>Permutation importance on the holdout</h2>"
        f"<p>The loss of {html.escape(metric)} when a column is shuffled "
        f"({importance[0]['repeats']} shuffles). Within two spreads of no loss, or under 1% "
        "of the largest, a column is worth nothing to the model.</p>"
        + table(["column", "loss", "spread", "worth"], rows)
    )


def _selection(selection: dict[str, Any] | None, metric: str) -> str:
    if not selection:
        return "<h2>Model search</h2><p>Not recorded for this version.</p>"
    params = ", ".join(f"{k}={v}" for k, v in selection["params"].items()) or "as written"
    chosen = (
        f"<p>Chosen: <strong>{html.escape(selection['family'])}</strong> ({html.escape(params)})"
        + (
            f", cross-validated {html.escape(metric)} {selection['cv_score']:.4f}"
            if selection["cv_score"] is not None
            else ""
        )
        + (f". {html.escape(selection['note'])}" if selection.get("note") else "")
        + "</p>"
    )
    rows = [
        (
            row["family"],
            ", ".join(f"{k}={v}" for k, v in row["params"].items()),
            row["cv_score"],
            row["cv_std"],
        )
        for row in selection.get("tried", [])
    ]
    tried = table(["family", "hyperparameters", f"CV {metric}", "std"], rows) if rows else ""
    return "<h2>Model search (cross-validation on the training split)</h2>" + chosen + tried


def _footprint(footprint: dict[str, Any] | None) -> str:
    if not footprint:
        return ""
    champion = footprint["champion"] or {}
    rows = [
        (name.replace("_", " "), value, champion.get(name), footprint["worse_by"].get(name))
        for name, value in footprint["candidate"].items()
    ]
    headers = ["figure", "this model", "champion", "worse by (x)"]
    verdict = html.escape(footprint["verdict"])
    return f"<h2>What it costs to run</h2><p>{verdict}</p>" + table(headers, rows)


def render_html(report: dict[str, Any], plots: list[tuple[str, str]]) -> str:
    evaluation = report["evaluation"]
    version = report["model_version"]
    figures = "".join(
        f'<figure><img alt="{html.escape(title)}" src="{uri}">'
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
        for title, uri in plots
    )
    features = ", ".join(report.get("features") or []) or "not recorded"
    lineage = table(["lineage", "value"], sorted(report["lineage"].items()))
    advice = "".join(
        f'<p class="recommendation">{html.escape(line)}</p>' for line in recommendation(report)
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Evaluation: model version {html.escape(str(version))}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>Evaluation: model version {html.escape(str(version or 'not registered'))}</h1>"
        f"{advice}"
        f"{_verdict(report.get('gate'), version)}"
        f"<h2>{html.escape(evaluation['metric'])} on the holdout</h2>{_headline(report)}"
        f"{_decision(evaluation.get('decision'))}"
        f"<h2>Plots</h2>{figures or '<p>No plots.</p>'}"
        f"{_classes(evaluation)}{_slices(evaluation)}{_fairness(evaluation)}"
        f"{_footprint(report.get('footprint'))}"
        f"{_selection(report.get('selection'), evaluation['metric'])}"
        f"<h2>Features the model uses</h2><p>{html.escape(features)}</p>"
        f"{_importance(evaluation.get('importance'), evaluation['metric'])}"
        f"<h2>Lineage</h2>{lineage}</body></html>\n"
    )

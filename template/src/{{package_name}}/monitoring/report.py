"""Monitoring outputs: JSON (machine verdict), Markdown (job summary), HTML with plots,
a Prometheus text file (for node_exporter's textfile collector or a Pushgateway),
and verdict.env (`VERDICT=...`, for CI job outputs).
"""

from __future__ import annotations

import html
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from ..figures import png_data_uri
from .monitor import MonitoringResult, percent

VERDICT_CODES = {"ok": 0, "retrain": 1, "investigate": 2}


def write_monitoring_outputs(result: MonitoringResult, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {
        "monitoring.json": json.dumps(_json_safe(result.report), indent=2, sort_keys=True) + "\n",
        "monitoring.md": render_markdown(result.report),
        "monitoring.html": render_html(result),
        "verdict.env": f"VERDICT={result.verdict}\n",
    }
    written = []
    for name, text in outputs.items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    write_prometheus(result.report, folder / "monitoring.prom")
    written.append(folder / "monitoring.prom")
    return written


def _json_safe(value: Any) -> Any:
    """NaN is not JSON: write null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def render_markdown(report: dict[str, Any]) -> str:
    icon = {"ok": "✅", "retrain": "🔁", "investigate": "🔎"}[report["verdict"]]
    window, model = report["window"], report["model"]
    lines = [
        f"# Monitoring: {icon} {report['verdict']}",
        "",
        f"Window {window['start']} → {window['end']} ({window['source']}, {window['rows']} rows); "
        f"reference {window['reference_rows']} training rows; champion v{model['version']}"
        + (f", {model['age_days']:.0f} days old." if model["age_days"] is not None else "."),
        "",
    ]
    lines += [f"- {reason}" for reason in report["reasons"]] or ["- every check within limits"]
    quality = report["data_quality"]
    lines += [
        "",
        "## Data quality",
        "",
        f"Contract violation rate: {percent(quality['violation_rate'], 2)} "
        f"(limit {percent(quality['max_violation_rate'], 2)}).",
        "",
        "| Column | Missing (reference) | Missing (live) |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {percent(m['reference'], 2)} | {percent(m['current'], 2)} |"
        for name, m in quality["missing"].items()
    ]
    drift = report["drift"]
    lines += [
        "",
        f"## Drift ({drift['status']})",
        "",
        "| Feature | PSI | Test | p-value | Drifted |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for row in [*drift["features"], report["prediction_drift"]]:
        lines.append(
            f"| {row['column']} | {_number(row['psi'])} | {row['test']} | "
            f"{_number(row['p_value'], '.2g')} | {'**yes**' if row['drifted'] else 'no'} |"
        )
    acted = report.get("acted_share", {})
    if "realised" in acted:
        lines += [
            "",
            f"## Share acted on ({acted['status']})",
            "",
            f"{acted['acted']} of {acted['rows']} live cases reached the operating point "
            f"{_number(acted['operating_point'])}: {percent(acted['realised'])}, against "
            f"{percent(acted['expected'])} of the training data's (planned on the holdout: "
            f"{percent(acted['planned'])}; binomial p={_number(acted['p_value'], '.2g')}, "
            f"tolerance {percent(acted['tolerance'], 0)})"
            + (": **drifted**." if acted["drifted"] else "."),
        ]
    performance = report["performance"]
    lines += ["", "## Live performance", "", f"Status: {performance['status']}."]
    if "labelled" in performance and "metric" in performance:
        lines.append(
            f"Labelled {performance['labelled']}, pending {performance['pending']}, "
            f"missing {performance['missing']} outcomes."
        )
    if performance.get("status") == "measured":
        lines.append(
            f"{performance['metric']} = {_number(performance['value'])} "
            f"(threshold {performance['threshold']})."
        )
        for attribute, groups in performance["slices"].items():
            values = ", ".join(
                f"{group}: {_number(v[performance['metric']])} ({v['rows']} rows)"
                for group, v in groups.items()
            )
            lines.append(f"- `{attribute}`: {values}")
        for attribute, reason in performance.get("unmeasured_slices", {}).items():
            lines.append(f"- `{attribute}`: cannot be measured: {reason}")
        realised = performance.get("realised_value", {})
        if realised.get("status") == "measured":
            low, high = realised["interval"]
            word = "Value" if realised["kind"] == "value" else "Cost of errors"
            lines += [
                "",
                f"{word} per {realised['period']}: realised {realised['realised_per_period']:,.2f}"
                f" (95% interval {low:,.2f} to {high:,.2f}) on {realised['labelled']} labelled "
                f"predictions; training promised {realised['promised_per_period']:,.2f}"
                + (": **short of the promise**." if realised["short"] else "."),
            ]
    return "\n".join(lines) + "\n"


def _number(value: Any, spec: str = ".4f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return format(value, spec)


def _figure_png(reference: pd.Series, current: pd.Series, title: str, categorical: bool) -> str:
    figure, axis = plt.subplots(figsize=(4.2, 2.6), dpi=90)
    if categorical:
        shares = pd.DataFrame(
            {
                "reference": reference.astype(str).value_counts(normalize=True),
                "live": current.dropna().astype(str).value_counts(normalize=True),
            }
        ).fillna(0)
        shares.plot.bar(ax=axis, rot=0)
    else:
        values = [pd.to_numeric(s, errors="coerce").dropna() for s in (reference, current)]
        axis.hist(values, bins=20, density=True, label=["reference", "live"], alpha=0.7)
        axis.legend()
    axis.set_title(title, fontsize=9)
    axis.tick_params(labelsize=7)
    return png_data_uri(figure)


def render_html(result: MonitoringResult) -> str:
    """One self-contained file: the Markdown summary's facts plus a plot per feature."""
    report = result.report
    plots = []
    for drift in result.drift:
        current = result.current[drift.column] if drift.column in result.current else pd.Series()
        title = f"{drift.column}: PSI {_number(drift.psi, '.3f')}" + (
            " (drifted)" if drift.drifted else ""
        )
        image = _figure_png(
            result.reference[drift.column], current, title, drift.kind == "categorical"
        )
        plots.append(f'<figure><img alt="{html.escape(title)}" src="{image}"></figure>')
    prediction = report["prediction_drift"]
    image = _figure_png(
        result.reference_scores,
        result.current_scores,
        f"predictions: PSI {_number(prediction['psi'], '.3f')}",
        prediction["kind"] == "categorical",
    )
    plots.append(f'<figure><img alt="predictions" src="{image}"></figure>')
    summary = html.escape(render_markdown(report))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Monitoring: {html.escape(report['verdict'])}</title>"
        "<style>body{font-family:sans-serif;margin:2em}figure{display:inline-block;margin:4px}"
        "pre{background:#f6f8fa;padding:1em;white-space:pre-wrap}</style></head><body>"
        f"<h1>Monitoring verdict: {html.escape(report['verdict'])}</h1>"
        f"<pre>{summary}</pre><h2>Distributions: reference against live</h2>"
        + "".join(plots)
        + "</body></html>\n"
    )


def write_prometheus(report: dict[str, Any], path: Path) -> None:
    """Gauges the alert rules in monitoring/alerts.yml read."""
    registry = CollectorRegistry()
    verdict = Gauge("ml_monitoring_verdict", "0 ok, 1 retrain, 2 investigate", registry=registry)
    verdict.set(VERDICT_CODES[report["verdict"]])
    psi = Gauge("ml_feature_drift_psi", "PSI of a feature", ["feature"], registry=registry)
    for row in report["drift"]["features"]:
        if row["psi"] is not None and not math.isnan(row["psi"]):
            psi.labels(feature=row["column"]).set(row["psi"])
    drifted = Gauge(
        "ml_features_drifted", "Features past the PSI limit and the test", registry=registry
    )
    drifted.set(len(report["drift"]["drifted"]))
    violation = Gauge(
        "ml_data_contract_violation_ratio",
        "Share of live rows breaking the contract",
        registry=registry,
    )
    violation.set(report["data_quality"]["violation_rate"])
    acted = report.get("acted_share", {})
    if "realised" in acted:
        share = Gauge(
            "ml_decision_acted_share",
            "Share of cases at or above the operating point: planned at training, live",
            ["kind"],
            registry=registry,
        )
        share.labels(kind="planned").set(acted["planned"])
        share.labels(kind="expected").set(acted["expected"])
        share.labels(kind="live").set(acted["realised"])
    realised = report["performance"].get("realised_value", {})
    if realised.get("status") == "measured":
        money = Gauge(
            "ml_decision_value_per_period",
            "The decisions' value (or cost of errors) per period: promised at training, "
            "realised on fed-back outcomes",
            ["kind"],
            registry=registry,
        )
        money.labels(kind="promised").set(realised["promised_per_period"])
        money.labels(kind="realised").set(realised["realised_per_period"])
    trained_at = report["model"]["trained_at"]
    if trained_at is not None:
        trained = Gauge(
            "ml_model_trained_timestamp_seconds",
            "When the champion was trained (Unix time)",
            registry=registry,
        )
        trained.set(datetime.fromisoformat(trained_at).replace(tzinfo=UTC).timestamp())
    last_run = Gauge(
        "ml_monitoring_last_run_timestamp_seconds", "When monitoring last ran", registry=registry
    )
    last_run.set_to_current_time()
    write_to_textfile(str(path), registry)

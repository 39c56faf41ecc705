"""Monitoring on rendered projects, through their own make targets: the verdict, its
exit status and CI output, the retrain it triggers, the online feedback loop and
/metrics, and the alert rules under promtool."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
import urllib.error
from pathlib import Path

import pytest
import yaml

from .helpers import free_port, http, render, run, tool_env


def _in_project(project: Path, code: str) -> str:
    """Run Python in the rendered project's environment (pandas lives there, not here)."""
    return run([str(project / ".venv/bin/python"), "-c", code], project).stdout


def _shifted_scoring(project: Path, destination: Path) -> Path:
    """The sample's scoring rows with monthly charges raised by 40 EUR (inside the contract)."""
    _in_project(
        project,
        "import pandas as pd; f = pd.read_csv('data/sample/scoring.csv'); "
        "f['monthly_charges'] = (f['monthly_charges'] + 40).clip(upper=500); "
        f"f.to_csv('{destination}', index=False)",
    )
    return destination


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _serve_traffic_and_outcomes(project: Path, tmp_path: Path) -> None:
    """150 rows predicted online, one bad request, 40 outcomes fed back, /metrics read."""
    port = free_port()
    server_log = (tmp_path / "server.log").open("w")
    # The venv's entry point directly, so that SIGTERM reaches uvicorn (and its shutdown
    # flushes the prediction log).
    server = subprocess.Popen(
        [str(project / ".venv/bin/customer_churn"), "serve", "--port", str(port)],
        cwd=project, env=tool_env(), stdout=server_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if http(f"{base}/ready")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            time.sleep(0.5)
        rows = json.loads(
            _in_project(
                project,
                "import pandas as pd; f = pd.read_csv('data/sample/scoring.csv'); "
                "print(f.drop(columns=['email']).head(150).to_json(orient='records'))",
            )
        )
        prediction_ids = []
        for start in range(0, len(rows), 50):
            status, body = http(f"{base}/predict", {"rows": rows[start : start + 50]})
            assert status == 200, body
            prediction_ids += [p["prediction_id"] for p in json.loads(body)["predictions"]]
        status, _ = http(f"{base}/predict", {"rows": [{**rows[0], "age": 150}]})
        assert status == 422
        outcomes = [{"prediction_id": pid, "outcome": 1} for pid in prediction_ids[:40]]
        status, body = http(f"{base}/feedback", {"outcomes": outcomes})
        assert (status, json.loads(body)) == (
            202, {"recorded": 40, "corrected": 0, "unchanged": 0}
        )
        status, metrics = http(f"{base}/metrics")
        assert status == 200
        assert 'ml_validation_failures_total{endpoint="/predict"} 1.0' in metrics
        assert (
            'ml_http_requests_total{endpoint="/predict",method="POST",status="200"} 3.0' in metrics
        )
        assert 'ml_model_info{version="1"} 1.0' in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)
        server_log.close()


@pytest.mark.slow
def test_the_feedback_loop_end_to_end(tmp_path: Path) -> None:
    """Online and batch predictions are logged, outcomes join, the verdict drives retraining."""
    project = render(tmp_path / "project", serving_mode="both", tracking="none")
    run(["uv", "sync", "--quiet"], project)
    run(["make", "data", "train"], project)
    _serve_traffic_and_outcomes(project, tmp_path)

    # The log holds what was served, and no raw personal data.
    with sqlite3.connect(project / "data/monitoring/prediction_log.db") as db:
        logged = db.execute("select count(*), group_concat(features) from predictions").fetchone()
    assert logged[0] == 150
    assert "@example.com" not in logged[1] and '"age"' in logged[1]

    # Batch scoring adds 500 rows; same distribution: verdict ok, exit 0, CI hooks fed.
    run(["make", "predict"], project)
    github_output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    ci = {"GITHUB_OUTPUT": str(github_output), "GITHUB_STEP_SUMMARY": str(summary)}
    ok = run(["make", "monitor"], project, check=False, env=ci)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "monitoring verdict: ok" in ok.stdout
    assert _outputs(github_output) == {"verdict": "ok"}
    assert summary.read_text().startswith("# Monitoring: ✅ ok")
    report = json.loads((project / "reports/monitoring/monitoring.json").read_text())
    assert report["window"]["rows"] == 650 and report["window"]["source"] == "prediction log"
    assert report["drift"]["drifted"] == []
    assert report["performance"]["labelled"] == 40
    assert report["performance"]["status"] == "measured"  # 40 labels >= min_labels 30
    assert "data:image/png;base64," in (project / "reports/monitoring/monitoring.html").read_text()
    unchanged = run(["make", "retrain-if-drifted"], project)
    assert "monitoring verdict 'ok': no retraining" in unchanged.stdout
    assert run(["uv", "run", "customer_churn", "champion"], project).stdout.strip() == "1"

    # A mean shift: named, exit 3 ("retrain") from the command; `make monitor` fails
    # (make reports the 3) after handing the verdict to CI; the retrain passes the gate.
    github_output.unlink()
    shifted = _shifted_scoring(project, tmp_path / "shifted.csv")
    command = run(["uv", "run", "customer_churn", "monitor", "--current", str(shifted)], project,
                  check=False)  # fmt: skip
    assert command.returncode == 3, command.stdout + command.stderr
    assert "feature `monthly_charges` drifted" in command.stderr
    drift = run(["make", "monitor", f"CURRENT={shifted}"], project, check=False, env=ci)
    assert drift.returncode != 0 and "Error 3" in drift.stderr
    assert _outputs(github_output) == {"verdict": "retrain"}
    assert _outputs(project / "reports/monitoring/verdict.env") == {"VERDICT": "retrain"}
    # The training data has not changed since version 1: the retrain is recorded, and
    # registers no identical version 2.
    retrained = run(["make", "retrain-if-drifted"], project)
    assert "identical to champion version 1's: no new version registered" in retrained.stdout
    assert run(["uv", "run", "customer_churn", "champion"], project).stdout.strip() == "1"

    # Outcomes for a batch arrive later as a labels file, keyed by prediction_id.
    labels = tmp_path / "labels.csv"
    _in_project(
        project,
        "import pandas as pd; s = pd.read_parquet('data/predictions/predictions.parquet'); "
        "s[['prediction_id']].assign(churned=(s['prediction'] == 0).astype(int))"
        f".to_csv('{labels}', index=False)",
    )
    recorded = run(["make", "feedback", f"LABELS={labels}"], project)
    assert "recorded 500 outcomes" in recorded.stdout
    bad = run(["make", "feedback", f"LABELS={shifted}"], project, check=False)
    assert bad.returncode != 0 and "needs the columns prediction_id and churned" in bad.stderr

    # No live data at all is a clear error (exit 2), not a silent "ok".
    nowhere = {"PREDICTION_LOG_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    empty = run(["uv", "run", "customer_churn", "monitor"], project, check=False, env=nowhere)
    assert empty.returncode == 2 and "no live data" in empty.stderr
    assert run(["make", "monitor"], project, check=False, env=nowhere).returncode != 0
    assert not (project / "reports/monitoring/verdict.env").exists()


def _promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    if os.environ.get("GROUNDWORK_REQUIRE_PROMTOOL") == "1":
        pytest.fail("promtool is missing: apt-get install prometheus")
    pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")


@pytest.mark.parametrize("mode", ["batch", "online"])
def test_alert_rules_pass_promtool_and_fire_when_they_should(mode: str, tmp_path: Path) -> None:
    promtool = _promtool()
    project = render(tmp_path / "project", serving_mode=mode, latency_budget_ms=80)
    rules_file = project / "monitoring/alerts.yml"
    check = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True,
                           text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    rules = {
        rule["alert"]: rule
        for group in yaml.safe_load(rules_file.read_text())["groups"]
        for rule in group["rules"]
    }
    expected = {"ModelDriftDetected", "LiveDataBreaksContract", "ModelStale",
                "MonitoringNotRunning"}  # fmt: skip
    if mode == "online":
        expected |= {"LatencyAboveBudget", "HighErrorRate", "HighValidationFailureRate",
                     "PredictionLogFailing", "UnstableScores", "NoPredictions",
                     "CanarySlowerThanChampion",
                     "CanaryFailing", "ShadowFailing", "NewChampionNotServed"}  # fmt: skip
    assert set(rules) == expected

    # The generated unit tests: per alert, series that fire it and series that do not.
    unit = project / "monitoring/alerts_test.yml"
    groups = yaml.safe_load(unit.read_text())["tests"]
    cases: dict[str, list[int]] = {}
    for group in groups:
        for case in group["alert_rule_test"]:
            cases.setdefault(case["alertname"], []).append(len(case["exp_alerts"]))
    assert {name: sorted(counts) for name, counts in cases.items()} == {
        name: [0, 1] for name in expected
    }
    # The command monitoring/alerts.yml gives, run where it says.
    result = subprocess.run([promtool, "test", "rules", "monitoring/alerts_test.yml"],
                            cwd=project, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
    assert "promtool test rules monitoring/alerts_test.yml" in rules_file.read_text()


def test_the_workflows_hand_the_verdict_to_continuous_training(tmp_path: Path) -> None:
    github = render(tmp_path / "github")
    monitor = yaml.safe_load((github / ".github/workflows/monitor.yml").read_text())
    job = monitor["jobs"]["monitor"]
    step = next(s for s in job["steps"] if s.get("id") == "monitor")
    assert step["run"].strip() == "make monitor"
    assert job["outputs"]["verdict"] == "${{ steps.monitor.outputs.verdict }}"
    retrain = monitor["jobs"]["retrain"]
    assert retrain["needs"] == "monitor"
    assert retrain["if"] == "always() && needs.monitor.outputs.verdict == 'retrain'"
    assert retrain["uses"] == "./.github/workflows/ct.yml"
    ct = yaml.safe_load((github / ".github/workflows/ct.yml").read_text())
    assert "workflow_call" in ct[True]  # PyYAML reads the key `on` as True

    gitlab = render(tmp_path / "gitlab", ci_provider="gitlab")
    pipeline = yaml.safe_load((gitlab / ".gitlab-ci.yml").read_text())
    assert "allow_failure" not in pipeline["monitor"]  # a crossed limit turns the job red
    assert pipeline["monitor"]["artifacts"]["when"] == "always"
    assert pipeline["monitor"]["artifacts"]["reports"]["dotenv"] == "reports/monitoring/verdict.env"
    retrain_on_drift = pipeline["retrain-on-drift"]
    assert retrain_on_drift["needs"] == ["monitor"]
    assert retrain_on_drift["rules"][0]["when"] == "always"  # runs after a red monitor job
    assert "make retrain-if-drifted" in retrain_on_drift["script"]

"""The gate on a rendered project: an unreachable threshold, and the team's own rule.

The synthetic sample is generated to clear the threshold answered at generation, so
the threshold is raised afterwards, as a stricter review of the charter would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import render, run


@pytest.mark.slow
def test_unreachable_threshold_fails_make_train_and_leaves_no_champion(tmp_path: Path) -> None:
    project = render(tmp_path / "project", tracking="none")
    run(["uv", "sync", "--quiet"], project)
    run(["make", "data"], project)

    stricter = {"CUSTOMER_CHURN_GATE__THRESHOLD": "0.9999"}
    result = run(["make", "train"], project, check=False, env=stricter)
    assert result.returncode != 0
    assert "quality gate FAILED: roc_auc = " in result.stderr
    assert "must be at least the threshold 0.9999" in result.stderr
    assert "nothing was promoted; the champion is unchanged" in result.stderr

    # The CT workflow's summary step shows the gate's verdict.
    summary = tmp_path / "summary.md"
    run(["make", "report-summary"], project, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert "Quality gate: **FAILED**" in summary.read_text()
    assert "must be at least the threshold 0.9999" in summary.read_text()

    champion = run(["uv", "run", "customer_churn", "champion"], project, check=False)
    assert champion.returncode == 2
    assert "no champion model in the registry" in champion.stderr
    assert not (project / "models/registry/versions").exists()
    assert "No model has been trained yet" in (project / "docs/model_card.md").read_text()


FROZEN_MODEL_RULE = '''"""Our rule: last quarter's model, frozen (a scorecard the team trusts)."""

from __future__ import annotations

import pandas as pd

from customer_churn.config import get_settings
from customer_churn.registry import load_champion, open_registry


def team_rule(rows: pd.DataFrame) -> pd.Series | None:
    """Last quarter's model, frozen."""
    model, _ = load_champion(open_registry(get_settings().registry))
    return pd.Series(model.predict_proba(rows)[:, 1], index=rows.index)
'''


@pytest.mark.slow
def test_the_teams_rule_is_measured_and_a_model_that_does_not_beat_it_is_blocked(
    tmp_path: Path,
) -> None:
    project = render(tmp_path / "project", tracking="none")
    run(["uv", "sync", "--quiet"], project)
    run(["make", "data"], project)
    first = run(["make", "train"], project)
    assert "the team's rule (model/rule.py) is not written yet" in first.stderr
    assert "team's rule: not written yet" in (project / "reports/evaluation.md").read_text()

    # The team writes its rule: the model it already runs. Retraining the same model
    # beats the prior by far but not the rule, so the gate blocks it and says why.
    (project / "src/customer_churn/model/rule.py").write_text(FROZEN_MODEL_RULE)
    blocked = run(["make", "train"], project, check=False)
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    report = json.loads((project / "reports/evaluation.json").read_text())
    evaluation = report["evaluation"]
    assert evaluation["rule_name"] == "Last quarter's model, frozen"
    assert evaluation["rule"] == evaluation["model"] > evaluation["baseline"] + 0.05
    failed = [check for check in report["gate"]["checks"] if not check["passed"]]
    # Worth no more than the rule per week either: equal is not better.
    assert [check["name"] for check in failed] == ["team_rule", "value"]
    assert (
        f"roc_auc = {evaluation['model']:.4f} must beat the team's rule (Last quarter's model, "
        f"frozen) {evaluation['rule']:.4f} by 0.0500; the margin is 0.0000"
    ) in blocked.stderr
    markdown = (project / "reports/evaluation.md").read_text()
    assert f"| team's rule: Last quarter's model, frozen | {evaluation['rule']:.4f} |" in markdown
    assert "team's rule |" in markdown  # the slices show the rule beside the model


@pytest.mark.slow
def test_a_degenerate_model_is_blocked_by_a_guardrail(tmp_path: Path) -> None:
    """Recall rewards flagging every case: the default guardrails for recall stop it.
    Under a threshold policy a constant score is acted on everywhere or nowhere, so the
    guardrails, measured at the operating point, see every case flagged."""
    project = render(tmp_path / "project", tracking="none", success_metric="recall",
                     essentials_only=False, decision_policy="threshold")  # fmt: skip
    settings = (project / "config/settings.toml").read_text()
    assert "precision_min = 0.3\npositive_rate_max = 0.5\n" in settings
    # The degenerate model stands as the candidate, unsearched.
    unsearched = settings.replace("search = true", "search = false")
    (project / "config/settings.toml").write_text(unsearched)
    estimators = project / "src/customer_churn/model/estimators.py"
    source = estimators.read_text()
    flag_everyone = 'DummyClassifier(strategy="constant", constant=1)'
    estimators.write_text(
        source.replace("LogisticRegression(max_iter=1000, random_state=seed)", flag_everyone)
    )
    run(["uv", "sync", "--quiet"], project)
    run(["make", "data"], project)
    blocked = run(["make", "train"], project, check=False)
    assert blocked.returncode != 0
    assert "recall: model 1.0000" in blocked.stdout
    assert (
        "quality gate FAILED: guardrail: positive_rate = 1.0000 must be at most 0.5000"
        in blocked.stderr
    )
    report = json.loads((project / "reports/evaluation.json").read_text())
    failed = {check["name"] for check in report["gate"]["checks"] if not check["passed"]}
    # Acting on every case is untargeted action itself: the value check fails too.
    assert {"guardrail_positive_rate_max", "value"} <= failed
    assert all(name.startswith("guardrail_") or name == "value" for name in failed)
    assert (
        "| guardrail: positive_rate ≤ 0.5000 | 1.0000 |"
        in (project / "reports/evaluation.md").read_text()
    )


FEATURES_OF_THE_CHAMPION = """
from customer_churn.config import get_settings
from customer_churn.registry import load_champion, open_registry
model, _ = load_champion(open_registry(get_settings().registry))
steps = model[0].transformers_
print(sorted(c for name, _, cols in steps if name != "remainder" for c in cols))
"""


@pytest.mark.slow
def test_slices_gate_the_model_and_sensitive_attributes_are_not_inputs(tmp_path: Path) -> None:
    project = render(tmp_path / "project", tracking="none")
    run(["uv", "sync", "--quiet"], project)
    run(["make", "data"], project)
    run(["make", "train"], project)
    inputs = run(["uv", "run", "python", "-c", FEATURES_OF_THE_CHAMPION], project).stdout
    assert "gender" not in inputs and "tenure_months" in inputs  # a slice, not an input
    slices = json.loads((project / "reports/evaluation.json").read_text())["evaluation"]
    overall, groups = slices["model"], slices["slices"]["gender"]
    assert all(values["judged"] and values["interval"] for values in groups.values())
    worst = min(groups, key=lambda group: groups[group]["roc_auc"])

    # A threshold the model clears overall but its worst slice does not: blocked, named.
    threshold = round((overall + groups[worst]["roc_auc"]) / 2, 4)
    stricter = {"CUSTOMER_CHURN_GATE__THRESHOLD": str(threshold),
                "CUSTOMER_CHURN_GATE__SLICE_TOLERANCE": "0"}  # fmt: skip
    blocked = run(["make", "train"], project, check=False, env=stricter)
    assert blocked.returncode != 0
    assert f"quality gate FAILED: slice gender={worst} ({groups[worst]['rows']} rows)" in (
        blocked.stderr
    )
    failed = [line for line in blocked.stderr.splitlines() if "quality gate FAILED" in line]
    assert failed and all("FAILED: slice gender=" in line for line in failed)

    # Slices smaller than slice_min_rows are reported as too small, never judged.
    smaller = {"CUSTOMER_CHURN_GATE__SLICE_MIN_ROWS": "1000"}
    passed = run(["make", "train"], project, env=smaller)
    assert f"slice gender={worst}: too small to judge" in passed.stderr
    report = (project / "reports/evaluation.md").read_text()
    # Both the metric's slice table and the decisions-by-group table say so for each group.
    assert report.count("| too small to judge |") == 2 * len(groups)
    assert "slice gender=" not in report.split("Slices by")[0]  # no gate check for them

    # A sensitive attribute the model may use, when the team says so.
    allowed = {"CUSTOMER_CHURN_DATA__SENSITIVE_FEATURES": '["gender"]',
               "CUSTOMER_CHURN_GATE__CHAMPION_TOLERANCE": "1"}  # fmt: skip
    run(["make", "train"], project, env=allowed)
    inputs = run(["uv", "run", "python", "-c", FEATURES_OF_THE_CHAMPION], project, env=allowed)
    assert "gender" in inputs.stdout

    # An attribute with a value per person cannot be a slice: refused with the reason.
    refused = {"CUSTOMER_CHURN_DATA__SENSITIVE_ATTRIBUTES": '["email"]'}
    result = run(["make", "train"], project, check=False, env=refused)
    assert result.returncode != 0
    assert "sensitive attribute 'email' has" in result.stderr
    assert "too many to judge slice by slice" in result.stderr

"""An unreachable threshold refuses to promote anything.

The synthetic sample is generated to clear the threshold answered at generation, so
the threshold is raised afterwards, as a stricter review of the charter would.
"""

from __future__ import annotations

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

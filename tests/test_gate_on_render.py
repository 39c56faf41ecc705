"""A project rendered with an unreachable threshold refuses to promote anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import render, run


@pytest.mark.slow
def test_unreachable_threshold_fails_make_train_and_leaves_no_champion(tmp_path: Path) -> None:
    project = render(tmp_path / "project", success_threshold=0.99, tracking="none")
    run(["uv", "sync", "--quiet"], project)
    run(["make", "data"], project)

    result = run(["make", "train"], project, check=False)
    assert result.returncode != 0
    assert "quality gate FAILED: roc_auc = " in result.stderr
    assert "must be at least the threshold 0.9900" in result.stderr
    assert "nothing was promoted; the champion is unchanged" in result.stderr

    # The CT workflow's summary step shows the gate's verdict.
    summary = tmp_path / "summary.md"
    run(["make", "report-summary"], project, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert "Quality gate: **FAILED**" in summary.read_text()
    assert "must be at least the threshold 0.9900" in summary.read_text()

    champion = run(["uv", "run", "customer_churn", "champion"], project, check=False)
    assert champion.returncode == 2
    assert "no champion model in the registry" in champion.stderr
    assert not (project / "models/registry/versions").exists()
    assert "No model has been trained yet" in (project / "docs/model_card.md").read_text()

"""Delivery ships the registry's champion, never a newly trained model: a rollback
followed by the CD workflow's own commands ships the rolled-back version, and an
identical retrain registers nothing new."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from .helpers import render, run, workflow_steps

# The image is built and pushed by test_container; here the model that goes into it.
NEEDS_A_CONTAINER = {"image", "image-login", "image-push"}
RESEEDED = {"CUSTOMER_CHURN_PROJECT__SEED": "7"}  # a changed setting: a new model


def _champion(project: Path) -> str:
    return run(["uv", "run", "customer_churn", "champion"], project).stdout.strip()


@pytest.mark.slow
def test_a_rollback_reaches_production_through_the_cd_commands(tmp_path: Path) -> None:
    project = render(tmp_path / "project", serving_mode="batch", tracking="mlflow")
    for target in ("setup", "data"):
        run(["make", target], project)
    first = run(["make", "train"], project)
    assert "quality gate passed: version 1 is champion" in first.stdout

    # The same data, code and config again: recorded, nothing registered.
    again = run(["make", "train"], project)
    assert "identical to champion version 1's: no new version registered" in again.stdout
    assert _champion(project) == "1"

    second = run(["make", "train"], project, env=RESEEDED)
    assert "quality gate passed: version 2 is champion" in second.stdout
    assert "rolled back: version 1 is champion" in run(["make", "rollback"], project).stdout

    # The CD image job, command by command: it never trains, and ships version 1.
    steps = workflow_steps(project, "cd", "image")
    assert not any(shlex.split(step)[1] in {"train", "validate"} for step in steps), steps
    for step in steps:
        if shlex.split(step)[1] not in NEEDS_A_CONTAINER:
            run(shlex.split(step), project)
    assert (project / "dist/champion/VERSION").read_text().strip() == "1"
    assert (project / "dist/champion/model.skops").is_file()
    assert not list((project / "dist/champion").glob("*.joblib")), "a pickle was exported"
    assert _champion(project) == "1", "CD changed the champion"

    # Asked for a version that is not the champion, the export refuses and keeps the
    # previous export as it was.
    refused = run(["make", "export-model"], project, check=False, env={"MODEL_VERSION": "2"})
    assert refused.returncode != 0
    assert "model version 2 is not the champion (version 1 is)" in refused.stderr
    assert (project / "dist/champion/VERSION").read_text().strip() == "1"
    shipped = run(["make", "export-model"], project, env={"MODEL_VERSION": "1"})
    assert "exported champion v1" in shipped.stdout and "holdout rows" in shipped.stdout


def test_gitlab_releases_ship_the_champion_without_training(tmp_path: Path) -> None:
    project = render(tmp_path / "project", ci_provider="gitlab", tracking="mlflow")
    jobs = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    release = jobs["release-model"]
    assert release["rules"] == [{"if": "$CI_COMMIT_TAG"}]
    assert "make train" not in release["script"] and "make export-model" in release["script"]
    # On a tag, the training job stands down: the image gets the released champion.
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule" || $CI_COMMIT_TAG', "when": "never"} in (
        jobs["train"]["rules"]
    )
    assert {"job": "release-model", "optional": True} in jobs["build-image"]["needs"]

"""Delivery ships the registry's champion, never a newly trained model, and says
clearly when it cannot: a rollback followed by the CD workflow's own commands ships
the rolled-back version, an identical retrain registers nothing new, and registry,
model and disk faults each give one message and their own exit status (5 registry or
model fault, 6 disk full), never a traceback and never 1, which the README reserves
for a failed quality gate. One project serves the whole story: training it is the
slow part."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .helpers import render, run, workflow_steps

# The image is built and pushed by test_container; here the model that goes into it.
# test_container builds the images; built here too, `jobs-image` retagged the image that
# test ran at the same moment (the engine's tags are shared between test workers).
NEEDS_A_CONTAINER = {"image", "jobs-image", "image-login", "image-push", "image-smoke",
                     "image-digest"}  # fmt: skip
RESEEDED = {"CUSTOMER_CHURN_PROJECT__SEED": "7"}  # a changed setting: a new model
REGISTRY_FAULT, NO_SPACE = 5, 6


def _cli(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run(["uv", "run", "customer_churn", *args], project, check=False, env=env)


def _fails_cleanly(result: subprocess.CompletedProcess[str], status: int, message: str) -> None:
    assert result.returncode == status, result.stdout + result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "╭─" not in result.stderr, result.stderr


def _champion(project: Path) -> str:
    return run(["uv", "run", "customer_churn", "champion"], project).stdout.strip()


@pytest.mark.slow
def test_a_rollback_reaches_production_and_delivery_faults_are_named(tmp_path: Path) -> None:
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

    _registry_faults(project)
    unmountable = _full_disk(project, tmp_path)
    _moved(project, tmp_path)
    if unmountable:
        pytest.skip(f"the full-disk case did not run: cannot mount a tmpfs ({unmountable})")


def _registry_faults(project: Path) -> None:
    store = project / "mlruns/mlflow.db"
    models = list((project / "mlruns").rglob("model.skops"))
    saved_store, saved_models = store.read_bytes(), [m.read_bytes() for m in models]

    # Corrupt stored models, then missing ones.
    for model in models:
        model.write_bytes(b"not a model")
    _fails_cleanly(_cli(project, "export-model"), REGISTRY_FAULT, "model version 1 in the registry")
    for model in models:
        model.unlink()
    _fails_cleanly(_cli(project, "export-model"), REGISTRY_FAULT, "missing or corrupt")
    for model, saved in zip(models, saved_models, strict=True):
        model.write_bytes(saved)

    # A tracking database that is not one: every command says so, training included.
    store.write_bytes(b"garbage, not SQLite")
    _fails_cleanly(_cli(project, "champion"), REGISTRY_FAULT, "cannot be used (DatabaseError")
    train = run(["make", "train"], project, check=False)
    assert "Error 5" in train.stderr and "quality gate" not in train.stdout + train.stderr
    store.write_bytes(saved_store)
    assert _champion(project) == "1"


def _full_disk(project: Path, tmp_path: Path) -> str | None:
    """A real full disk: a 4 KiB tmpfs (mounting needs root; CI runs as root). Returns
    why it could not run, if it could not."""
    full = tmp_path / "full"
    full.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(full)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        return mounted.stderr.strip()
    try:
        env = {"CUSTOMER_CHURN_REGISTRY__EXPORT_PATH": str(full / "champion")}
        _fails_cleanly(_cli(project, "export-model", env=env), NO_SPACE, "no space left")
        assert not list(full.iterdir()), "a half-written export was left behind"
    finally:
        subprocess.run(["umount", str(full)], check=False)
    return None


def _moved(project: Path, tmp_path: Path) -> None:
    """A renamed project folder keeps its registry: the embedded store records absolute
    artifact paths, which are found again below the new folder."""
    moved = Path(shutil.move(project, tmp_path / "renamed"))
    run(["uv", "sync", "--quiet"], moved)
    assert "exported champion v1" in _cli(moved, "export-model").stdout
    again = run(["make", "train"], moved)  # the champion's recorded lineage is found too
    assert "identical to champion version 1's" in again.stdout


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

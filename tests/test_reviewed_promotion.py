"""Promotion by pull request: continuous training proposes a model in a branch and a
pull (or merge) request; merging it, and only that, makes the model champion.

The workflows' make targets run in workflow order against a local bare repository
standing in for the forge, with a stand-in `gh` that records what it was asked to do.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
from pathlib import Path

import pytest

from .helpers import ROOT, render, run, workflow_steps

NEEDS_A_CONTAINER = {
    "image",
    "jobs-image",  # built here too, it retagged the jobs image test_container was running
    "image-login",
    "image-push",
    "image-smoke",
    "image-digest",
}  # test_container builds images
BRANCH = "ct/model-v2"

FAKE_GH = """#!/usr/bin/env bash
# Records each call; `gh pr view` finds no open pull request.
printf '%s\\n' "$*" >> "{log}"
if [ "$1 $2" = "pr view" ]; then exit 1; fi
while [ $# -gt 0 ]; do
  if [ "$1" = --body-file ]; then cp "$2" "{body}"; fi
  shift
done
echo "https://github.com/acme/customer-churn/pull/1"
"""

# The bare repository records the push options GitLab would act on.
RECORD_PUSH_OPTIONS = r"""#!/usr/bin/env bash
for ((i = 0; i < ${GIT_PUSH_OPTION_COUNT:-0}; i++)); do
  name="GIT_PUSH_OPTION_$i"
  printf '%s\n' "${!name}" >> push-options
done
"""
# Outside a CI job, whatever the machine running these tests is.
NOT_IN_CI = {"GITHUB_ACTIONS": "", "GITLAB_CI": "", "GITHUB_REF_NAME": "", "CI_COMMIT_REF_NAME": ""}


def _with_forge(project: Path, tmp_path: Path) -> Path:
    """Commit the project on `main` and give it a bare `origin`, as a clone in CI has."""
    remote = tmp_path / "forge.git"
    run(["git", "init", "--quiet", "--bare", str(remote)], tmp_path)
    run(["git", "init", "--quiet", "--initial-branch", "main"], project)
    run(["git", "add", "--all"], project)
    run(["git", "commit", "--quiet", "--message", "Generated project"], project)
    run(["git", "remote", "add", "origin", str(remote)], project)
    run(["git", "push", "--quiet", "origin", "main"], project)
    return remote


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run_job(project: Path, workflow: str, job: str, env: dict[str, str]) -> str:
    output = ""
    for command in workflow_steps(project, workflow, job):
        if command.split()[1] in NEEDS_A_CONTAINER:
            continue
        result = run(shlex.split(command), project, env=env)
        output += result.stdout + result.stderr
    return output


def _champion(project: Path) -> str | None:
    result = run(["uv", "run", "customer_churn", "champion"], project, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


@pytest.mark.slow
def test_training_proposes_and_only_a_merge_promotes(tmp_path: Path) -> None:
    project = render(tmp_path / "project", ct_promotion="pull_request", serving_mode="batch")
    remote = _with_forge(project, tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh_log, body = tmp_path / "gh.log", tmp_path / "body.md"
    _executable(bin_dir / "gh", FAKE_GH.format(log=gh_log, body=body))
    env = {**NOT_IN_CI, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

    # ci: the sample trains, and is promoted in the job's own registry to build the image
    # (lint and tests in this mode: test_render_matrix).
    output = _run_job(project, "ci", "train", env)
    assert "version 1 from config/champion.json is now champion" in output
    run(["git", "checkout", "--quiet", "--", "docs/model_card.md"], project)
    (project / "config/champion.json").unlink()

    # ct: the retrain job registers a passing model without promoting it (another seed
    # stands in for new data: on identical data, code and config it would register
    # nothing) ...
    output = _run_job(project, "ct", "retrain", {**env, "CUSTOMER_CHURN_PROJECT__SEED": "7"})
    assert "quality gate passed: version 2 is proposed" in output
    # ... and the propose job pushes a branch and opens a pull request.
    output = _run_job(project, "ct", "propose", env)
    assert f"proposed model version 2 on branch {BRANCH}" in output
    changed = run(["git", "diff", "--name-only", "main", BRANCH], remote).stdout.split()
    assert sorted(changed) == ["config/champion.json", "docs/model_card.md"]
    proposal = json.loads(run(["git", "show", f"{BRANCH}:config/champion.json"], remote).stdout)
    assert proposal["model_version"] == "2" and proposal["gate"]["passed"] is True
    calls = gh_log.read_text().splitlines()
    assert calls[-1].startswith(f"pr create --base main --head {BRANCH} --title Propose model")
    assert "Quality gate: **PASSED**" in body.read_text()
    assert _champion(project) == "1", "proposing promoted the model"

    # The merge is the approval; the promote workflow applies it, and a re-run is a no-op.
    run(["git", "checkout", "--quiet", "main"], project)
    run(["git", "merge", "--quiet", "--ff-only", BRANCH], project)
    assert "version 2 from config/champion.json is now champion" in _run_job(
        project, "promote", "promote", env
    )
    assert "was already champion" in _run_job(project, "promote", "promote", env)
    assert _champion(project) == "2"

    # cd ships the approved champion, without training a new one.
    _run_job(project, "cd", "image", env)
    assert (project / "dist/champion/VERSION").read_text().strip() == "2"

    # A retrained model that fails the gate proposes nothing and leaves the champion.
    failed = run(["make", "train"], project, check=False,
                 env={**env, "CUSTOMER_CHURN_GATE__THRESHOLD": "1.0"})  # fmt: skip
    assert failed.returncode != 0 and "nothing was promoted" in failed.stderr
    assert "nothing to propose" in run(["make", "propose-model"], project, env=env).stdout
    assert _champion(project) == "2"


def _proposal(version: str, passed: bool = True) -> str:
    report = {
        "model_version": version,
        "gate": {"passed": passed, "checks": []},
        "evaluation": {"metric": "roc_auc", "model": 0.81234, "baseline": 0.5},
        "registry": "https://mlflow.example.com",
    }
    return json.dumps(report, indent=2)


def test_gitlab_proposal_opens_a_merge_request_with_push_options(tmp_path: Path) -> None:
    project = render(tmp_path / "project", ci_provider="gitlab", ct_promotion="pull_request")
    remote = _with_forge(project, tmp_path)
    run(["git", "config", "receive.advertisePushOptions", "true"], remote)
    _executable(remote / "hooks" / "pre-receive", RECORD_PUSH_OPTIONS)

    (project / "config/champion.json").write_text(_proposal("4"))
    result = run(["make", "propose-model"], project, env=NOT_IN_CI)
    assert "proposed model version 4 on branch ct/model-v4" in result.stdout
    options = (remote / "push-options").read_text().splitlines()
    assert "merge_request.create" in options
    assert "merge_request.target=main" in options
    assert (
        "merge_request.title=Propose model version 4: roc_auc 0.8123 (baseline 0.5000)" in options
    )
    assert run(["git", "show", "ct/model-v4:config/champion.json"], remote).stdout.strip()


@pytest.mark.parametrize(
    ("provider", "proposal", "env", "message"),
    [
        ("github", None, {}, "no config/champion.json: run `make train` first"),
        ("github", _proposal("2", passed=False), {}, "did not pass the quality gate"),
        ("github", _proposal("2"), {"GITHUB_ACTIONS": "true"}, "GH_TOKEN is not set"),
        ("gitlab", _proposal("2"), {"GITLAB_CI": "true"}, "CT_PUSH_TOKEN is not set"),
    ],
    ids=["no-proposal", "failed-gate", "github-without-token", "gitlab-without-token"],
)
def test_a_proposal_that_cannot_be_made_fails_clearly_and_pushes_nothing(
    provider: str, proposal: str | None, env: dict[str, str], message: str, tmp_path: Path
) -> None:
    project = render(tmp_path / "project", ci_provider=provider, ct_promotion="pull_request")
    remote = _with_forge(project, tmp_path)
    if proposal is not None:
        (project / "config/champion.json").write_text(proposal)
    ci_env = {**NOT_IN_CI, "GH_TOKEN": "", "CT_PUSH_TOKEN": "", **env}
    result = run(["make", "propose-model"], project, check=False, env=ci_env)
    assert result.returncode != 0
    assert message in result.stderr
    assert run(["git", "branch", "--list", "ct/*"], remote).stdout.strip() == ""


def test_review_needs_a_registry_that_outlives_the_job(tmp_path: Path) -> None:
    from copier import run_copy

    with pytest.raises(ValueError, match="'ct_promotion': needs tracking 'mlflow'"):
        run_copy(str(ROOT), tmp_path / "project", vcs_ref="HEAD", defaults=True,
                 data={"tracking": "none", "ct_promotion": "pull_request"},
                 skip_tasks=True, quiet=True)  # fmt: skip
    assert not (tmp_path / "project" / "Makefile").exists()

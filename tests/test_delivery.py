"""Delivery pipelines: valid against their schemas, clean under their ecosystems'
security linters, and made only of `make` targets."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import render

BIN = Path(sys.executable).parent
CASES = [
    (provider, mode, "automatic")
    for provider in ("github", "gitlab")
    for mode in ("batch", "online", "both")
] + [("github", "online", "pull_request"), ("gitlab", "both", "pull_request")]
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
MAKE_STEP = re.compile(r"^make [a-z-]+( [A-Z_]+=[\w.-]+)*$")
# Steps that must not go through make: one runs before make parses the Makefile (an
# update may have left it unparseable), the other so Makefile.local cannot pick the judge.
SHELL_STEPS = {"merged", "the standard, judged by the platform's template source"}


def _tool(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    executable = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert executable, f"{name} is not installed (it is in the dev dependency group)"
    return subprocess.run([executable, *args], cwd=cwd, capture_output=True, text=True)


def _workflows(project: Path) -> dict[str, dict[str, Any]]:
    folder = project / ".github" / "workflows"
    return {path.stem: yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*.yml"))}


@pytest.mark.parametrize(
    ("provider", "mode", "promotion"), CASES, ids=["-".join(case) for case in CASES]
)
def test_pipelines_validate_and_pass_linters(
    provider: str, mode: str, promotion: str, tmp_path: Path
) -> None:
    project = render(
        tmp_path / "project", ci_provider=provider, serving_mode=mode, ct_promotion=promotion
    )

    if provider == "github":
        workflows = _workflows(project)
        expected = {"ci", "cd", "ct", "monitor"} | ({"batch"} if mode != "online" else set())
        expected |= {"promote"} if promotion == "pull_request" else set()
        assert set(workflows) == expected
        assert not (project / ".gitlab-ci.yml").exists()
        paths = [str(p) for p in sorted((project / ".github/workflows").glob("*.yml"))]
        schema = _tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                       *paths, cwd=project)  # fmt: skip
        assert schema.returncode == 0, schema.stdout + schema.stderr
        audit = _tool("zizmor", "--offline", "--no-progress", ".github/workflows", cwd=project)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        assert "No findings" in audit.stdout + audit.stderr
        for name, workflow in workflows.items():
            _assert_github_hygiene(name, workflow)
    else:
        assert not (project / ".github" / "workflows").exists()
        schema = _tool("check-jsonschema", "--builtin-schema", "vendor.gitlab-ci",
                       ".gitlab-ci.yml", cwd=project)  # fmt: skip
        assert schema.returncode == 0, schema.stdout + schema.stderr
        pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
        _assert_gitlab_scripts_are_make_targets(pipeline)
        _assert_gitlab_images_are_pinned_by_digest(pipeline)

    compose = _tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec",
                    "compose.yaml", cwd=project)  # fmt: skip
    assert compose.returncode == 0, compose.stdout + compose.stderr
    services = yaml.safe_load((project / "compose.yaml").read_text())["services"]
    # The shared-registry trio, started only on request, published only on loopback.
    registry = {name for name, spec in services.items() if "registry" in spec.get("profiles", [])}
    assert registry == {"registry-db", "registry-store", "mlflow"}
    assert all(
        port.startswith("127.0.0.1:") for s in services.values() for port in s.get("ports", [])
    )
    assert {"--serve-artifacts", "--backend-store-uri"} <= set(services["mlflow"]["command"])
    assert "docker compose --profile registry up -d" in (project / "README.md").read_text()
    renovate = _tool("check-jsonschema", "--builtin-schema", "vendor.renovate",
                     "renovate.json", cwd=project)  # fmt: skip
    assert renovate.returncode == 0, renovate.stdout + renovate.stderr
    renovate_config = json.loads((project / "renovate.json").read_text())
    assert renovate_config["copier"]["enabled"] is True
    # Renovate keeps GitLab CI's digests current and pins compose's on its first run.
    assert any(rule.get("pinDigests") is True and "gitlabci" in rule["matchManagers"]
               for rule in renovate_config["packageRules"])  # fmt: skip

    hadolint = _tool("hadolint", "--failure-threshold", "style", "Dockerfile", cwd=project)
    assert hadolint.returncode == 0 and not hadolint.stdout.strip(), hadolint.stdout
    scripts = [str(p) for p in (project / "scripts").glob("*.sh")]
    assert scripts
    shellcheck = _tool("shellcheck", *scripts, cwd=project)
    assert shellcheck.returncode == 0, shellcheck.stdout


def _assert_github_hygiene(name: str, workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {}, f"{name}: top-level permissions must be empty"
    assert "concurrency" in workflow, f"{name}: no concurrency group"
    for job_name, job in workflow["jobs"].items():
        where = f"{name}.{job_name}"
        assert "permissions" in job, f"{where}: no job permissions"
        if "uses" in job:  # calls a workflow of this repository, which has its own timeouts
            assert job["uses"].startswith("./.github/workflows/"), where
            continue
        assert "timeout-minutes" in job, f"{where}: no timeout"
        for step in job["steps"]:
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]), f"{where}: {step['uses']} is not SHA-pinned"
                if step["uses"].startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, where
            if "run" in step and step.get("name") not in SHELL_STEPS:
                assert MAKE_STEP.match(step["run"].strip()), f"{where}: `{step['run']}`"
            if "run" in step:
                assert "${{" not in step["run"], f"{where}: expression inside run"


PINNED_IMAGE = re.compile(r"(?P<name>[\w./-]+):(?P<tag>[\w.-]+)@sha256:[0-9a-f]{64}")


def _assert_gitlab_images_are_pinned_by_digest(pipeline: dict[str, Any]) -> None:
    """Like the actions by commit SHA: every job and service image by digest, its tag
    kept beside it for Renovate, one digest per tag across the file."""
    images = []
    for job in pipeline.values():
        if isinstance(job, dict):
            images += [job["image"]] if "image" in job else []
            images += [
                service if isinstance(service, str) else service["name"]
                for service in job.get("services", [])
            ]
    assert {"python", "docker"} <= {image.split(":")[0] for image in images}, images
    for image in images:
        assert PINNED_IMAGE.fullmatch(image), f"{image} is not pinned by digest"
    digests = {image.split("@")[0]: image for image in images}
    assert len(digests) == len(set(images)), f"one tag, two digests: {sorted(set(images))}"


def _assert_gitlab_scripts_are_make_targets(pipeline: dict[str, Any]) -> None:
    jobs = {k: v for k, v in pipeline.items() if isinstance(v, dict) and "script" in v}
    required = {"lint", "test", "train", "build-image", "retrain", "monitor", "retrain-on-drift"}
    assert required <= set(jobs)
    for name, job in jobs.items():
        assert "timeout" in job or "extends" in job, f"{name}: no timeout"
        for line in job["script"]:
            if name == "template-standard" and "GROUNDWORK_STANDARD_URL" in line:
                continue  # the platform's judge, not through make (SHELL_STEPS)
            command = line.split("make ", 1)
            assert len(command) == 2 and MAKE_STEP.match("make " + command[1]), f"{name}: {line}"


def _make_targets(commands: list[str]) -> set[str]:
    return {command.split("make ", 1)[1].split()[0] for command in commands if "make " in command}


@pytest.mark.parametrize(
    ("mode", "promotion"),
    [("batch", "automatic"), ("online", "automatic"), ("both", "automatic"),
     ("both", "pull_request")],
)  # fmt: skip
def test_gitlab_runs_only_targets_the_github_order_test_exercises(
    mode: str, promotion: str, tmp_path: Path
) -> None:
    """test_container (and test_reviewed_promotion) run the GitHub workflows' targets in
    order; GitLab uses no others."""
    github = render(tmp_path / "github", serving_mode=mode, ct_promotion=promotion)
    gitlab = render(
        tmp_path / "gitlab", serving_mode=mode, ci_provider="gitlab", ct_promotion=promotion
    )
    github_commands = [
        step["run"]
        for workflow in _workflows(github).values()
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    ]
    pipeline = yaml.safe_load((gitlab / ".gitlab-ci.yml").read_text())
    gitlab_commands = [
        line for job in pipeline.values() if isinstance(job, dict) for line in job.get("script", [])
    ]
    # GitLab retrains on a verdict with a make target (GitHub calls the ct workflow);
    # test_monitoring runs that target. Its image job has docker and no Python, so the
    # image checks itself; test_container runs that target on every image it builds.
    github_targets = _make_targets(github_commands) | {"retrain-if-drifted", "image-self-test"}
    assert _make_targets(gitlab_commands) <= github_targets
    build = pipeline["build-image"]["script"]
    assert build.index("make image-self-test") < build.index("make image-push"), build
    # MLflow projects' CronJobs run the jobs image: both pipelines build it before the
    # push, which pushes it too, and hand its digest to the deploy jobs.
    github_image = [step["run"] for step in _workflows(github)["cd"]["jobs"]["image"]["steps"]
                    if "run" in step]  # fmt: skip
    for commands in (build, github_image):
        assert commands.index("make jobs-image") < commands.index("make image-push"), commands
    makefile = (gitlab / "Makefile").read_text()
    assert '$(CONTAINER) push "$(JOBS_IMAGE_REF)"' in makefile
    for job in _workflows(github)["cd"]["jobs"].values():
        if job.get("environment"):
            assert "needs.image.outputs.jobs_digest" in job["env"]["JOBS_IMAGE_DIGEST"]
    for target in _make_targets(gitlab_commands):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"no make target {target}"


READS_DATA = {"validate", "train", "evaluate", "predict", "monitor", "all", "serve-smoke"}


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_every_job_gets_its_data_through_the_one_data_step(provider: str, tmp_path: Path) -> None:
    """No job reads data before `make data` (the sample, or the team's fetch and source)."""
    project = render(tmp_path / provider, serving_mode="both", ci_provider=provider)
    if provider == "github":
        jobs = {
            f"{name}/{job_name}": [s["run"] for s in job.get("steps", []) if "run" in s]
            for name, workflow in _workflows(project).items()
            for job_name, job in workflow["jobs"].items()
        }
    else:
        pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
        jobs = {
            name: list(job.get("script", []))
            for name, job in pipeline.items()
            if isinstance(job, dict) and "script" in job
        }
    readers = 0
    for name, commands in jobs.items():
        targets = [t for c in commands for t in _make_targets([c])]
        reading = [i for i, t in enumerate(targets) if t in READS_DATA]
        if reading:
            readers += 1
            assert "data" in targets[: reading[0]], f"{name} reads data before `make data`"
    assert readers >= 4  # ci, ct, batch, monitor at least

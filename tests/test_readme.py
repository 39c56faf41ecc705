"""The README's two commands: the generate-and-run one works as written, and CI runs
the test command the README shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .helpers import ROOT, answers_of, render, run


def _bash_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)]


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _bash_blocks()[1]
    assert test_command.startswith("uv run pytest")
    assert test_command in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_readme_generate_command_runs_end_to_end(tmp_path: Path) -> None:
    generate = _bash_blocks()[0]
    assert "--defaults" in generate and "make -C ../my-ml-project setup all" in generate
    checkout = tmp_path / "groundwork"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(".venv", "site", "*_cache"))
    result = run(["bash", "-c", generate], checkout, timeout=1200)
    output = result.stdout + result.stderr
    project = tmp_path / "my-ml-project"
    assert "quality gate passed: version 1 is champion" in output
    assert (project / "data/predictions/predictions.parquet").exists()
    # No --trust: `make setup` made the repository and its first commit.
    assert "--trust" not in generate
    log = run(["git", "log", "--format=%s"], project).stdout.splitlines()
    assert log == ["Initial commit from the groundwork template"]
    # The recorded source is absolute, so the lifecycle commands can find it again.
    assert answers_of(project)["_src_path"] == str(checkout)


def test_the_generated_readme_names_every_metric_the_service_exports(tmp_path: Path) -> None:
    """The README's list of `/metrics` names is the telemetry module's, no more, no less."""
    project = render(tmp_path / "project", serving_mode="online")
    telemetry = (project / "src/customer_churn/serving/telemetry.py").read_text()
    suffix = {"Counter": "_total", "Info": "_info", "Histogram": "", "Gauge": ""}
    exported = {
        name + suffix[kind]
        for kind, name in re.findall(r"(Counter|Histogram|Gauge|Info)\(\s*\"(ml_\w+)\"", telemetry)
    }
    readme = (project / "README.md").read_text()
    paragraph = readme.split("The service exports Prometheus metrics at `/metrics`:")[1]
    listed = set(re.findall(r"`(ml_\w+)`", paragraph.split("\n\n")[0]))
    assert len(exported) > 10 and listed == exported, (listed - exported, exported - listed)


# The README's words for the generated tests, and where each is found in a render.
TESTS_NAMED = {
    "contract": ("test_contract.py", "def test_"),
    "features": ("test_features.py", "def test_"),
    "gate": ("test_gate.py", "def test_"),
    "reproducibility": ("test_training.py", "def test_training_twice_gives_identical_metrics"),
    "scoring": ("test_batch.py", "def test_batch_scores_every_row_with_the_model_version"),
    "API": ("test_api.py", "def test_"),
    "latency": ("test_api.py", "def test_latency_is_nowhere_near_ten_times_the_budget"),
    "drift detection": ("test_monitoring.py", "drift"),
    "feedback join": ("test_monitoring.py", "def test_feedback_joins_with_late_labels"),
    "/metrics": ("test_api.py", "def test_metrics_expose_the_documented_series"),
    "alert rules": ("test_alert_rules.py", "def test_"),
}
# The README's words for scripts/, and the file each names (some only for some answers).
SCRIPTS_NAMED = {
    "conformance check": "conformance.py",
    "template update": "template_update.py",
    "package rename": "rename_package.py",
    "first commit": "first_commit.py",
    "deploy.sh": "deploy.sh",
    "the model proposal": "propose_model.sh",
    "spark-submit": "spark_predict.py",
}


def _contents_block() -> dict[str, str]:
    """The README's "What a generated project contains" block: entry -> description."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## What a generated project contains\n\n```\n")[1].split("```")[0]
    rows: dict[str, str] = {}
    entry = ""
    for line in block.splitlines():
        if line.startswith(" "):
            rows[entry] += " " + line.strip()
        else:
            entry, _, description = line.partition("  ")
            rows[entry] = description.strip()
    return rows


def _listed(description: str) -> list[str]:
    return [word.strip() for word in description.replace(";", ",").split(",")]


def test_everything_the_readme_says_a_project_contains_is_generated(tmp_path: Path) -> None:
    """Each entry of "What a generated project contains" against renders: paths, the
    package's folders, the tests, the make targets, the workflows, the images, the
    Kubernetes overlays, the scripts; and nothing in the renders' workflows or
    scripts that the README leaves out."""
    rows = _contents_block()
    default = render(tmp_path / "default")
    online = render(tmp_path / "online", serving_mode="online", tracking="none",
                    ci_provider="gitlab")  # fmt: skip
    reviewed = render(tmp_path / "both", serving_mode="both", scoring_engine="spark",
                      ct_promotion="pull_request")  # fmt: skip
    renders = [default, online, reviewed]

    for entry in rows:
        for path in entry.split(", "):
            path = path.replace("<package>", "customer_churn")
            assert (reviewed / path).exists() or (online / path).exists(), entry
    package = default / "src" / "customer_churn"
    for folder in re.findall(r"(\w+)/", rows["src/<package>/"]):
        assert (package / folder / "__init__.py").is_file(), folder
    for name in ("alerts.yml", "alerts_test.yml", "dashboard.json"):
        assert (default / "monitoring" / name).is_file(), name

    assert set(_listed(rows["tests/"])) == set(TESTS_NAMED)
    for file, needle in TESTS_NAMED.values():
        assert needle in (reviewed / "tests" / file).read_text(), (file, needle)

    makefiles = {project: (project / "Makefile").read_text() for project in renders}
    targets = rows["Makefile"].replace(",", " ").replace("/", " ").split()
    for target in targets:
        assert any(re.search(rf"^{target}:", text, re.M) for text in makefiles.values()), target
    assert re.search(r"^predict:", makefiles[default], re.M)  # predict/serve: by mode
    assert re.search(r"^serve:", makefiles[online], re.M)

    workflows = rows[".github/workflows/"]
    listed = {word.split(" (")[0] for word in _listed(workflows)[:6]}
    made = {path.stem for project in renders for path in project.glob(".github/workflows/*")}
    assert listed == made == {"ci", "cd", "ct", "monitor", "batch", "promote"}
    assert not (default / ".github/workflows/promote.yml").exists()  # by pull request only
    assert not (online / ".github/workflows").exists() and (online / ".gitlab-ci.yml").is_file()

    # One non-root image for both modes; the jobs image with MLflow only.
    assert "MLflow, a jobs image" in rows["Dockerfile, compose.yaml"]
    for project in renders:
        dockerfile = (project / "Dockerfile").read_text()
        assert re.search(r"^USER 10001", dockerfile, re.M)
        with_mlflow = answers_of(project)["tracking"] == "mlflow"
        assert (" AS jobs" in dockerfile) == with_mlflow, project
        assert bool(re.search(r"^jobs-image:", makefiles[project], re.M)) == with_mlflow

    environments = answers_of(default)["deploy_environments"].replace(" ", "").split(",")
    kubernetes = default / "deploy" / "kubernetes"
    assert (kubernetes / "base" / "kustomization.yaml").is_file()
    assert sorted(path.name for path in (kubernetes / "overlays").iterdir()) == sorted(environments)

    scripts = {path.name for project in renders for path in (project / "scripts").iterdir()}
    assert scripts == set(SCRIPTS_NAMED.values())
    for words in SCRIPTS_NAMED:
        assert words in rows["scripts/"], words


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_a_project_without_mlflow_is_told_what_ci_can_and_cannot_do(
    provider: str, tmp_path: Path
) -> None:
    """The generated README of a `tracking: none` project asks for no MLflow server, names
    only deploy.sh functions that exist, and its claim about the scheduled monitor job
    is what a fresh runner (no registry folder) gets."""
    project = render(tmp_path / "project", tracking="none", ci_provider=provider)
    readme = (project / "README.md").read_text()
    registry = next(line for line in readme.splitlines() if "**Model registry:**" in line)
    assert "pointing at your MLflow server" not in registry
    assert 'stops with "no champion model in the registry"' in registry
    deploy = (project / "scripts" / "deploy.sh").read_text()
    for function in re.findall(r"`(\w+)\(\)` in `scripts/deploy.sh`", readme):
        assert re.search(rf"^{function}\(\) \{{", deploy, re.M), function
    assert "`deploy_elsewhere()` in `scripts/deploy.sh`" in readme
    run(["uv", "sync", "--quiet"], project)
    run(["uv", "run", "customer_churn", "data"], project)
    monitor = run(["uv", "run", "customer_churn", "monitor"], project, check=False)
    assert monitor.returncode == 2, monitor.stdout + monitor.stderr
    assert "no champion model in the registry" in monitor.stderr

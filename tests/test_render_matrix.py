"""Render matrix: every option at least once, every pair of the main options at least
once, and full defaults. Each render is checked as files, then with its own tools."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

from . import browser
from .helpers import ROOT, answers_of, project_files, render, run
from .usage import missing_paths, missing_targets, unreachable_modules, unused_dependencies

# Plots the HTML evaluation report must show, by problem type.
PLOTS = {
    "binary": {"ROC curve", "Precision-recall curve", "Calibration", "Value curve"},
    "multiclass": {"Confusion matrix (predicted class)"},
    "regression": {"Predicted against actual", "Residuals against predicted"},
}

OPTIONS: dict[str, list[str]] = {
    "problem_type": ["binary", "multiclass", "regression"],
    "serving_mode": ["batch", "online", "both"],
    "data_source": ["csv", "parquet", "sql"],
    "tracking": ["mlflow", "none"],
}

# An L9 orthogonal array: every pair of levels of any two columns appears once.
# The two-level `tracking` column folds level 2 onto level 0.
_L9 = [(0, 0, 0, 0), (0, 1, 1, 1), (0, 2, 2, 2), (1, 0, 1, 2), (1, 1, 2, 0),
       (1, 2, 0, 1), (2, 0, 2, 1), (2, 1, 0, 2), (2, 2, 1, 0)]  # fmt: skip
MATRIX: list[dict[str, str]] = [
    {name: values[row[i] % len(values)] for i, (name, values) in enumerate(OPTIONS.items())}
    for row in _L9
]
for index in (4, 8):
    MATRIX[index]["ci_provider"] = "gitlab"
# Promotion by pull request (MLflow only), once per CI provider.
for index in (7, 8):
    MATRIX[index]["ct_promotion"] = "pull_request"
# The first row equals the defaults; render it from pure defaults (no answers given).
assert MATRIX[0] == {"problem_type": "binary", "serving_mode": "batch", "data_source": "csv",
                     "tracking": "mlflow"}  # fmt: skip


def _case_id(case: dict[str, str]) -> str:
    return "-".join(case.values())


def test_matrix_covers_every_pair_of_options() -> None:
    assert {case.get("ci_provider", "github") for case in MATRIX} == {"github", "gitlab"}
    reviewed = [case for case in MATRIX if case.get("ct_promotion") == "pull_request"]
    assert {case.get("ci_provider", "github") for case in reviewed} == {"github", "gitlab"}
    assert all(case["tracking"] == "mlflow" for case in reviewed)
    for (a, a_values), (b, b_values) in itertools.combinations(OPTIONS.items(), 2):
        seen = {(case[a], case[b]) for case in MATRIX}
        missing = set(itertools.product(a_values, b_values)) - seen
        assert not missing, f"pairs of {a} × {b} never rendered: {sorted(missing)}"


# Package modules only some serving modes get (docs/generated-project.md says which).
ONLINE_MODULES = ["serving/api_schema", "serving/api", "serving/smoke", "serving/guards",
                  "serving/champion", "serving/rollout", "serving/shadow", "serving/telemetry",
                  "serving/load_benchmark", "serving/batching", "serving/processes",
                  "model/onnx_scoring"]  # fmt: skip
BATCH_MODULES = [
    "serving/batch",
    "serving/batch_rollout",
    "serving/batch_benchmark",
    "monitoring/batch_log",
]


def expected_files(case: dict[str, str], package: str = "customer_churn") -> set[str]:
    online = case["serving_mode"] != "batch"
    batch = case["serving_mode"] != "online"
    reviewed = case.get("ct_promotion") == "pull_request"
    modules = ["__init__", "cli", "config", "figures", "threads",
               "data/__init__", "data/contract", "data/sources", "data/draft_contract",
               "data/draft_source",
               "data/fetch", "data/loading", "data/sample", "data/synthetic",
               "model/__init__", "model/baselines", "model/estimators", "model/evaluate",
               "model/features", "model/rule", "model/value", "model/selection",
               "model/plots", "model/html_report",
               "model/gate", "model/metrics", "model/predictions", "model/report", "model/train",
               "model/importance", "model/recommendation", "model/stability", "model/fairness",
               "model/footprint", "model/explain", "model/staleness",
               "model/feature_cost",
               "model/verdict", "model/challenger", "model/scorers", "registry/challenger",
               "registry/__init__", "registry/artifacts", "registry/base",
               "registry/exported_registry", "registry/faults", "registry/continuity",
               "registry/lineage", "registry/promotion", "registry/training_lock",
               "serving/__init__", "serving/image_smoke", "serving/benchmark",
               "monitoring/__init__", "monitoring/acted_share", "monitoring/drift",
               "monitoring/monitor", "monitoring/prediction_log", "monitoring/report",
               "monitoring/spool", "monitoring/realised_value",
               "monitoring/shadow_report"]  # fmt: skip
    tracking = "mlflow_registry" if case["tracking"] == "mlflow" else "local_registry"
    modules += [f"registry/{tracking}"]
    modules += ONLINE_MODULES if online else []
    modules += BATCH_MODULES if batch else []
    spark = batch and case.get("scoring_engine") == "spark"
    modules += ["serving/spark_batch"] if spark else []
    tests = ["__init__", "conftest", "test_charter", "test_cli", "test_contract",
             "test_draft_contract", "test_features", "test_gate", "test_training",
             "test_monitoring",
             "test_alert_rules", "test_promotion", "test_bad_data", "test_baselines",
             "test_slices", "test_split", "test_value", "test_selection",
             "test_export", "test_shadow", "test_importance", "test_footprint",
             "test_explain", "test_staleness", "test_feature_cost"]  # fmt: skip
    tests += ["test_fairness"] if case["problem_type"] == "binary" else []
    tests += ["test_api", "test_scorers", "test_batching"] if online else []
    tests += ["test_batch"] if batch else []
    tests += ["test_spark_batch"] if spark else []
    workflows = ["ci", "cd", "ct", "monitor"] + (["batch"] if batch else [])
    workflows += ["promote"] if reviewed else []
    github_files = [".github/pull_request_template.md", ".github/CODEOWNERS",
                    *(f".github/workflows/{w}.yml" for w in workflows)]  # fmt: skip
    gitlab_files = [".gitlab/merge_request_templates/Default.md", ".gitlab/CODEOWNERS",
                    ".gitlab-ci.yml"]  # fmt: skip
    environments = case.get("deploy_environments", "staging, production").replace(" ", "")
    kubernetes = ["base/kustomization"]
    kubernetes += [f"base/{name}" for name in ("deployment", "service", "hpa", "pdb",
                                               "networkpolicy")] if online else []  # fmt: skip
    kubernetes += ["base/predictions-volume", "base/cronjob-predict"] if batch else []
    mlflow = case["tracking"] == "mlflow"
    kubernetes += ["base/reports-volume", "base/cronjob-monitor"] if mlflow else []
    kubernetes += ["base/cronjob-retrain"] if mlflow and not reviewed else []
    kubernetes += [f"overlays/{env}/kustomization" for env in environments.split(",")]
    return {
        *(f"deploy/kubernetes/{name}.yaml" for name in kubernetes),
        ".copier-answers.yml", ".gitignore", ".pre-commit-config.yaml", ".python-version",
        "Makefile", "README.md", "pyproject.toml", "config/contract.yaml",
        "config/settings.toml", "data/README.md", "docs/charter.md", "docs/model_card.md",
        "docs/runbook.md", "monitoring/alerts.yml", "monitoring/alerts_test.yml",
        "monitoring/dashboard.json",
        "Dockerfile", ".dockerignore", "compose.yaml", "scripts/deploy.sh",
        "scripts/conformance.py", "scripts/template_update.py", "renovate.json",
        "scripts/first_commit.py", "scripts/rename_package.py", "docs/groundwork-changelog.md",
        *(github_files if case.get("ci_provider", "github") == "github" else gitlab_files),
        *(["scripts/propose_model.sh"] if reviewed else []),
        *(["scripts/spark_predict.py"] if spark else []),
        *(f"src/{package}/{m}.py" for m in modules),
        *(f"tests/{t}.py" for t in tests),
    }  # fmt: skip


SERVING_PACKAGES = {"fastapi", "uvicorn", "onnxruntime", "skl2onnx", "httpx"}


@pytest.mark.parametrize("mode", ["batch", "online", "both"])
def test_projects_depend_only_on_what_their_serving_mode_needs(mode: str, tmp_path: Path) -> None:
    """docs/generated-project.md: what a project does not serve, it does not install."""
    project = render(tmp_path / "project", serving_mode=mode)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    listed = [*pyproject["project"]["dependencies"]]
    listed += [d for group in pyproject["dependency-groups"].values() for d in group]
    names = {re.split(r"[\[<>=]", requirement)[0] for requirement in listed}
    if mode == "batch":
        assert not names & SERVING_PACKAGES, names & SERVING_PACKAGES
    else:
        assert names >= SERVING_PACKAGES
    assert "prometheus-client" in names  # monitoring's metrics file, in every project


LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|%\}")


INSTALLED_MODULES = (
    "import importlib.metadata as m, sys; "
    "print(' '.join(sorted(set(m.packages_distributions()) | set(sys.stdlib_module_names))))"
)


def package_name_accepted(name: str) -> bool:
    """Whether copier.yml's package_name validator accepts `name` (Copier's filters)."""
    validator = yaml.safe_load((ROOT / "copier.yml").read_text())["package_name"]["validator"]
    filters = "jinja2_ansible_filters.AnsibleCoreFiltersExtension"
    environment = SandboxedEnvironment(extensions=[filters])
    return not environment.from_string(validator).render(package_name=name).strip()


def _snapshot(project: Path, names: set[str]) -> dict[str, str]:
    return {name: hashlib.sha256((project / name).read_bytes()).hexdigest() for name in names}


@pytest.mark.slow
@pytest.mark.parametrize("case", MATRIX, ids=[_case_id(c) for c in MATRIX])
def test_rendered_project_passes_its_own_checks(case: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "project"
    answers: dict[str, Any] = {} if case == MATRIX[0] else dict(case)
    render(project, **answers)

    # Files: exactly the expected set, fully rendered, with a valid answers file.
    rendered = project_files(project)
    assert rendered == expected_files(case)
    for name in rendered:
        text = (project / name).read_text()
        assert not LEFTOVER.search(text), f"unrendered Jinja in {name}"
    recorded = answers_of(project)
    assert recorded["_src_path"]
    assert {key: recorded[key] for key in case} == case
    # Only what the answers need: every module reached from an entry point, every
    # dependency named by the project's files.
    assert not unreachable_modules(project), unreachable_modules(project)
    assert not unused_dependencies(project), unused_dependencies(project)

    # The project's own tools.
    run(["uv", "sync", "--quiet"], project)
    # No package name the questionnaire accepts is a module installed here (the package
    # would shadow it, or it the package): every top-level name, direct or indirect.
    installed = run(["uv", "run", "python", "-c", INSTALLED_MODULES], project).stdout.split()
    assert len(installed) > 200
    own = recorded["package_name"]
    accepted = [name for name in installed if name != own and package_name_accepted(name)]
    assert not accepted, f"package_name accepts installed module(s) {accepted}: refuse them"
    before = _snapshot(project, rendered)
    run(["uv", "run", "ruff", "format", "."], project)
    run(["uv", "run", "ruff", "check", "--fix", "."], project)
    assert _snapshot(project, rendered) == before, "formatting a fresh project changed files"
    run(["make", "lint"], project)
    run(["make", "test"], project)

    # The whole path, end to end.
    result = run(["make", "all"], project)
    output = result.stdout + result.stderr
    if case.get("ct_promotion") == "pull_request":
        # Training proposes; `make all` then applies the proposal, as a merge would.
        assert "quality gate passed: version 1 is proposed" in output
        assert "version 1 from config/champion.json is now champion" in output
    else:
        assert "quality gate passed: version 1 is champion" in output
        assert not (project / "config/champion.json").exists()
    # `make evaluate` (after train) re-scores the champion and refreshes the report.
    report = json.loads((project / "reports/evaluation.json").read_text())
    assert report["model_version"] == "1"
    assert report["evaluation"]["metric"] == recorded["success_metric"]
    if case["serving_mode"] != "online":
        assert re.search(r"scored \d+ rows into data/predictions/predictions.parquet", output)
        assert (project / "data/predictions/predictions.parquet").stat().st_size > 0
    if case["serving_mode"] != "batch":
        assert "serve smoke test passed: model v1" in output
    # What the project's docs name, it has now: files, folders, outputs, make targets.
    named_by = ["README.md", "docs/runbook.md", "docs/charter.md", "docs/model_card.md"]
    missing = missing_paths(project, named_by)
    assert missing.get("docs/runbook.md", set()) <= {"reports/shadow.md"}  # shadow-report's
    missing.pop("docs/runbook.md", None)
    assert not missing, missing
    assert not missing_targets(project, named_by)
    # `make all` ends with monitoring: the sample's live data raises no alarm.
    assert "monitoring verdict: ok" in output
    assert (project / "reports/monitoring/monitoring.html").exists()
    model_card = (project / "docs/model_card.md").read_text()
    assert "Model version: **1**" in model_card
    assert "No model has been trained yet" not in model_card
    # The champion's verdict and search survive `make evaluate`; the card lists features.
    assert report["gate"]["passed"] is True
    assert "Quality gate: **PASSED**" in model_card
    family = report["selection"]["family"]
    assert f"Model: **{family}**" in model_card
    assert "Features the model uses: `" in model_card
    assert "`email`" not in model_card.split("Features the model uses:")[1].splitlines()[0]
    _check_html_report(project / "reports/evaluation.html", recorded["problem_type"], family)
    if case == BENCHED:
        _check_bench(project)


# `make bench` runs briefly in one project serving both ways, so it does not rot.
BENCHED = next(case for case in MATRIX if case["serving_mode"] == "both")


def _check_bench(project: Path) -> None:
    """Each figure comes with its bare reference; the numbers are printed, not judged."""
    output = run(["make", "bench", "BENCH_SECONDS=1", "BENCH_ROWS=2000"], project).stdout
    for size in ("1 row", "100 rows"):
        assert re.search(rf"bare endpoint, {size} +[0-9.]+ requests/s  p50 +[0-9.]+ ms", output)
        assert re.search(rf"/predict, {size} .* \(([0-9.]+)x the bare endpoint\)", output)
    assert re.search(r"make predict's code +\d+ rows/s", output)
    assert re.search(r"ratio to bare predict +[0-9.]+x", output)
    assert re.search(r"peak memory .* at 200 rows, .* at 2000 rows", output)


def _check_html_report(page_file: Path, problem_type: str, family: str) -> None:
    """The page loads in a real browser with no errors, and every plot renders."""
    page = browser.load(page_file)
    assert page.errors == []
    assert page.images, "the evaluation report has no plots"
    broken = [image["alt"] for image in page.images if not image["complete"]]
    broken += [image["alt"] for image in page.images if not image["naturalWidth"]]
    assert broken == [], f"plots that did not render: {broken}"
    assert PLOTS[problem_type] <= {str(image["alt"]) for image in page.images}
    assert "Quality gate: PASSED" in page.text
    assert f"Chosen: {family}" in page.text
    assert "95% interval" in page.text


def test_a_module_or_dependency_nothing_uses_is_found(tmp_path: Path) -> None:
    """The matrix's usage checks can fail: an orphan module, a module only the tests
    import, and a dependency nothing names are each reported."""
    project = render(tmp_path / "project", serving_mode="batch")
    assert not unreachable_modules(project) and not unused_dependencies(project)
    serving = project / "src" / "customer_churn" / "serving"
    (serving / "orphan.py").write_text('"""Imported by nobody."""\n')
    (serving / "tested_only.py").write_text('"""Imported by a test alone."""\n')
    (project / "tests" / "test_tested_only.py").write_text(
        "from customer_churn.serving import tested_only\n"
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"numpy>=1.26",', '"numpy>=1.26",\n    "fastapi>=0.115",')
    )
    assert unreachable_modules(project) == {
        "customer_churn.serving.orphan",
        "customer_churn.serving.tested_only",
    }
    assert unused_dependencies(project) == {"fastapi"}


def test_a_path_or_target_the_docs_name_but_the_project_lacks_is_found(tmp_path: Path) -> None:
    """The matrix's docs checks can fail: a module, an output folder and a make target
    that the README names and the project does not have are each reported."""
    project = render(tmp_path / "project", serving_mode="batch")
    assert not missing_targets(project, ["README.md"])
    readme = project / "README.md"
    readme.write_text(
        readme.read_text()
        + "\nSee `serving/api.py`, `reports/nowhere/`, `config/settings.toml`, `data/raw/x.parquet`"
        " and `make serve`.\n"
    )
    assert missing_paths(project, ["README.md"])["README.md"] >= {
        "serving/api.py",
        "reports/nowhere/",
    }
    assert "config/settings.toml" not in missing_paths(project, ["README.md"])["README.md"]
    assert "data/raw/x.parquet" not in missing_paths(project, ["README.md"])["README.md"]
    assert missing_targets(project, ["README.md"]) == {"README.md": {"serve"}}

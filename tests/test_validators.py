"""Bad questionnaire answers are refused with a specific message, in a real terminal,
and never with a traceback. Every other answer is supplied, so copier asks only the
question under test."""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import run_copy

from .helpers import ROOT, answers_of, render
from .terminal import copier_copy

REGRESSION = {"problem_type": "regression", "success_metric": "rmse"}
SQL = {"data_source": "sql"}
BOTH = {"serving_mode": "both"}

# question, bad answer, the message it must show, answers that make the question apply
BAD_ANSWERS: list[tuple[str, str, str, dict[str, str]]] = [
    ("project_name", "1st model", "project_name must start with a letter", {}),
    ("project_name", "ab", "be 3 to 50 characters; got 'ab'", {}),
    ("project_slug", "Bad Slug", "project_slug must be lowercase letters", {}),
    ("package_name", "my-model", "package_name must be a valid lowercase Python identifier", {}),
    ("package_name", "pandas", "package_name 'pandas' would shadow a module", {}),
    ("project_description", "short", "project_description needs at least 10 characters", {}),
    ("owner_team", "!!", "owner_team must be a team name", {}),
    ("business_problem", "bad", "business_problem needs at least 10 characters", {}),
    ("decision", "act", "decision needs at least 10 characters", {}),
    ("success_threshold", "1.5", "roc_auc lies in (0, 1]; got 1.5", {}),
    ("success_threshold", "0", "roc_auc lies in (0, 1]; got 0.0", {}),
    ("success_threshold", "-5", "rmse is an error in target units and must be above 0", REGRESSION),
    ("baseline_margin", "-0.1", "baseline_margin cannot be negative", {}),
    ("baseline_margin", "1.5", "baseline_margin for roc_auc must be below 1", {}),
    ("champion_tolerance", "-1", "champion_tolerance cannot be negative", {}),
    ("guardrails", "precision>0.3", "guardrail 'precision>0.3' must be <metric>_min=<value>", {}),
    ("guardrails", "r2_min=0.1", "with a metric from: precision, recall, positive_rate", {}),
    ("guardrails", "precision_min=high", "guardrail 'precision_min=high' needs a number", {}),
    ("value_of_a_hit", "0", "value_of_a_hit must be above 0; got 0.0", {}),
    ("cost_of_an_action", "300", "cost_of_an_action (300.0) must be below value_of_a_hit", {}),
    ("cost_of_a_miss", "-1", "cost_of_a_miss cannot be negative", {}),
    ("decision_capacity", "0", "decision_capacity must be at least 1", {}),
    ("decision_volume", "50", "decision_capacity (100) cannot exceed decision_volume (50)", {}),
    ("cost_of_overestimate", "-1", "cost_of_overestimate cannot be negative", REGRESSION),
    (
        "cost_of_underestimate",
        "0",
        "an over- or underestimate must cost something",
        {**REGRESSION, "cost_of_overestimate": "0"},
    ),  # fmt: skip
    ("data_path", "/etc/data.csv", "data_path must be relative to the project root", {}),
    ("data_path", "data/raw/training.parquet", "data_path must end in .csv", {}),
    ("sql_url", "warehouse.db", "sql_url must be a SQLAlchemy URL", SQL),
    ("sql_url", "postgresql://me:secret@db/warehouse", "sql_url must not contain a password", SQL),
    ("sql_table", "drop table", "sql_table must be a plain table name", SQL),
    ("data_owner", "alice", "data_owner must be a handle such as @alice", {}),
    ("target_column", "Churned!", "target_column must be a lowercase column name", {}),
    ("ground_truth_delay_days", "-1", "ground_truth_delay_days must be between 0 and 3650", {}),
    ("personal_data_columns", "email, churned", "the target 'churned' cannot be personal data", {}),
    ("personal_data_columns", "E-mail", "personal_data_columns must be lowercase column names", {}),
    ("sensitive_attributes", "churned", "the target 'churned' cannot be a sensitive attribute", {}),
    ("latency_budget_ms", "0", "latency_budget_ms must be a positive number", BOTH),
    ("batch_schedule", "every day", "batch_schedule must be a cron expression with 5 fields", {}),
    ("batch_schedule", "99 99 * * *", "batch_schedule: minute 99 is outside 0-59", {}),
    ("monitoring_schedule", "0 6 * * fooday", "'fooday' is not a weekday (0-6 or sun-sat)", {}),
    ("package_name", "import", "package_name 'import' is a Python keyword", {}),
    ("package_name", "numpy", "package_name 'numpy' would shadow a module", {}),
    ("drift_psi_limit", "nan", "drift_psi_limit must be a finite number; got nan", {}),
    ("baseline_margin", "inf", "baseline_margin must be a finite number; got inf", {}),
    ("deploy_environments", "Prod", "deploy_environments must be lowercase names", {}),
    ("deploy_environments", "qa, qa", "deploy_environments lists an environment twice", {}),
    ("retrain_schedule", "0 3 * *", "retrain_schedule must be a cron expression with 5 fields", {}),
    ("monitoring_schedule", "daily", "monitoring_schedule must be a cron expression", {}),
    ("drift_psi_limit", "0", "drift_psi_limit must be above 0 and at most 5", {}),
    ("max_model_age_days", "0", "max_model_age_days must be a positive number of days", {}),
    ("product_owner", "bob", "product_owner must be a handle such as @alice", {}),
    ("ml_engineer", "@", "ml_engineer must be a handle such as @carol", {}),
]


@pytest.fixture(scope="module")
def base_answers(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, str]], Any]:
    """Complete, valid answers for a configuration, read from a default render."""
    cache: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}

    def answers(overrides: dict[str, str]) -> dict[str, Any]:
        key = tuple(sorted(overrides.items()))
        if key not in cache:
            project = render(tmp_path_factory.mktemp("base"), **overrides)
            cache[key] = {k: v for k, v in answers_of(project).items() if not k.startswith("_")}
        return dict(cache[key])

    return answers


def test_the_table_covers_at_least_twenty_bad_answers() -> None:
    assert len(BAD_ANSWERS) >= 20
    assert len({question for question, *_ in BAD_ANSWERS}) >= 20


@pytest.mark.parametrize(
    ("question", "bad", "message", "overrides"),
    BAD_ANSWERS,
    ids=[f"{q}={b}" for q, b, *_ in BAD_ANSWERS],
)
def test_bad_answer_is_refused_with_its_message(
    question: str,
    bad: str,
    message: str,
    overrides: dict[str, str],
    base_answers: Callable[[dict[str, str]], dict[str, Any]],
    tmp_path: Path,
) -> None:
    answers = base_answers(overrides)
    assert question in answers, f"{question} is not asked for {overrides}"
    del answers[question]
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump(answers))
    terminal = copier_copy(tmp_path / "project", data_file)
    try:
        terminal.wait_for("🎤")
        terminal.answer(bad)
        screen = terminal.wait_for(message)
        assert "Traceback" not in terminal.transcript
        assert not (tmp_path / "project" / "Makefile").exists(), "rendered despite a bad answer"
        assert "Validation error" in screen or message in screen
    finally:
        terminal.close()


@pytest.mark.parametrize(
    ("problem_type", "metric", "message"),
    [
        ("regression", "roc_auc", "Invalid choice for 'success_metric': binary problems only"),
        ("binary", "rmse", "Invalid choice for 'success_metric': regression problems only"),
        ("multiclass", "recall", "Invalid choice for 'success_metric': binary problems only"),
    ],
)
def test_metric_must_fit_the_problem_type(
    problem_type: str, metric: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=message):
        run_copy(
            str(ROOT),
            tmp_path,
            vcs_ref="HEAD",
            data={"problem_type": problem_type, "success_metric": metric},
            defaults=True,
            skip_tasks=True,
            quiet=True,
        )
    assert not (tmp_path / "Makefile").exists()


def test_disallowed_metrics_are_shown_disabled_in_the_terminal(
    base_answers: Callable[[dict[str, str]], dict[str, Any]], tmp_path: Path
) -> None:
    answers = base_answers(REGRESSION)
    for dependent in ("success_metric", "success_threshold", "baseline_margin",
                      "champion_tolerance"):  # fmt: skip
        del answers[dependent]
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump(answers))
    terminal = copier_copy(tmp_path / "project", data_file)
    try:
        screen = terminal.wait_for("RMSE")
        assert "ROC AUC — ranks positives above negatives (binary problems only)" in screen
    finally:
        terminal.close()


def _refusal(question: str, value: Any, overrides: dict[str, str], tmp_path: Path) -> str:
    """The validation message copier gives for one answer (all others default)."""
    with pytest.raises(ValueError, match=f"Validation error for question '{question}'") as refused:
        run_copy(str(ROOT), tmp_path / "never", vcs_ref="HEAD", data={**overrides, question: value},
                 defaults=True, skip_tasks=True, quiet=True)  # fmt: skip
    assert not (tmp_path / "never" / "Makefile").exists()
    return str(refused.value)


def _imported_modules(project: Path) -> set[str]:
    """Top-level modules the project's code, tests and scripts import (its own aside)."""
    found: set[str] = set()
    for path in project.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    scripts = {path.stem for path in (project / "scripts").glob("*.py")}
    return found - scripts - {"__future__", answers_of(project)["package_name"]}


def test_no_package_name_can_be_a_keyword_or_shadow_an_import(tmp_path: Path) -> None:
    """Named `class`, nothing parses; named `numpy` or `json`, the project imports itself
    instead. Every module any configuration imports is refused, read from renders."""
    names = {word for word in keyword.kwlist if word.islower()}
    configurations: list[dict[str, str]] = [
        {}, {"serving_mode": "both", "tracking": "none"}, {"scoring_engine": "spark"}
    ]  # fmt: skip
    for number, answers in enumerate(configurations):
        names |= _imported_modules(render(tmp_path / f"project{number}", **answers))
    assert {"numpy", "sklearn", "json", "typing", "fastapi", "pyspark"} <= names
    for name in sorted(names):
        message = _refusal("package_name", name, {}, tmp_path)
        assert f"package_name '{name}'" in message, message


FLOATS = [
    ("success_threshold", {}), ("baseline_margin", {}), ("champion_tolerance", {}),
    ("value_of_a_hit", {}), ("cost_of_an_action", {}), ("cost_of_a_miss", {}),
    ("cost_of_overestimate", REGRESSION), ("cost_of_underestimate", REGRESSION),
    ("drift_psi_limit", {}),
]  # fmt: skip


@pytest.mark.parametrize(("question", "overrides"), FLOATS, ids=[q for q, _ in FLOATS])
def test_number_answers_must_be_finite(
    question: str, overrides: dict[str, str], tmp_path: Path
) -> None:
    """nan passes every comparison unnoticed and inf disables a gate: both are refused."""
    for value in (math.nan, math.inf, -math.inf):
        message = _refusal(question, value, overrides, tmp_path)
        assert f"{question} must be a finite number; got {value}" in message, message


CRON = [
    ("99 99 * * *", "minute 99 is outside 0-59"),
    ("0 24 * * *", "hour 24 is outside 0-23"),
    ("0 6 0 * *", "day 0 is outside 1-31"),
    ("0 6 * 13 *", "month 13 is outside 1-12"),
    ("0 6 * * 7", "weekday 7 is outside 0-6"),
    ("0 6 * * fooday", "'fooday' is not a weekday (0-6 or sun-sat)"),
    ("0 6 * smarch *", "'smarch' is not a month (1-12 or jan-dec)"),
    ("*/0 * * * *", "step '0' in the minute field must be a whole number above 0"),
    ("1-2-3 * * * *", "'1-2-3' is not a minute value or range"),
    ("5, * * * *", "'' is not a minute value or range"),
    ("0 6 * *", "must be a cron expression with 5 fields"),
]


@pytest.mark.parametrize("question", ["batch_schedule", "retrain_schedule", "monitoring_schedule"])
def test_schedules_are_valid_cron_field_by_field(question: str, tmp_path: Path) -> None:
    for value, reason in CRON:
        message = _refusal(question, value, {}, tmp_path)
        assert f"{question}" in message and reason in message, (value, message)
    # Ranges, lists, steps and names are cron too.
    project = render(tmp_path / "valid", **{question: "*/15 0-22/2 1,15 jan-jun mon-fri"})
    assert answers_of(project)[question] == "*/15 0-22/2 1,15 jan-jun mon-fri"

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
from wcwidth import wcswidth

from .helpers import ROOT, answers_of, render
from .terminal import Terminal, copier_copy

REGRESSION = {"problem_type": "regression", "success_metric": "rmse"}
SQL = {"data_source": "sql"}
BOTH = {"serving_mode": "both"}

# question, bad answer, the message it must show, answers that make the question apply
BAD_ANSWERS: list[tuple[str, str, str, dict[str, str]]] = [
    ("project_name", "1st model", "start with a letter; 3-50 chars", {}),
    ("project_name", "ab", "start with a letter; 3-50 chars", {}),
    ("project_slug", "Bad Slug", "use a-z, 0-9 and '-'; a-z first", {}),
    ("package_name", "my-model", "use a-z, 0-9 and '_'; a-z first", {}),
    ("package_name", "pandas", "shadows a module the project uses", {}),
    ("project_description", "short", "at least 10 characters", {}),
    ("owner_team", "!!", "letters, digits, spaces, - or _", {}),
    ("business_problem", "bad", "at least 10 characters", {}),
    ("decision", "act", "name the action; 10+ characters", {}),
    ("success_threshold", "1.5", "must lie in (0, 1]", {}),
    ("success_threshold", "0", "must lie in (0, 1]", {}),
    ("success_threshold", "-5", "must be above 0", REGRESSION),
    ("baseline_margin", "-0.1", "cannot be negative", {}),
    ("baseline_margin", "1.5", "must be below 0.5", {}),
    ("success_threshold", "0.52", "must be 0.55 or more", {}),
    ("champion_tolerance", "0.3", "must be below 0.25", {}),
    ("champion_tolerance", "-1", "cannot be negative", {}),
    ("guardrails", "precision>0.3", "write <metric>_min=<n> or _max=<n>", {}),
    ("guardrails", "r2_min=0.1", "'r2' is not a listed metric", {}),
    ("guardrails", "precision_min=high", "needs a number after '='", {}),
    ("value_of_a_hit", "0", "must be above 0", {}),
    ("cost_of_an_action", "300", "must be below value_of_a_hit", {}),
    ("cost_of_a_miss", "-1", "cannot be negative", {}),
    ("decision_capacity", "0", "must be at least 1", {}),
    ("decision_volume", "50", "cannot be below the capacity", {}),
    ("cost_of_overestimate", "-1", "cannot be negative", REGRESSION),
    (
        "cost_of_underestimate",
        "0",
        "both costs are 0",
        {**REGRESSION, "cost_of_overestimate": "0"},
    ),  # fmt: skip
    ("data_path", "/etc/data.csv", "relative, without '..'", {}),
    ("data_path", "data/raw/training.parquet", "must end in .csv", {}),
    ("sql_url", "warehouse.db", "must be a SQLAlchemy URL", SQL),
    ("sql_url", "postgresql://me:secret@db/warehouse", "no password: set DATABASE_URL", SQL),
    ("sql_table", "drop table", "letters, digits and '_' only", SQL),
    ("data_owner", "alice", "a handle such as @alice", {}),
    ("target_column", "Churned!", "lowercase letters, digits, '_'", {}),
    ("ground_truth_delay_days", "-1", "between 0 and 3650", {}),
    ("personal_data_columns", "email, churned", "not the target column", {}),
    ("personal_data_columns", "E-mail", "lowercase names, commas", {}),
    ("sensitive_attributes", "churned", "not the target column", {}),
    ("latency_budget_ms", "0", "must be above 0", BOTH),
    ("batch_schedule", "every day", "needs 5 fields: 0 6 * * *", {}),
    ("batch_schedule", "99 99 * * *", "minute 99 not in 0-59", {}),
    ("monitoring_schedule", "0 6 * * fooday", "weekday: 0-6 or sun-sat", {}),
    ("package_name", "import", "is a Python keyword", {}),
    ("package_name", "numpy", "shadows a module the project uses", {}),
    ("drift_psi_limit", "nan", "must be a finite number", {}),
    ("baseline_margin", "inf", "must be a finite number", {}),
    ("deploy_environments", "Prod", "lowercase names, commas", {}),
    ("deploy_environments", "qa, qa", "an environment twice", {}),
    ("retrain_schedule", "0 3 * *", "needs 5 fields: 0 3 * * 1", {}),
    ("monitoring_schedule", "daily", "needs 5 fields: 30 5 * * *", {}),
    ("drift_psi_limit", "0", "must be in (0, 5]", {}),
    ("max_model_age_days", "0", "must be above 0", {}),
    ("product_owner", "bob", "a handle such as @alice", {}),
    ("ml_engineer", "@", "a handle such as @carol", {}),
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


def _asking_only(question: str, answers: dict[str, Any], tmp_path: Path) -> Terminal:
    """The real questionnaire in an 80x24 terminal, every answer but `question` given,
    so that it asks only that one; it renders into tmp_path/project."""
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump({k: v for k, v in answers.items() if k != question}))
    return copier_copy(tmp_path / "project", data_file, columns=80, lines=24)


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
    # 80 columns: Copier shows the message on one line, which the terminal's edge cuts.
    terminal = _asking_only(question, answers, tmp_path)
    try:
        terminal.wait_for("🎤")
        terminal.answer(bad)
        line = f"Validation error for question '{question}': {message}"
        screen = terminal.wait_for(line)
        assert any(row.strip() == line for row in screen.splitlines()), screen
        assert "Traceback" not in terminal.transcript
        assert not (tmp_path / "project" / "Makefile").exists(), "rendered despite a bad answer"
    finally:
        terminal.close()


def test_text_in_a_number_question_is_refused_and_asked_again(
    base_answers: Callable[[dict[str, str]], dict[str, Any]], tmp_path: Path
) -> None:
    """Copier checks the type before the template's validator runs and says only
    "Invalid input" (the template cannot name the question there; docs say so). The
    answer is refused, asked again, and nothing is lost or rendered meanwhile."""
    terminal = _asking_only("drift_psi_limit", base_answers({}), tmp_path)
    try:
        terminal.wait_for("🎤")
        terminal.answer("a lot")
        terminal.wait_for("Invalid input")
        assert not (tmp_path / "project" / "Makefile").exists()
        terminal.answer("0.25")
        assert terminal.finish() == 0, terminal.text
    finally:
        terminal.close()
    assert "Traceback" not in terminal.transcript
    assert answers_of(tmp_path / "project")["drift_psi_limit"] == 0.25


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
    message = str(refused.value)
    # Copier shows it on one line of the terminal, cut at the edge: it must fit in 80.
    assert wcswidth(message) < 80, message
    return message


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
        reason = "is a Python keyword" if keyword.iskeyword(name) else "shadows a module"
        assert reason in message, (name, message)


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
        assert message.endswith(f"'{question}': must be a finite number"), (value, message)


CRON = [
    ("99 99 * * *", "minute 99 not in 0-59"),
    ("0 24 * * *", "hour 24 not in 0-23"),
    ("0 6 0 * *", "day 0 not in 1-31"),
    ("0 6 * 13 *", "month 13 not in 1-12"),
    ("0 6 * * 7", "weekday 7 not in 0-6"),
    ("0 6 * * fooday", "weekday: 0-6 or sun-sat"),
    ("0 6 * smarch *", "month: 1-12 or jan-dec"),
    ("*/0 * * * *", "minute step must be > 0"),
    ("1-2-3 * * * *", "bad minute '1-2-3'"),
    ("5, * * * *", "bad minute ''"),
    ("0 6 * *", "needs 5 fields: "),
    ("0 6 * * 123456789", "weekday 12345… not in 0-6"),
]


@pytest.mark.parametrize("question", ["batch_schedule", "retrain_schedule", "monitoring_schedule"])
def test_schedules_are_valid_cron_field_by_field(question: str, tmp_path: Path) -> None:
    for value, reason in CRON:
        message = _refusal(question, value, {}, tmp_path)
        assert f"{question}" in message and reason in message, (value, message)
    # Ranges, lists, steps and names are cron too.
    project = render(tmp_path / "valid", **{question: "15 0-22/2 1,15 jan-jun mon-fri"})
    assert answers_of(project)[question] == "15 0-22/2 1,15 jan-jun mon-fri"

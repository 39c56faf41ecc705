"""Answers that used to produce a project that cannot run: each renders into files that
parse (by construction: answers land through a JSON/TOML-safe filter), or is refused
with a message. Every data file a render writes is parsed, whatever the answer."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import run_copy

from .helpers import ROOT, answers_of, render

# Column names YAML 1.1 reads as booleans or null when written bare.
YAML_WORDS = ["null", "yes", "on", "true", "no", "off", "false", "y", "n"]
# Answer classes that break a data file unless they are quoted or escaped.
HOSTILE: dict[str, dict[str, str]] = {
    "target_null": {"target_column": "null"},
    "target_yes": {"target_column": "yes"},
    "personal_yaml_words": {"personal_data_columns": "on, true, off"},
    "sensitive_yaml_words": {"sensitive_attributes": "no, false", "sensitive_features": "no"},
    "quote_in_path": {"data_path": 'data/raw/my "best" table.csv'},
    "backslash_in_path": {"data_path": "data\\raw\\training.csv"},
    "quotes_in_description": {"project_description": 'The "best" model: it\'s \\ fine'},
    "cyrillic_name": {"project_name": "Прогноз оттока"},
    "cjk_name": {"project_name": "预测 churn"},
}


def parse_every_data_file(project: Path) -> int:
    """Parse each TOML, YAML and JSON file of a render; fail naming the first broken."""
    parsed = 0
    for path in sorted(p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts):
        text = path.read_text(errors="strict") if path.suffix in {".toml", ".yml", ".yaml",
                                                                   ".json"} else None  # fmt: skip
        if text is None:
            continue
        try:
            if path.suffix == ".toml":
                tomllib.loads(text)
            elif path.suffix == ".json":
                json.loads(text)
            else:
                list(yaml.safe_load_all(text))
        except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError) as error:
            pytest.fail(f"{path.relative_to(project)} does not parse: {error}")
        parsed += 1
    return parsed


@pytest.mark.parametrize("case", list(HOSTILE))
def test_every_file_parses_and_carries_the_answer_verbatim(case: str, tmp_path: Path) -> None:
    answers = HOSTILE[case]
    project = render(tmp_path / "project", **answers)
    assert parse_every_data_file(project) >= 10
    settings = tomllib.loads((project / "config/settings.toml").read_text())
    contract = yaml.safe_load((project / "config/contract.yaml").read_text())
    columns = contract["columns"]
    assert all(isinstance(name, str) for name in columns), list(columns)
    if "target_column" in answers:
        assert contract["target"] == answers["target_column"] in columns
    for question in ("personal_data_columns", "sensitive_attributes"):
        for name in answers.get(question, "").replace(" ", "").split(","):
            assert not name or name in columns, (name, list(columns))
    if "data_path" in answers:
        assert settings["data"]["path"] == answers["data_path"]
    if "project_description" in answers:
        pyproject = tomllib.loads((project / "pyproject.toml").read_text())
        assert pyproject["project"]["description"] == answers["project_description"]
        assert settings["project"]["description"] == answers["project_description"]
    if "project_name" in answers:
        assert settings["project"]["name"] == answers["project_name"]


def test_a_name_in_another_script_gets_a_slug_that_works(tmp_path: Path) -> None:
    """No Latin letters to transliterate: the slug falls back to one that passes its
    own validator (it crashed the questionnaire before), and the package follows."""
    project = render(tmp_path / "project", project_name="Прогноз оттока")
    answers = answers_of(project)
    assert (answers["project_slug"], answers["package_name"]) == ("ml-project", "ml_project")
    assert (project / "src/ml_project/__init__.py").is_file()


def _refusal(question: str, value: Any, tmp_path: Path) -> str:
    with pytest.raises(ValueError, match=f"Validation error for question '{question}'") as refused:
        run_copy(str(ROOT), tmp_path / "never", vcs_ref="HEAD", data={question: value},
                 defaults=True, skip_tasks=True, quiet=True)  # fmt: skip
    assert not (tmp_path / "never" / "Makefile").exists()
    message = str(refused.value)
    assert len(message) < 80, message  # one line of the terminal
    return message


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("project_description", "Predicts churn \x1b[31mnow\x1b[0m", "no control characters"),
        ("project_description", "Predicts churn\a for retention", "no control characters"),
        ("project_description", "Predicts churn\tfor retention", "no control characters"),
        ("data_path", "~/x.csv", "'~' is not expanded"),
        ("data_path", "data/raw/\x07.csv", "no control characters"),
        ("success_threshold", 1.0, "1 needs a perfect model"),
        ("baseline_margin", 0.6, "must be below 0.5"),
        ("batch_schedule", "0 6 31 2 *", "day 31 never comes in feb"),
        ("monitoring_schedule", "0 6 31 4,6,9,11 *", "day 31 never comes in apr"),
        ("batch_schedule", "0 0 29 2 *", "29 feb: once in four years"),
        ("batch_schedule", "0 6-1 * * *", "range 6-1 is backwards"),
        ("monitoring_schedule", "0 6 * * fri-mon", "range fri-mon is backwards"),
        ("retrain_schedule", "0\t3 * * 1", "one space between fields"),
        ("retrain_schedule", "*/15 * * * *", "more than once an hour"),
        ("decision_volume", 100, "equals the capacity: no choice"),
        ("package_name", "jinja2", "shadows a module the project uses"),
        ("package_name", "onnx", "shadows a module the project uses"),
        ("package_name", "flask", "shadows a module the project uses"),
    ],
    ids=[
        "escape",
        "bell",
        "tab",
        "home",
        "bell-path",
        "perfect",
        "margin-beyond-range",
        "31-feb",
        "31-apr",
        "29-feb",
        "hours-backwards",
        "days-backwards",
        "tab-in-cron",
        "retrain-every-15-minutes",
        "capacity-of-all",
        "indirect-jinja2",
        "indirect-onnx",
        "indirect-flask",
    ],  # fmt: skip
)
def test_answers_no_project_can_use_are_refused(
    question: str, value: object, message: str, tmp_path: Path
) -> None:
    assert message in _refusal(question, value, tmp_path)

"""The essentials-only path gives the very project the full path gives with the same
essential answers and every other answer at its default; only the charter differs, by
a "Defaults to revisit" table that names exactly the answers it did not ask."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from .helpers import ROOT, answers_of, render

CASES = {
    "binary-batch-csv": {},
    "regression-online-sql": {"problem_type": "regression", "success_metric": "rmse",
                              "serving_mode": "online", "data_source": "sql"},
}  # fmt: skip
DIFFERENT = {"docs/charter.md", ".copier-answers.yml"}
# What the short path asks: sql_url and sql_table only for a SQL source, data_path only
# for a file.
ESSENTIALS = {"essentials_only", "project_name", "project_slug", "package_name",
              "business_problem", "decision", "problem_type", "success_metric",
              "success_threshold", "data_source", "data_path", "sql_url", "sql_table",
              "target_column", "serving_mode"}  # fmt: skip


def _files(project: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts
    }


@pytest.mark.parametrize("case", CASES)
def test_essentials_only_is_the_default_project_with_its_defaults_listed(
    case: str, tmp_path: Path
) -> None:
    answers = {"project_name": "Fraud Radar", **CASES[case]}
    full = render(tmp_path / "full", essentials_only=False, **answers)
    short = render(tmp_path / "short", essentials_only=True, **answers)
    full_files, short_files = _files(full), _files(short)
    assert set(full_files) == set(short_files)
    changed = {name for name in full_files if full_files[name] != short_files[name]}
    assert changed == DIFFERENT, changed

    recorded = {name for name in answers_of(short) if not name.startswith("_")}
    every = {name: value for name, value in answers_of(full).items() if not name.startswith("_")}
    skipped = set(every) - recorded
    charter = (short / "docs/charter.md").read_text()
    assert "## Defaults to revisit" in charter
    assert "## Defaults to revisit" not in (full / "docs/charter.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| (.*) \|$", charter, re.MULTILINE))
    assert set(rows) == skipped, set(rows) ^ skipped
    for name, shown in rows.items():
        value = str(every[name])
        assert shown == (f"`{value}`" if value else "(empty)"), (name, shown, value)


def test_every_question_but_the_essentials_is_gated_on_the_short_path() -> None:
    """A new question is either an essential or skipped on the short path (and then
    listed by template/includes/defaults.jinja, which the test above checks)."""
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    for name, spec in questions.items():
        if name.startswith("_") or spec.get("when") is False or name in ESSENTIALS:
            continue
        assert "not essentials_only" in str(spec.get("when")), name
    listed = (ROOT / "template/includes/defaults.jinja").read_text()
    gated = {
        name
        for name, spec in questions.items()
        if isinstance(spec, dict) and "not essentials_only" in str(spec.get("when"))
    }
    assert gated == set(re.findall(r"\('(\w+)', \w+,", listed))

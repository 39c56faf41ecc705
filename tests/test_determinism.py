"""Rendering is deterministic: the same answers give byte-identical files, no dates."""

from __future__ import annotations

import re
from pathlib import Path

from .helpers import project_files, render

DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b")


def test_same_answers_give_identical_files(tmp_path: Path) -> None:
    answers = {"serving_mode": "both", "data_source": "sql"}
    first = render(tmp_path / "first", **answers)
    second = render(tmp_path / "second", **answers)
    assert project_files(first) == project_files(second)
    for name in project_files(first):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_rendered_files_carry_no_dates(tmp_path: Path) -> None:
    project = render(tmp_path / "project", serving_mode="both")
    for name in project_files(project):
        assert not DATE.search((project / name).read_text()), f"a date in {name}"

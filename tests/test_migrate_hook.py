"""The migration helper: carries answers and files over, idempotent, clear on misuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import ROOT, load_script

migrate = load_script(ROOT / "hooks" / "migrate.py")
ANSWERS = "# Changes here will be overwritten by Copier\n_commit: 0.1.0\nold_name: keep me\nx: 1\n"


def test_rename_answer_keeps_value_order_and_comments_and_is_idempotent(tmp_path: Path) -> None:
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text(ANSWERS)
    assert migrate.rename_answer(tmp_path, "old_name", "new_name") == (
        "answer `old_name` is now `new_name`"
    )
    assert answers.read_text() == ANSWERS.replace("old_name:", "new_name:")
    assert "nothing to rename" in migrate.rename_answer(tmp_path, "old_name", "new_name")
    assert answers.read_text() == ANSWERS.replace("old_name:", "new_name:")


def test_rename_answer_without_the_old_answer_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / ".copier-answers.yml").write_text(ANSWERS)
    assert "no answer `missing`" in migrate.rename_answer(tmp_path, "missing", "other")
    assert (tmp_path / ".copier-answers.yml").read_text() == ANSWERS


def test_move_keeps_content_and_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/runbook.md").write_text("team edits\n")
    assert migrate.move_file(tmp_path, "docs/runbook.md", "docs/ops/runbook.md") == (
        "moved docs/runbook.md to docs/ops/runbook.md"
    )
    assert (tmp_path / "docs/ops/runbook.md").read_text() == "team edits\n"
    assert "nothing to move" in migrate.move_file(
        tmp_path, "docs/runbook.md", "docs/ops/runbook.md"
    )
    (tmp_path / "docs/runbook.md").write_text("second copy\n")
    message = migrate.move_file(tmp_path, "docs/runbook.md", "docs/ops/runbook.md")
    assert "exists already" in message
    assert (tmp_path / "docs/ops/runbook.md").read_text() == "team edits\n"


def test_misuse_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert migrate.main(["migrate.py", "delete", "a", "b"]) == 2
    assert "usage: migrate.py {rename-answer|move} OLD NEW" in capsys.readouterr().err

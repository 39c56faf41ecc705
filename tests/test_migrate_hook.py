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
    usage = capsys.readouterr().err
    assert (
        "usage: migrate.py rename-answer OLD NEW | move OLD NEW | add-row FILE AFTER ROW" in usage
    )
    assert migrate.main(["migrate.py", "regroup-package", "extra"]) == 2


FLAT_MODEL = """from . import lineage
from .features import build_preprocessor
from .contract import Contract
from .config import Settings
"""


def test_a_moved_module_imports_its_old_neighbours_from_their_new_places() -> None:
    rewritten = migrate.rewrite_imports(FLAT_MODEL, "churn", ["model"])
    assert rewritten.splitlines() == [
        "from ..config import Settings",
        "from ..data.contract import Contract",
        "from ..registry import lineage",
        "from .features import build_preprocessor",
    ]


def test_absolute_imports_follow_without_renaming_twice() -> None:
    text = "from churn import model\nfrom churn.data import read_table\nx = churn.train.train\n"
    assert migrate.rewrite_imports(text, "churn", None) == (
        "from churn.data.sources import read_table\n"  # sorted as ruff would
        "from churn.model import estimators as model\n"
        "x = churn.model.train.train\n"
    )


def test_regroup_moves_the_team_modules_and_fixes_their_imports(tmp_path: Path) -> None:
    (tmp_path / ".copier-answers.yml").write_text("_commit: 0.2.0\npackage_name: churn\n")
    package = tmp_path / "src/churn"
    package.mkdir(parents=True)
    (package / "train.py").write_text("# template module, replaced by the update\n")
    (package / "model.py").write_text(FLAT_MODEL + "TEAM = 1\n")
    (package / "ours.py").write_text("from .gate import evaluate_gate\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_ours.py").write_text("from churn.ours import evaluate_gate\n")
    (tmp_path / "tests/test_gate.py").write_text("from churn.gate import x\n")  # template's

    message = migrate.regroup_package(tmp_path)
    assert "moved src/churn/model.py to src/churn/model/estimators.py" in message
    assert not (package / "model.py").exists()
    assert "TEAM = 1" in (package / "model/estimators.py").read_text()
    assert (package / "ours.py").read_text() == "from .model.gate import evaluate_gate\n"
    assert (tmp_path / "tests/test_ours.py").read_text() == "from churn.ours import evaluate_gate\n"
    assert (tmp_path / "tests/test_gate.py").read_text() == "from churn.gate import x\n"
    (package / "train.py").unlink()
    assert "nothing to regroup" in migrate.regroup_package(tmp_path)


def test_add_row_adds_a_missing_row_once_after_its_anchor(tmp_path: Path) -> None:
    charter = tmp_path / "charter.md"
    charter.write_text("| a | 1 |\n| Retraining schedule | `0 3 * * 1` |\n| z | 2 |\n")
    row = "| Promotion after retraining | automatic |"
    assert "added the `Promotion after retraining` row" in migrate.add_row(
        tmp_path, "charter.md", "| Retraining schedule", row
    )
    assert charter.read_text().splitlines()[2] == row
    assert "already" in migrate.add_row(tmp_path, "charter.md", "| Retraining schedule", row)
    assert charter.read_text().count("Promotion after retraining") == 1
    assert "by hand" in migrate.add_row(tmp_path, "charter.md", "| Missing", "| Other | x |")


CHANGELOG = """# Changelog

## Unreleased

### Upgrading

- move your files.

### Added

## 0.2.0

### Upgrading

Nothing to do by hand.

### Added

- things
"""


def test_upgrading_notes_pick_the_release_or_the_unreleased_section() -> None:
    assert migrate.upgrading_section(CHANGELOG, "0.2.0") == "Nothing to do by hand."
    assert migrate.upgrading_section(CHANGELOG, "0.3.0.dev0") == "- move your files."
    assert migrate.upgrading_section(CHANGELOG, "9.9.9") is None


def test_merged_conflicts_are_labelled_with_the_releases_they_come_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An overlapping edit to a moved module: the markers name the release updated to
    (what the answers file records now) and the one the project came from."""
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    package = tmp_path / "src/churn"
    package.mkdir(parents=True)
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text("_commit: 0.2.0\npackage_name: churn\n")
    (package / "train.py").write_text('"""Train."""\nSTEPS = 3  # ours\n')
    git("init", "--quiet")
    git("add", "--all")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "0.2.0")

    def previous(_: str, destination: Path) -> None:  # the 0.2.0 render: the base
        (destination / "src/churn").mkdir(parents=True)
        (destination / "src/churn/train.py").write_text('"""Train."""\nSTEPS = 1\n')

    monkeypatch.setattr(migrate, "_render_previous", previous)
    answers.write_text("_commit: 0.5.1\npackage_name: churn\n")  # copier updated it
    (package / "train.py").unlink()
    (package / "model").mkdir()
    (package / "model/train.py").write_text('"""Train."""\nSTEPS = 2\n')
    assert "conflicts to resolve: src/churn/train.py -> src/churn/model/train.py" in (
        migrate.merge_regrouped(tmp_path)
    )
    text = (package / "model/train.py").read_text()
    assert "<<<<<<< 0.5.1 template\nSTEPS = 2\n" in text
    assert ">>>>>>> your edits" in text and "0.3.0" not in text

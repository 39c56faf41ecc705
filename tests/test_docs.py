"""The docs build strictly, and the questionnaire reference matches copier.yml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .helpers import ROOT


def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "questionnaire" / "index.html").exists()


def test_questionnaire_reference_is_generated_from_copier_yml() -> None:
    result = subprocess.run(
        [sys.executable, "docs/gen_questionnaire.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    reference = (ROOT / "docs" / "questionnaire.md").read_text()
    for question in ("success_threshold", "serving_mode", "personal_data_columns"):
        assert f"`{question}`" in reference

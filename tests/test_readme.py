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

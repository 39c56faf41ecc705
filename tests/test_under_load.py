"""A busy runner: the main paths hold while this test keeps every CPU busy itself.

CI runners are shared: a fixed wall-clock wait that holds on a quiet machine fails on a
loaded one, and a search cut off by the clock chooses another model. Here the machine
is saturated by spinning processes the test starts, bounds in time and stops, while the
default project and a `both` project run `make all`; the default project must choose
exactly the model it chooses on a quiet machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .helpers import render, run

# Each spinner ends by itself after this long, should the test die without stopping it.
SPIN_LIMIT_SECONDS = 1200
SPINNER = (
    "import time, sys; end = time.monotonic() + float(sys.argv[1])\n"
    "while time.monotonic() < end: pass"
)


@contextmanager
def saturated(per_cpu: int = 1) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`per_cpu` busy processes per CPU (the test itself competes with them, so one each
    keeps every CPU busy), bounded in time and stopped on exit."""
    count = per_cpu * (os.cpu_count() or 1)
    spinners = [
        subprocess.Popen([sys.executable, "-c", SPINNER, str(SPIN_LIMIT_SECONDS)])
        for _ in range(count)
    ]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    assert all(spinner.returncode is not None for spinner in spinners)


def chosen_model(project: Path) -> dict[str, object]:
    report = json.loads((project / "reports/evaluation.json").read_text())
    selection = report["selection"]
    return {key: selection[key] for key in ("family", "params", "cv_score", "tried", "note")}


@pytest.mark.slow
def test_the_default_project_runs_end_to_end_and_chooses_the_same_model_under_load(
    tmp_path: Path,
) -> None:
    project = render(tmp_path / "churn")
    run(["uv", "sync", "--quiet"], project)
    run(["make", "data", "train"], project)
    quiet = chosen_model(project)
    assert {row["family"] for row in quiet["tried"]} == {  # type: ignore[union-attr]
        "logistic_regression",
        "hist_gradient_boosting",
    }
    run(["make", "clean"], project)
    with saturated() as spinners:
        output = run(["make", "all"], project)
        assert all(spinner.poll() is None for spinner in spinners), "the load stopped early"
    assert "quality gate passed" in output.stdout
    assert chosen_model(project) == quiet


@pytest.mark.slow
def test_a_project_with_a_service_runs_end_to_end_under_load(tmp_path: Path) -> None:
    project = render(tmp_path / "churn", serving_mode="both", tracking="none")
    run(["uv", "sync", "--quiet"], project)
    with saturated() as spinners:
        output = run(["make", "all"], project)
        assert all(spinner.poll() is None for spinner in spinners), "the load stopped early"
    assert "serve smoke test passed" in output.stdout
    assert "monitoring verdict: ok" in output.stdout + output.stderr

    # A wait that runs out: the documented status (7), the service's own last log lines,
    # and no service left running, for the smoke test and for the benchmark alike.
    impatient = {"CUSTOMER_CHURN_SERVING__READY_TIMEOUT_SECONDS": "0.05"}
    for command in (["serve-smoke"], ["bench", "--seconds", "1", "--rows", "1000"]):
        failed = run(["uv", "run", "customer_churn", *command], project, check=False,
                     env=impatient)  # fmt: skip
        assert failed.returncode == 7, failed.stdout + failed.stderr
        assert "ready_timeout_seconds" in failed.stderr
        assert services_running_in(project) == [], command
    smoke = run(["uv", "run", "customer_churn", "serve-smoke"], project, check=False,
                env=impatient)  # fmt: skip
    assert "the service's last log lines:" in smoke.stderr


def services_running_in(project: Path) -> list[str]:
    """Command lines of the processes whose working folder is `project` (Linux /proc)."""
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(folder / "cwd")) == project:
                found.append((folder / "cmdline").read_text().replace("\0", " "))
        except OSError:
            continue
    return found

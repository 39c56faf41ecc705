"""The real release history: a project made at 0.2.0 updates to this tree and stays green.

The releases are this repository's own commits (tags are made in a scratch clone), so
the test runs the path a team takes, not a synthetic one; the CHANGELOG's Upgrading
section must hold for it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from .helpers import ROOT, run

PREVIOUS = "0.2.0"
TEAM_LINE = 'TEAM_NOTE = "our own feature work"\n'
TEAM_GATE_EDIT = "in the metric's direction (risk: ties stay)."
# A module and a test the team added in the flat 0.2.0 package, importing moved modules.
TEAM_MODULE = '''"""Our own helper."""

from .contract import Contract
from .features import feature_columns


def feature_count(contract: Contract) -> int:
    numeric, categorical = feature_columns(contract, [])
    return len(numeric) + len(categorical)
'''
TEAM_TEST = '''"""Our own test."""

from pathlib import Path

from customer_churn.contract import load_contract
from customer_churn.team_helpers import feature_count


def test_the_model_uses_features() -> None:
    assert feature_count(load_contract(Path("config/contract.yaml"))) > 0
'''


def _releases() -> dict[str, str]:
    """Every release in this repository's history: version -> commit, oldest first."""
    log = subprocess.run(["git", "log", "--reverse", "--format=%H %s", "--grep=^Release "],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout  # fmt: skip
    found = (re.match(r"(\w+) Release (\d+\.\d+\.\d+)\b", line) for line in log.splitlines())
    return {match[2]: match[1] for match in found if match}


RELEASES = _releases()
HEAD = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                      text=True, check=True).stdout.strip()  # fmt: skip
# This tree's version: the release it is, or the next minor's development version.
HEAD_RELEASE = next((v for v, commit in RELEASES.items() if commit == HEAD), None)
_last = Version(list(RELEASES)[-1])
CURRENT = HEAD_RELEASE or f"{_last.major}.{_last.minor + 1}.0.dev0"


def _tagged_clone(tmp_path: Path) -> Path:
    """This repository with every release tagged, and this tree as CURRENT."""
    clone = tmp_path / "groundwork"
    run(["git", "clone", "--quiet", str(ROOT), str(clone)], tmp_path)
    for version, commit in RELEASES.items():
        run(["git", "tag", version, commit], clone)
    if HEAD_RELEASE is None:
        run(["git", "tag", CURRENT, "HEAD"], clone)
    return clone


def _notes_position(output: str, version: str) -> int:
    """Where the update printed a release's Upgrading notes (-1: nowhere)."""
    found = [output.find(f"Upgrading notes for {version}"), output.find(f"Upgrading to {version}:")]
    return max(found) if min(found) == -1 else min(found)


def test_the_release_history_is_found() -> None:
    assert list(RELEASES)[:2] == ["0.1.0", "0.2.0"]


@pytest.mark.slow
@pytest.mark.parametrize("release", [v for v in RELEASES if v not in (PREVIOUS, HEAD_RELEASE)])
def test_every_other_release_updates_and_stays_green(tmp_path: Path, release: str) -> None:
    """The deeper checks run from 0.2.0 below; every other release must update green."""
    clone = _tagged_clone(tmp_path)
    project = tmp_path / "project"
    run([sys.executable, "-m", "copier", "copy", "--defaults", "--skip-tasks",
         "--vcs-ref", release, str(clone), str(project)], tmp_path)  # fmt: skip
    run(["git", "init", "--quiet", "--initial-branch=main"], project)
    # The flat package of 0.1.0 and 0.2.0, or the grouped one from 0.3.0 on.
    flat = project / "src/customer_churn/features.py"
    features = flat if flat.exists() else project / "src/customer_churn/model/features.py"
    features.write_text(features.read_text() + "\n\n" + TEAM_LINE)
    run(["git", "add", "--all"], project)
    run(
        ["git", "commit", "--quiet", "--message", f"generated at {release}, with our edit"], project
    )

    update = run(["make", "template-update", f"VERSION={CURRENT}"], project)
    assert "Updated cleanly" in update.stdout + update.stderr
    assert TEAM_LINE in (project / "src/customer_churn/model/features.py").read_text()
    # Each release crossed prints its Upgrading notes, oldest first (a migration prints
    # them up to 0.3.0, the update script from then on).
    crossed = [v for v in RELEASES if Version(release) < Version(v) <= Version(CURRENT)]
    if Version(CURRENT).is_devrelease and Version(CURRENT) < Version("0.3.0"):
        crossed.append(CURRENT)  # the 0.3.0 notes migration, before that release
    positions = [_notes_position(update.stdout, version) for version in crossed]
    assert -1 not in positions and positions == sorted(positions), update.stdout
    run(["make", "setup"], project)
    run(["make", "lint"], project)
    run(["make", "test"], project)
    assert "monitoring verdict: ok" in run(["make", "all"], project).stdout


@pytest.mark.slow
def test_a_project_made_at_0_2_0_updates_and_stays_green(tmp_path: Path) -> None:
    clone = _tagged_clone(tmp_path)

    project = tmp_path / "project"
    run([sys.executable, "-m", "copier", "copy", "--defaults", "--skip-tasks",
         "--vcs-ref", PREVIOUS, str(clone), str(project)], tmp_path)  # fmt: skip
    run(["git", "init", "--quiet", "--initial-branch=main"], project)
    run(["make", "setup"], project)
    run(["make", "data"], project)  # 0.2.0 wrote its sample where [data] points
    package = project / "src/customer_churn"
    (package / "features.py").write_text((package / "features.py").read_text() + "\n\n" + TEAM_LINE)
    (package / "model.py").write_text((package / "model.py").read_text() + "\n\n" + TEAM_LINE)
    gate = package / "gate.py"  # a template module the team edited (shared)
    gate.write_text(gate.read_text().replace("in the metric's direction.", TEAM_GATE_EDIT))
    (package / "team_helpers.py").write_text(TEAM_MODULE)
    (project / "tests/test_team.py").write_text(TEAM_TEST)
    run(["make", "train"], project)  # a champion trained by 0.2.0 code
    run(["git", "add", "--all"], project)
    run(["git", "commit", "--quiet", "--message", "generated at 0.2.0, with our edit"], project)

    update = run(["make", "template-update", f"VERSION={CURRENT}"], project)
    assert "Updated cleanly" in update.stdout + update.stderr
    # The flat package is grouped; the team's modules moved with their edits (migration).
    assert "moved src/customer_churn/features.py to src/customer_churn/model/features.py" in (
        update.stdout
    )
    assert TEAM_LINE in (package / "model/features.py").read_text()
    assert TEAM_LINE in (package / "model/estimators.py").read_text()
    assert "from ..data.contract import Contract" in (package / "model/estimators.py").read_text()
    for gone in ["features.py", "model.py", "train.py", "data.py", "serve.py", "registry.py"]:
        assert not (package / gone).exists(), gone
    assert "from .data.contract import Contract" in (package / "team_helpers.py").read_text()
    assert "customer_churn.data.contract import" in (project / "tests/test_team.py").read_text()
    assert (package / "data/fetch.py").exists()
    # The edit to a moved template module is merged into its new place (3-way).
    assert "your edits merged: src/customer_churn/gate.py -> src/customer_churn/model/gate.py" in (
        update.stdout
    )
    assert TEAM_GATE_EDIT in (package / "model/gate.py").read_text()
    # The update prints this release's Upgrading notes from the CHANGELOG.
    regrouping = "0.3.0" if Version(CURRENT) >= Version("0.3.0") else CURRENT
    assert f"Upgrading notes for {regrouping} (CHANGELOG.md):" in update.stdout
    assert "The package is grouped into subpackages" in update.stdout

    # The champion trained before the update still loads and scores.
    evaluated = run(["make", "evaluate"], project)
    assert "champion v1:" in evaluated.stdout and "reports/evaluation.md" in evaluated.stdout

    # Green without a hand edit: the sample line is missing, so it says what it does.
    run(["make", "setup"], project)
    run(["make", "lint"], project)
    run(["make", "test"], project)
    result = run(["make", "all"], project)
    assert "[data] sample is not set" in result.stderr
    assert "monitoring verdict: ok" in result.stdout

    # The standard asks for the line; with it, the project is conformant.
    conformance = ["uv", "run", "--no-project", "--with", "copier>=9.19", "--with", "pyyaml>=6",
                   "python", "scripts/conformance.py"]  # fmt: skip
    asked = run(conformance, project, check=False)
    assert asked.returncode == 1 and "[data] sample is not set" in asked.stdout
    # The gate decides promotions, so it is the template's now: the merged edit is named.
    assert "src/customer_churn/model/gate.py was edited" in asked.stdout
    gate = package / "model/gate.py"
    gate.write_text(gate.read_text().replace(TEAM_GATE_EDIT, "in the metric's direction."))
    settings = project / "config/settings.toml"
    settings.write_text(settings.read_text().replace("[data]\n", "[data]\nsample = false\n", 1))
    assert "conformant: 9/9 checks pass" in run(conformance, project).stdout

"""The first commit `make setup` makes, and generation and updates without trust."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .helpers import ROOT, answers_of, load_script, run, tool_env

git_init = load_script(ROOT / "template/scripts/first_commit.py")


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=folder, env=tool_env(), capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(autouse=True)
def _identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in tool_env().items():
        if key.startswith("GIT_"):
            monkeypatch.setenv(key, value)


def test_creates_a_repository_with_a_first_commit(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello\n")
    assert git_init.init_repository(tmp_path) == "created a git repository with a first commit"
    assert _git(tmp_path, "log", "--format=%s").strip() == git_init.COMMIT_MESSAGE
    assert _git(tmp_path, "status", "--porcelain") == ""


def test_running_twice_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello\n")
    git_init.init_repository(tmp_path)
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert "left it as it is" in git_init.init_repository(tmp_path)
    assert _git(tmp_path, "rev-parse", "HEAD") == head


def test_leaves_an_enclosing_repository_alone(tmp_path: Path) -> None:
    _git(tmp_path, "init", "--quiet")
    inner = tmp_path / "project"
    inner.mkdir()
    assert "left it as it is" in git_init.init_repository(inner)
    assert not (inner / ".git").exists()


def test_without_identity_it_stages_and_explains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(git_init, "has_identity", lambda folder: False)
    (tmp_path / "README.md").write_text("hello\n")
    message = git_init.init_repository(tmp_path)
    assert "set user.name and user.email" in message
    assert _git(tmp_path, "status", "--porcelain").startswith("A ")


def test_without_git_it_skips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert "git is not installed" in git_init.init_repository(tmp_path)
    assert not (tmp_path / ".git").exists()


def test_the_script_makes_no_network_calls() -> None:
    source = (ROOT / "template/scripts/first_commit.py").read_text()
    for marker in ("urllib", "http", "socket", "requests", "pip install", "uv sync", "fetch"):
        assert marker not in source


def test_the_template_has_no_tasks() -> None:
    """Tasks would make Copier demand --trust on every later update, Renovate's too."""
    assert "_tasks" not in yaml.safe_load((ROOT / "copier.yml").read_text())


def _release(template: Path, message: str, tag: str) -> None:
    _git(template, "add", "--all")
    _git(template, "commit", "--quiet", "-m", message)
    _git(template, "tag", tag)


@pytest.mark.slow
def test_renovates_update_command_runs_without_trust(tmp_path: Path) -> None:
    """Generate without --trust, then run the exact command Renovate's copier manager
    runs (no --trust, no --skip-tasks): the release comes in; a conflict it leaves is
    caught by the standard the project's CI runs."""
    template = tmp_path / "template"
    shutil.copytree(
        ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv", "site", "*_cache")
    )
    _git(template, "init", "--quiet")
    _release(template, "v1", "1.0.0")
    project = tmp_path / "project"
    copier = [sys.executable, "-m", "copier"]
    run([*copier, "copy", "--defaults", "--quiet", str(template), str(project)], tmp_path)
    done = run([sys.executable, "scripts/first_commit.py"], project)
    assert "created a git repository with a first commit" in done.stdout
    # The team edits a shared file where the next release changes it too.
    readme = project / "README.md"
    first_line = readme.read_text().splitlines()[0]
    readme.write_text(readme.read_text().replace(first_line, first_line + " (our team)", 1))
    _git(project, "commit", "--quiet", "-am", "our title")

    page = template / "template/README.md.jinja"
    text = page.read_text()
    page.write_text(text.replace(text.splitlines()[0], text.splitlines()[0] + " (v1.1)", 1))
    train = next((template / "template/src").glob("*/model/train.py.jinja"))
    train.write_text(train.read_text() + "# A template improvement in 1.1.0.\n")
    _release(template, "v1.1", "1.1.0")

    renovate = [*copier, "update", "--skip-answered", "--defaults",
                "--answers-file", ".copier-answers.yml", "--vcs-ref", "1.1.0"]  # fmt: skip
    result = run(renovate, project, check=False)
    assert result.returncode == 0, result.stderr
    assert "trust" not in result.stderr.lower()
    package = answers_of(project)["package_name"]
    assert answers_of(project)["_commit"] == "1.1.0"
    assert (
        "A template improvement in 1.1.0."
        in (project / f"src/{package}/model/train.py").read_text()
    )
    # Renovate opens the pull request anyway; the project's CI check refuses it.
    assert "<<<<<<<" in readme.read_text()
    standard = run([sys.executable, "scripts/conformance.py"], project, check=False)
    assert standard.returncode == 1
    assert "FAIL  merged" in standard.stdout and "README.md" in standard.stdout

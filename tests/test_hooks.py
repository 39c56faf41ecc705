"""The git task: optional, idempotent, offline, and run on copy only."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from copier import run_copy, run_update

from .helpers import ROOT, load_script, tool_env

git_init = load_script(ROOT / "hooks" / "git_init.py")


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


def test_the_task_makes_no_network_calls() -> None:
    source = (ROOT / "hooks" / "git_init.py").read_text()
    for marker in ("urllib", "http", "socket", "requests", "pip install", "uv sync", "fetch"):
        assert marker not in source


def test_copier_runs_the_task_on_copy_only() -> None:
    tasks = yaml.safe_load((ROOT / "copier.yml").read_text())["_tasks"]
    assert tasks and all(task["when"] == "{{ _copier_operation == 'copy' }}" for task in tasks)


def test_trusted_copy_commits_and_update_does_not_rerun_the_task(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template"
    shutil.copytree(ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv", "site"))
    _git(template, "init", "--quiet")
    _git(template, "add", "--all")
    _git(template, "commit", "--quiet", "-m", "v1")
    _git(template, "tag", "1.0.0")
    project = tmp_path / "project"

    run_copy(str(template), project, defaults=True, unsafe=True, quiet=True)
    assert "groundwork: created a git repository with a first commit" in capfd.readouterr().out
    assert _git(project, "log", "--format=%s").splitlines() == [git_init.COMMIT_MESSAGE]

    readme = template / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA template improvement.\n")
    _git(template, "commit", "--quiet", "-am", "v2")
    _git(template, "tag", "1.1.0")
    run_update(project, defaults=True, unsafe=True, quiet=True, overwrite=True)
    assert "groundwork:" not in capfd.readouterr().out
    assert "A template improvement." in (project / "README.md").read_text()


def test_skip_tasks_gives_a_complete_project_without_git(tmp_path: Path) -> None:
    run_copy(str(ROOT), tmp_path / "p", vcs_ref="HEAD", defaults=True, skip_tasks=True, quiet=True)
    assert (tmp_path / "p" / "Makefile").exists()
    assert not (tmp_path / "p" / ".git").exists()

"""`make setup`, first step: make a new project a git repository with a first commit.

`copier update` needs the project under git, hence the first commit of the files as
generated. This used to be a Copier task; tasks make Copier demand `--trust` on every
later update (Renovate's too), so it runs here instead. Idempotent (an existing
repository is left alone), no network calls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

COMMIT_MESSAGE = "Initial commit from the groundwork template"


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=False)


def has_identity(folder: Path) -> bool:
    """A committer name and email, from git's config or its environment variables."""
    configured = all(
        _git(folder, "config", key).stdout.strip() for key in ("user.name", "user.email")
    )
    from_environment = all(os.environ.get(f"GIT_COMMITTER_{key}") for key in ("NAME", "EMAIL"))
    return configured or from_environment


def init_repository(folder: Path) -> str:
    """Initialise `folder` as a repository with one commit; return what was done."""
    if shutil.which("git") is None:
        return "git is not installed: skipped creating a repository"
    if _git(folder, "rev-parse", "--is-inside-work-tree").returncode == 0:
        return "already inside a git repository: left it as it is"
    if _git(folder, "init", "--quiet", "--initial-branch=main").returncode != 0:
        return "git init failed: create the repository yourself"
    _git(folder, "add", "--all")
    if not has_identity(folder):
        return (
            "created a git repository with the files staged; set user.name and user.email, "
            "then run `git commit` (copier update needs a commit)"
        )
    result = _git(folder, "commit", "--quiet", "--message", COMMIT_MESSAGE)
    if result.returncode != 0:
        return f"created a git repository; the first commit failed: {result.stderr.strip()}"
    return "created a git repository with a first commit"


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else Path.cwd()
    print(f"setup: {init_repository(folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

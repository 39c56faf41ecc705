"""`make template-update`: bring the latest template release in, or fail loudly.

`copier update` exits 0 even when it leaves conflicts behind. This wrapper runs it
(conflicts inline, answers kept unless given with -d), then refuses to call the
update done while anything is unresolved: unmerged paths, `.rej` files or conflict
markers. It never commits; review the diff, resolve, run the tests, then commit.

Usage: uv run --no-project --with 'copier>=9.19' python scripts/template_update.py
           [--vcs-ref REF] [-d question=answer ...]
Exit status: 0 updated and clean, 1 something to resolve, 2 could not update.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The sibling script knows what is template-owned and how to render the template.
from conformance import (
    is_template_owned,
    read_answers,
    render_reference,
    source_problem,
    unresolved,
)


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return result.stdout


def restore_deleted_owned(project: Path) -> list[str]:
    """Bring back template-owned files the project lost: copier leaves deletions alone."""
    restored = []
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / "reference"
        render_reference(read_answers(project), reference)
        for expected in sorted(p for p in reference.rglob("*") if p.is_file()):
            relative = expected.relative_to(reference).as_posix()
            if is_template_owned(relative) and not (project / relative).exists():
                (project / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(expected, project / relative)
                restored.append(relative)
    return restored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="copier update that fails on conflicts")
    parser.add_argument("--vcs-ref", help="template version to update to (default: latest)")
    parser.add_argument("-d", "--data", action="append", default=[], help="question=answer")
    args = parser.parse_args(argv)
    project = Path.cwd()
    if _git("status", "--porcelain").strip():
        print(
            "error: commit or stash your changes first: the update must start clean",
            file=sys.stderr,
        )
        return 2
    problem = source_problem(read_answers(project))
    if problem:
        print(f"error: cannot update: {problem}", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "copier", "update", "--defaults", "--trust",
               "--conflict", "inline"]  # fmt: skip
    if args.vcs_ref:
        command += ["--vcs-ref", args.vcs_ref]
    for answer in args.data:
        command += ["--data", answer]
    print("$ copier update", " ".join(command[4:]), flush=True)
    if subprocess.run(command, check=False).returncode != 0:
        print("error: copier update failed; nothing to resolve, see its message", file=sys.stderr)
        return 2
    for relative in restore_deleted_owned(project):
        print(f"restored {relative}: a template-owned file was missing")
    problems = unresolved(project)
    if problems:
        print("\nThe update left work to do. Resolve each, then run the tests and commit:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    changed = _git("status", "--porcelain").strip()
    print("\nUpdated cleanly." if changed else "\nAlready up to date: nothing changed.")
    if changed:
        print("Review `git diff`, run `make lint test`, then commit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

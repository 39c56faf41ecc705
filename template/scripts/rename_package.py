"""`make rename-package NEW=name`: rename the Python package, keeping every team edit.

Renaming by hand (or `copier update -d package_name=...`) strands the team's work:
copier writes fresh files under the new name, and later updates keep aiming at a
package that is not there. This command renders the template twice at the project's
version, with the old and the new name, and carries the project across file by file:
- a file the template generates: the rename (the difference between the two renders)
  is merged into the team's version with `git merge-file`, so team edits stay;
- a file the team added: moved if it lives in the package, and the package name is
  rewritten where it appears as a whole word (imports, `patch("old.module...")`);
- .copier-answers.yml: the new package_name, so later updates reach src/<new>/.
Nothing is written unless every file merges cleanly. The result is staged, not
committed: review `git diff --cached`, run `make setup lint test`, then commit.

Usage: uv run --no-project --with 'copier>=9.19' python scripts/rename_package.py NEW
Exit status: 0 renamed, 1 refused (nothing changed), 2 could not start.
"""

from __future__ import annotations

import argparse
import keyword
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The sibling script knows how to read the answers and render the template.
from conformance import ANSWERS_FILE, git_output, read_answers, render_template

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def name_problem(new: str, old: str) -> str | None:
    if not NAME.match(new) or keyword.iskeyword(new):
        return f"{new!r} is not a package name: lowercase letters, digits and _, a letter first"
    if new == old:
        return f"the package is already called {old!r}"
    return None


def merge(ours: bytes, base: bytes, theirs: bytes, folder: Path) -> bytes | None:
    """Three-way merge of text files; None when the two changes overlap."""
    files = []
    for label, content in (("ours", ours), ("base", base), ("theirs", theirs)):
        path = folder / label
        path.write_bytes(content)
        files.append(str(path))
    done = subprocess.run(["git", "merge-file", "-p", *files], capture_output=True, check=False)
    return done.stdout if done.returncode == 0 else None


def renamed_path(name: str, old: str, new: str) -> str:
    prefix = f"src/{old}/"
    return f"src/{new}/" + name.removeprefix(prefix) if name.startswith(prefix) else name


def plan(
    project: Path, old: str, new: str, before: Path, after: Path
) -> tuple[dict[str, bytes], list[str]]:
    """{new path: content} for every tracked file, and the files that would not merge."""
    word = re.compile(rf"\b{re.escape(old)}\b")
    result: dict[str, bytes] = {}
    conflicts = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in git_output(project, "ls-files").splitlines():
            target = renamed_path(name, old, new)
            ours = (project / name).read_bytes()
            base, theirs = before / name, after / target
            if name == ANSWERS_FILE:
                text = ours.decode()
                result[name] = re.sub(
                    r"(?m)^package_name: .*$", f"package_name: {new}", text
                ).encode()
            elif base.is_file() and theirs.is_file():
                merged = merge(ours, base.read_bytes(), theirs.read_bytes(), Path(scratch))
                if merged is None:
                    conflicts.append(name)
                else:
                    result[target] = merged
            else:
                try:
                    result[target] = word.sub(new, ours.decode()).encode()
                except UnicodeDecodeError:
                    result[target] = ours  # binary: moved as it is
    return result, conflicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new", help="the new package name")
    args = parser.parse_args(argv)
    project = Path.cwd()
    if git_output(project, "status", "--porcelain").strip():
        print("error: commit or stash your changes first: the rename must start clean",
              file=sys.stderr)  # fmt: skip
        return 2
    answers = read_answers(project)
    old = str(answers["package_name"])
    problem = name_problem(args.new, old)
    if problem is None and not (project / "src" / old).is_dir():
        problem = f"src/{old}/ is missing: move the package back to the name the answers record"
    if problem is None and (project / "src" / args.new).exists():
        problem = f"src/{args.new}/ already exists"
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"Rendering the template at {answers['_commit']} as {old!r} and as {args.new!r}...")
    with tempfile.TemporaryDirectory() as folder:
        before, after = Path(folder) / "before", Path(folder) / "after"
        version = str(answers["_commit"])
        render_template(answers, before, version)
        render_template(answers, after, version, [f"package_name={args.new}"])
        files, conflicts = plan(project, old, args.new, before, after)
    if conflicts:
        print("Refused: your edits and the rename touch the same lines in these files. "
              "Nothing was changed.")  # fmt: skip
        print("\n".join(f"  - {name}" for name in conflicts))
        print(f"Rename {old!r} in them by hand, commit, and run again.")
        return 1
    tracked = git_output(project, "ls-files").splitlines()
    rewritten = [n for n in tracked if n in files and files[n] != (project / n).read_bytes()]
    gone = [name for name in tracked if name not in files]
    if gone:
        git_output(project, "rm", "--quiet", "--", *gone)
    for name, content in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    git_output(project, "add", "--", *files)
    for cache in sorted((project / "src" / old).rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)  # byte code of the old name: rebuilt under the new one
    left = [p for p in (project / "src" / old).rglob("*") if p.is_file()]
    print(f"Renamed {old} -> {args.new}: {len(gone)} file(s) moved, the name rewritten in "
          f"{len(rewritten)} other(s); staged, not committed.")  # fmt: skip
    if left:
        print(f"src/{old}/ still holds files git does not track: "
              f"{', '.join(p.relative_to(project).as_posix() for p in left[:5])}")  # fmt: skip
    else:
        shutil.rmtree(project / "src" / old, ignore_errors=True)
    print("Next: review `git diff --cached`, run `make setup lint test`, then commit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make template-update`: bring the latest template release in, or fail loudly.

`copier update` exits 0 even when it leaves conflicts behind, and deletes or replaces
files without a word when an answer or a path changes. This wrapper first rehearses
the update in a temporary git worktree: if any line the team added to a generated file
would be gone afterwards (a deleted serving module, the CODEOWNERS of an abandoned CI
provider, a package renamed under the team's files), it stops with the list and
changes nothing. Then it runs the update in place (conflicts inline, answers kept
unless given with -d) and refuses to call it done while anything is unresolved:
unmerged paths, `.rej` files or conflict markers. It never commits; review the diff,
resolve, run the tests, then commit.

Usage: uv run --no-project --with 'copier>=9.19' python scripts/template_update.py
           [--vcs-ref REF] [-d question=answer ...] [--dry-run] [--allow-losses]
  --dry-run       rehearse only: print the files the update changes, the diff stat,
                  what would be left to resolve, what would be lost, and how the
                  template's copy of files that are yours (never updated) changed
  --allow-losses  proceed although team lines would be lost (they stay in git history)
Exit status: 0 updated and clean (or dry run), 1 something to resolve, 2 could not
update, 3 refused: the update would lose team edits.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The sibling script knows what is template-owned and how to render the template.
from conformance import (
    ANSWERS_FILE,
    git_output,
    is_template_owned,
    read_answers,
    render_reference,
    render_template,
    source_problem,
    unresolved,
)


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


def _text_lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except (UnicodeDecodeError, OSError):
        return []


def team_lines(project: Path, reference: Path) -> dict[str, list[str]]:
    """For each tracked file the template generates: the lines the team added to it."""
    added = {}
    for name in git_output(project, "ls-files").splitlines():
        rendered = reference / name
        if name == ANSWERS_FILE or not rendered.is_file():
            continue  # the team's own files: copier never touches them
        template_lines = set(_text_lines(rendered))
        ours = [line for line in _text_lines(project / name) if line]
        new = [line for line in ours if line not in template_lines]
        if new:
            added[name] = new
    return added


def lost_edits(added: dict[str, list[str]], result: Path) -> list[str]:
    """Team lines that appear nowhere in the updated tree (a moved line still counts)."""
    listed = git_output(result, "ls-files", "--cached", "--others", "--exclude-standard")
    present = {line for name in listed.splitlines() for line in _text_lines(result / name)}
    lost = []
    for name, lines in sorted(added.items()):
        missing = [line for line in lines if line not in present]
        if missing:
            fate = "deleted by the update" if not (result / name).exists() else "replaced"
            lost.append(f"{name} ({fate}): {len(missing)} of your lines, e.g. {missing[0]!r}")
    return lost


def rehearse(project: Path, command: list[str], folder: Path) -> Path | None:
    """The update applied to a throwaway worktree of HEAD; None if copier failed."""
    tree = folder / "rehearsal"
    git_output(project, "worktree", "add", "--quiet", "--detach", str(tree), "HEAD")
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return None
    return tree


def yours_changed_upstream(project: Path, before: Path, after: Path, tree: Path) -> list[str]:
    """Files the update leaves alone (they are yours) although the template changed them."""
    notes = []
    for rendered in sorted(p for p in after.rglob("*") if p.is_file()):
        name = rendered.relative_to(after).as_posix()
        previous, ours = before / name, project / name
        if name == ANSWERS_FILE or not previous.is_file() or not ours.is_file():
            continue
        untouched = (tree / name).is_file() and (tree / name).read_bytes() == ours.read_bytes()
        if untouched and previous.read_bytes() != rendered.read_bytes():
            diff = difflib.unified_diff(
                ours.read_text(errors="replace").splitlines(),
                rendered.read_text(errors="replace").splitlines(), f"{name} (yours)",
                f"{name} (the template's new copy)", lineterm="", n=1,
            )  # fmt: skip
            notes.append("\n".join(list(diff)[:40]))
    return notes


def preview(tree: Path, lost: list[str]) -> None:
    git_output(tree, "add", "--all")
    changed = git_output(tree, "diff", "--cached", "--name-status").splitlines()
    print(f"\nThe update would change {len(changed)} file(s):")
    print("\n".join(f"  {line}" for line in changed) or "  (none)")
    print(git_output(tree, "diff", "--cached", "--stat").rstrip())
    left = unresolved(tree)
    print("\nLeft to resolve:" if left else "\nNothing left to resolve.")
    print("\n".join(f"  - {line}" for line in left))
    print("Your edits that would be lost:" if lost else "No edit of yours would be lost.")
    print("\n".join(f"  - {line}" for line in lost))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="copier update that fails on conflicts")
    parser.add_argument("--vcs-ref", help="template version to update to (default: latest)")
    parser.add_argument("-d", "--data", action="append", default=[], help="question=answer")
    parser.add_argument("--dry-run", action="store_true", help="rehearse and report only")
    parser.add_argument("--allow-losses", action="store_true", help="proceed despite losses")
    args = parser.parse_args(argv)
    project = Path.cwd()
    if git_output(project, "status", "--porcelain").strip():
        print(
            "error: commit or stash your changes first: the update must start clean",
            file=sys.stderr,
        )
        return 2
    answers = read_answers(project)
    problem = source_problem(answers)
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
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / "reference"
        render_reference(answers, reference)
        try:
            tree = rehearse(project, command, Path(folder))
            if tree is None:
                print("error: copier update failed; nothing was changed", file=sys.stderr)
                return 2
            lost = lost_edits(team_lines(project, reference), tree)
            if args.dry_run:
                preview(tree, lost)
                target = Path(folder) / "target"
                render_template(answers, target, args.vcs_ref, args.data)
                notes = yours_changed_upstream(project, reference, target, tree)
                if notes:
                    print("\nYours, so the update leaves them alone, but the template changed")
                    print("its copy; carry over what you want (first 40 lines of each):\n")
                    print("\n\n".join(notes))
                return 0
        finally:
            git_output(project, "worktree", "remove", "--force", str(Path(folder) / "rehearsal"))
    if lost and not args.allow_losses:
        print("\nRefused: the update would lose lines you added. Nothing was changed.")
        print("\n".join(f"  - {line}" for line in lost))
        print(
            "Carry them over first (or change the answer back). To proceed anyway, run again "
            "with --allow-losses (make template-update ALLOW_LOSSES=1); the lines stay in git "
            "history."
        )
        return 3
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
    changed = git_output(project, "status", "--porcelain").strip()
    print("\nUpdated cleanly." if changed else "\nAlready up to date: nothing changed.")
    if changed:
        print("Review `git diff`, run `make lint test`, then commit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

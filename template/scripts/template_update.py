"""`make template-update`: bring the latest template release in, or fail loudly.

`copier update` exits 0 even when it leaves conflicts behind, and deletes or replaces
files without a word when an answer or a path changes. This wrapper first rehearses
the update in a temporary git worktree: if any line the team added to a generated file
would be gone afterwards (a deleted serving module, the CODEOWNERS of an abandoned CI
provider), it stops with the list and changes nothing. An answer change that needs
more in files that are yours gets it added (a [serving] section, the service's alert
rules) or, where only a person can make the edit (a new metric's threshold), is
refused with the list. Then it runs the update in place (conflicts inline, answers kept
unless given with -d) and refuses to call it done while anything is unresolved:
unmerged paths, `.rej` files or conflict markers. It never commits; review the diff,
resolve, run the tests, then commit.

Usage: uv run --no-project --with 'copier>=9.19' python scripts/template_update.py
           [--vcs-ref REF] [-d question=answer ...] [--dry-run] [--allow-losses]
  --dry-run       rehearse only: print the files the update changes, the diff stat,
                  what would be left to resolve or lost, the template's changelog
                  between the two versions, and how the template's copy of files that
                  are yours (never updated) changed
  --allow-losses  proceed although team lines would be lost (they stay in git history)
Exit status: 0 updated and clean (or dry run), 1 something to resolve, 2 could not
update, 3 refused (nothing changed): the update would lose team edits, would leave
files that are yours disagreeing with the answers, or renames the package.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml

# The sibling script knows what is template-owned and how to render the template.
from conformance import (
    ANSWERS_FILE,
    check_agreement,
    check_gate,
    git_output,
    is_template_owned,
    newest_release,
    read_answers,
    render_reference,
    render_template,
    source_problem,
    unresolved,
)
from packaging.version import InvalidVersion, Version

CHANGELOG = "docs/groundwork-changelog.md"
SETTINGS = "config/settings.toml"
ALERTS = "monitoring/alerts.yml"
RUNBOOK = "docs/runbook.md"
RUNBOOK_ENTRY = r"^(### .+?)\s*$"  # an alert's entry: its heading


def release(text: str) -> Version | None:
    """A template version from `_commit` or a changelog heading; `0.2.0-3-gabc` (commits
    after a release) counts as that release."""
    text = re.sub(r"-\d+-g[0-9a-f]+$", "", text.strip())
    try:
        return Version(text) if re.match(r"^v?\d+\.\d+", text) else None  # not a bare hash
    except InvalidVersion:
        return None


def changelog_between(text: str, old: str, new: str) -> list[str]:
    """The changelog sections after version `old` up to `new`, newest first."""
    if old == new:
        return []  # an answer change on the same version
    since, until = release(old), release(new)
    unreleased = until is None or until.is_devrelease or new != str(until)
    sections = []
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        heading = section.split(maxsplit=1)[0]
        version = release(heading)
        if heading == "Unreleased":
            wanted = unreleased
        else:
            # From an unknown version (a bare commit), only what is unreleased is new.
            wanted = (
                version is not None
                and since is not None
                and version > since
                and (until is None or version <= until)
            )
        if wanted:
            sections.append("## " + section.rstrip())
    return sections


def upgrading_notes(section: str) -> str:
    """A changelog section's Upgrading part: what to do by hand after the update."""
    match = re.search(r"^### Upgrading\n(.*?)(?=^### |\Z)", section, re.DOTALL | re.MULTILINE)
    heading = section.splitlines()[0].removeprefix("## ")
    return f"Upgrading to {heading}:\n{match.group(1).strip()}" if match else ""


def release_notes(tree: Path, old: str, new: str) -> list[str]:
    changelog = tree / CHANGELOG
    return changelog_between(changelog.read_text(), old, new) if changelog.is_file() else []


def _blocks(text: str, header: str, ends: str = r"^\S") -> dict[str, str]:
    """The blocks of a file by name: a line matching `header` starts one, the next such
    line or a line matching `ends` closes it (`[table]`s, `  - name:` items, headings)."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = re.match(header, line)
        if match:
            current = blocks.setdefault(match.group(1), [])
        elif re.match(ends, line):
            current = None
        if current is not None:
            current.append(line)
    return {name: "\n".join(lines).rstrip() + "\n" for name, lines in blocks.items()}


def _block_names(path: Path, header: str) -> set[str]:
    return set(_blocks(path.read_text(), header)) if path.is_file() else set()


def complete_runbook(project: Path, target: Path, unchanged: Path) -> list[str]:
    """Runbook entries (`### Alert`) for alert rules the answer change brings: inserted
    at the end of the team's `## Alerts` section, where the alert links point."""
    ours, theirs = project / RUNBOOK, target / RUNBOOK
    if not ours.is_file() or not theirs.is_file():
        return []
    lines = ours.read_text().splitlines()
    have = {line.strip() for line in lines if line.startswith("### ")}
    have |= _block_names(unchanged / RUNBOOK, RUNBOOK_ENTRY)
    entries = _blocks(theirs.read_text(), RUNBOOK_ENTRY, ends=r"^#{1,3} ")
    missing = {name: block for name, block in entries.items() if name not in have}
    if not missing:
        return []
    start = next((n for n, line in enumerate(lines) if line.strip() == "## Alerts"), len(lines))
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")), None)
    insert = "\n".join(block.rstrip() + "\n" for block in missing.values())
    if end is None:
        text = "\n".join(lines).rstrip("\n") + "\n\n" + insert
    else:
        text = "\n".join(lines[:end]).rstrip("\n") + "\n\n" + insert + "\n"
        text += "\n".join(lines[end:]) + "\n"
    ours.write_text(text)
    added = ", ".join(name.removeprefix("### ") for name in missing)
    return [f"{RUNBOOK}: added the entries for {added} from the template (yours: adapt them)"]


def complete_yours(project: Path, target: Path, unchanged: Path) -> list[str]:
    """Add what an answer change needs to files that are yours, without touching a line
    of them: settings sections and alert rule groups the new answers bring (in `target`,
    not in `unchanged`, the same release rendered with the old answers) and yours lack
    (serving_mode batch -> online adds [serving] and the latency rules). A release alone
    adds nothing: its Upgrading notes say what to copy."""
    notes = []
    for name, header, ends, present in [
        (SETTINGS, r"^\[([\w-]+)\]\s*$", r"^\[", lambda text: tomllib.loads(text)),
        (ALERTS, r"^  - name: (\S+)\s*$", r"^\S",
         lambda text: {g["name"]: g for g in (yaml.safe_load(text) or {}).get("groups", [])}),
    ]:  # fmt: skip
        ours, theirs = project / name, target / name
        if not ours.is_file() or not theirs.is_file():
            continue
        try:
            have = present(ours.read_text())
        except (tomllib.TOMLDecodeError, yaml.YAMLError, AttributeError, TypeError):
            continue  # unreadable: the standard check reports it
        expected = _block_names(unchanged / name, header)
        missing = {
            k: v
            for k, v in _blocks(theirs.read_text(), header, ends).items()
            if k not in have and k not in expected
        }
        if missing:
            text = ours.read_text().rstrip("\n") + "\n"
            text += "".join(("\n" if name == SETTINGS else "") + b for b in missing.values())
            ours.write_text(text)
            added = ", ".join(f"[{k}]" if name == SETTINGS else k for k in missing)
            notes.append(f"{name}: added {added} from the template (yours: review the values)")
    return notes + complete_runbook(project, target, unchanged)


def standard_problems(root: Path) -> list[str]:
    answers = read_answers(root)
    return check_gate(root).problems + check_agreement(root, answers).problems


def new_disagreements(project: Path, tree: Path) -> list[str]:
    """Problems the update would create between the answers and the files that are
    yours (a changed problem type, metric, target...), which it cannot fix for you."""
    before = set(standard_problems(project))
    return [problem for problem in standard_problems(tree) if problem not in before]


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


def preview(tree: Path, lost: list[str], completed: list[str], disagree: list[str]) -> None:
    git_output(tree, "add", "--all")
    changed = git_output(tree, "diff", "--cached", "--name-status").splitlines()
    print(f"\nThe update would change {len(changed)} file(s):")
    print("\n".join(f"  {line}" for line in changed) or "  (none)")
    print(git_output(tree, "diff", "--cached", "--stat").rstrip())
    for title, lines, none in [
        ("Left to resolve:", unresolved(tree), "Nothing left to resolve."),
        ("Your edits that would be lost:", lost, "No edit of yours would be lost."),
        ("Added to files that are yours:", completed, ""),
        ("Your files would disagree with the answers (the update is refused until "
         "you edit them):", disagree, ""),
    ]:  # fmt: skip
        if lines or none:
            print(title if lines else none)
        print("\n".join(f"  - {line}" for line in lines))


def refuse(title: str, problems: list[str], advice: str) -> int:
    print(f"\nRefused: {title}. Nothing was changed.")
    print("\n".join(f"  - {line}" for line in problems))
    print(advice)
    return 3


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
    renamed = [change for change in args.data if change.split("=", 1)[0] == "package_name"]
    if renamed:
        return refuse(
            "an update does not rename the package",
            [f"{renamed[0]}: copier would put fresh files under the new name and leave "
             "yours (and your own modules) under the old one"],
            "Run `make rename-package NEW=<name>`: it moves your files, their imports and the "
            "answer together, so later updates keep reaching src/.",
        )  # fmt: skip
    if not args.data and not args.dry_run and up_to_date(answers, args.vcs_ref):
        return finish(project, [], f"Already up to date: {answers['_commit']} is the newest "
                      "release; nothing changed.")  # fmt: skip
    command = [sys.executable, "-m", "copier", "update", "--defaults", "--trust",
               "--conflict", "inline"]  # fmt: skip
    if args.vcs_ref:
        command += ["--vcs-ref", args.vcs_ref]
    for answer in args.data:
        command += ["--data", answer]
    print("$ copier update", " ".join(command[4:]), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        reference, target = Path(folder) / "reference", Path(folder) / "target"
        render_reference(answers, reference)
        try:
            tree = rehearse(project, command, Path(folder))
            if tree is None:
                print("error: copier update failed; nothing was changed", file=sys.stderr)
                return 2
            new_answers = read_answers(tree)
            render_reference(new_answers, target)
            # The new release with the old answers: what the answer change alone brings.
            unchanged = target
            if args.data:
                unchanged = Path(folder) / "unchanged"
                render_template(answers, unchanged, str(new_answers["_commit"]))
            lost = lost_edits(team_lines(project, reference), tree)
            completed = complete_yours(tree, target, unchanged)
            disagree = new_disagreements(project, tree)
            old, new = str(answers["_commit"]), str(new_answers["_commit"])
            notes = release_notes(tree, old, new)
            if args.dry_run:
                preview(tree, lost, completed, disagree)
                print(f"\nTemplate releases after {old}, up to {new}:" if notes else
                      f"\nNo template release between {old} and {new}.")  # fmt: skip
                print("\n\n".join(notes))
                yours = yours_changed_upstream(project, reference, target, tree)
                if yours:
                    print("\nYours, so the update leaves them alone, but the template changed")
                    print("its copy; carry over what you want (first 40 lines of each):\n")
                    print("\n\n".join(yours))
                return 0
            if lost and not args.allow_losses:
                return refuse(
                    "the update would lose lines you added", lost,
                    "Carry them over first (or change the answer back). To proceed anyway, run "
                    "again with --allow-losses (make template-update ALLOW_LOSSES=1); the lines "
                    "stay in git history.",
                )  # fmt: skip
            if disagree:
                return refuse(
                    "after this update, files that are yours would disagree with the answers",
                    disagree,
                    "Updates never write these files: edit them to match (a new metric also "
                    "needs its direction, threshold and baseline margin, in "
                    "config/settings.toml and the charter; pass success_metric=... and "
                    "success_threshold=... too, so the answers agree), commit, and run the "
                    "same command again.",
                )  # fmt: skip
            if subprocess.run(command, check=False).returncode != 0:
                print("error: copier update failed; see its message", file=sys.stderr)
                return 2
            for note in complete_yours(project, target, unchanged):
                print(note)
        finally:
            git_output(project, "worktree", "remove", "--force", str(Path(folder) / "rehearsal"))
    return finish(project, notes, "Already up to date: nothing changed.")


def up_to_date(answers: dict[str, object], ref: str | None) -> bool:
    """The project is on the release it would update to: nothing for copier to do (its
    rehearsal and update render the template five times to find that out)."""
    try:
        recorded = Version(str(answers.get("_commit")))
        wanted = Version(ref) if ref else newest_release(str(answers.get("_src_path")))
    except InvalidVersion:
        return False
    return wanted is not None and recorded == wanted


def finish(project: Path, notes: list[str], unchanged: str) -> int:
    """Restore template-owned files that went missing, print the releases' Upgrading
    notes, and fail while anything is left to resolve."""
    for relative in restore_deleted_owned(project):
        print(f"restored {relative}: a template-owned file was missing")
    for section in filter(None, map(upgrading_notes, notes)):
        print(f"\n{section}")
    problems = unresolved(project)
    if problems:
        print("\nThe update left work to do. Resolve each, then run the tests and commit:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    changed = git_output(project, "status", "--porcelain").strip()
    print("\nUpdated cleanly." if changed else f"\n{unchanged}")
    if changed:
        print("Review `git diff`, run `make lint test`, then commit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

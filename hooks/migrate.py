"""Copier migration helper: carry a team's answers and files across a breaking release.

Called from `_migrations` in copier.yml, in the project being updated, before the
update ("before" stage), so that copier sees the new names:

  migrate.py rename-answer OLD NEW   the answer to a renamed question keeps its value
  migrate.py move OLD NEW            a file the template renamed keeps the team's edits
  migrate.py add-row FILE AFTER ROW  a table row a new release's tests expect is added to
                                     a user-owned Markdown file, after the row starting
                                     with AFTER, unless a row with ROW's label is there
  migrate.py regroup-package         the flat package of 0.2.0 becomes subpackages
                                     (0.3.0): the team's own modules move with their
                                     edits, and imports of moved modules are rewritten
  migrate.py merge-regrouped         after the update ("after" stage): the team's edits
                                     to template modules that moved are merged into them
  migrate.py upgrading-notes VERSION after the update: print the CHANGELOG's Upgrading
                                     section of release VERSION (one entry per release,
                                     so an update across several prints each once)

Each step is idempotent (nothing to do when OLD is absent or NEW exists already) and
makes no network calls. It edits the answers file as text, so comments and order stay.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ANSWERS_FILE = ".copier-answers.yml"
TEMPLATE = Path(__file__).resolve().parent.parent / "template"
CHANGELOG = TEMPLATE.parent / "CHANGELOG.md"

# 0.3.0 grouped the package by stage: old module -> new module, relative to the package.
LAYOUT_0_3 = {
    "contract": "data.contract",
    "data": "data.sources",
    "draft_contract": "data.draft_contract",
    "sample_data": "data.sample",
    "synthetic": "data.synthetic",
    "features": "model.features",
    "model": "model.estimators",
    "train": "model.train",
    "evaluate": "model.evaluate",
    "gate": "model.gate",
    "metrics": "model.metrics",
    "report": "model.report",
    "mlflow_registry": "registry.mlflow_registry",
    "local_registry": "registry.local_registry",
    "exported_registry": "registry.exported_registry",
    "promotion": "registry.promotion",
    "lineage": "registry.lineage",
    "serve": "serving.api",
    "api_schema": "serving.api_schema",
    "smoke": "serving.smoke",
    "batch": "serving.batch",
    "telemetry": "serving.telemetry",
    "prediction_log": "monitoring.prediction_log",
    "drift": "monitoring.drift",
    "monitor": "monitoring.monitor",
    "monitor_report": "monitoring.report",
}
# The team's own modules (user-owned): moved with their edits. Every other template
# module is replaced by the update itself.
USER_OWNED_0_3 = ["features", "model"]
RELATIVE_IMPORT = re.compile(r"^(\s*)from \.(\w+) import (.*)$", re.MULTILINE)
IMPORT_LINE = re.compile(r"^from \.*[\w.]+ import [^(]*$")


def rename_answer(project: Path, old: str, new: str) -> str:
    path = project / ANSWERS_FILE
    text = path.read_text()
    if re.search(rf"^{re.escape(new)}:", text, re.MULTILINE):
        return f"answer `{new}` already present: nothing to rename"
    renamed, count = re.subn(rf"^{re.escape(old)}:", f"{new}:", text, flags=re.MULTILINE)
    if count == 0:
        return f"no answer `{old}`: nothing to rename"
    path.write_text(renamed)
    return f"answer `{old}` is now `{new}`"


def move_file(project: Path, old: str, new: str) -> str:
    source, target = project / old, project / new
    if not source.exists():
        return f"{old} does not exist: nothing to move"
    if target.exists():
        return f"{new} exists already: left {old} for you to merge by hand"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)
    return f"moved {old} to {new}"


def add_row(project: Path, file: str, after: str, row: str) -> str:
    path = project / file
    if not path.exists():
        return f"{file} does not exist: no row to add"
    lines = path.read_text().splitlines(keepends=True)
    label = "|".join(row.split("|")[:2]) + "|"
    if any(line.startswith(label) for line in lines):
        return f"{file} has its `{label.strip('| ')}` row already"
    anchor = next((n for n, line in enumerate(lines) if line.startswith(after)), None)
    if anchor is None:
        return f"{file} has no row starting with `{after}`: add `{row}` by hand"
    lines.insert(anchor + 1, row + "\n")
    path.write_text("".join(lines))
    return f"added the `{label.strip('| ')}` row to {file}"


def _relative(here: list[str], module: str) -> str:
    """`module` (dotted, from the package root) as a relative import from package `here`."""
    parts = module.split(".")
    shared = 0
    while shared < min(len(here), len(parts) - 1) and here[shared] == parts[shared]:
        shared += 1
    return "." * (len(here) - shared + 1) + ".".join(parts[shared:])


def _sort_import_runs(text: str) -> str:
    """Keep ruff's order in runs of one-line imports: furthest first, then by module."""

    def key(line: str) -> tuple[int, str]:
        module = line.split()[1]
        return (len(module.lstrip(".")) - len(module), module.lstrip("."))

    lines, out = text.split("\n"), []
    while lines:
        run = []
        while lines and IMPORT_LINE.match(lines[0]):
            run.append(lines.pop(0))
        out += sorted(run, key=key) if run else [lines.pop(0)]
    return "\n".join(out)


def rewrite_imports(text: str, package: str, here: list[str] | None) -> str:
    """Imports of moved modules rewritten: absolute ones everywhere, relative ones in a
    module that used to sit at the package root and now sits in subpackage `here`."""

    # One pass each, with the package name held back, so that a rewritten name (the
    # subpackage `model`, say) is never taken for an old module of the same name.
    held = "\0"

    def absolute(match: re.Match[str]) -> str:
        return f"{held}.{LAYOUT_0_3.get(match.group(1), match.group(1))}"

    def from_package(match: re.Match[str]) -> str:
        indent, name = match.groups()
        if name not in LAYOUT_0_3:
            return match.group(0)
        parent, _, leaf = LAYOUT_0_3[name].rpartition(".")
        alias = f" as {name}" if leaf != name else ""
        return f"{indent}from {held}.{parent} import {leaf}{alias}"

    text = re.sub(rf"^(\s*)from {package} import (\w+)$", from_package, text, flags=re.M)
    text = re.sub(rf"\b{package}\.(\w+)\b", absolute, text).replace(held, package)
    if here is not None:

        def relative(match: re.Match[str]) -> str:
            indent, module, names = match.groups()
            target = LAYOUT_0_3.get(module, module)
            return f"{indent}from {_relative(here, target)} import {names}"

        def sibling(match: re.Match[str]) -> str:
            indent, name = match.groups()
            leaf = LAYOUT_0_3.get(name, name).rpartition(".")[2]
            alias = f" as {name}" if leaf != name else ""
            head, dot, _ = _relative(here, LAYOUT_0_3.get(name, name)).rpartition(".")
            source = head if head.strip(".") else head + dot
            return f"{indent}from {source} import {leaf}{alias}"

        text = RELATIVE_IMPORT.sub(relative, text)
        text = re.sub(r"^(\s*)from \. import (\w+)$", sibling, text, flags=re.MULTILINE)
    return _sort_import_runs(text)


def _template_test_files() -> set[str]:
    """The template's own tests: updates merge those; the team's others are ours to fix."""
    return {
        re.sub(r"\{%.*?%\}", "", path.name).removesuffix(".jinja")
        for path in (TEMPLATE / "tests").iterdir()
    }


def _new_place(root: Path, old: str) -> tuple[list[str], Path]:
    """Where 0.3.0 put the module `old`: its subpackage path and its file."""
    *parents, leaf = LAYOUT_0_3[old].split(".")
    return parents, root.joinpath(*parents) / f"{leaf}.py"


def _package_name(answers: str) -> str | None:
    # Answers are not rendered into migration commands: read them from the file.
    found = re.search(r"^package_name: *['\"]?(\w+)", answers, re.MULTILINE)
    return found.group(1) if found else None


def _recorded_version(answers: str, fallback: str) -> str:
    """The template version an answers file records (`_commit`), for conflict labels."""
    found = re.search(r"^_commit: *['\"]?([^'\"\s]+)", answers, re.MULTILINE)
    return found.group(1) if found else fallback


def regroup_package(project: Path) -> str:
    """0.2.0 -> 0.3.0: the team's modules move into subpackages, imports follow."""
    package = _package_name((project / ANSWERS_FILE).read_text())
    if package is None:
        return f"no package_name in {ANSWERS_FILE}: nothing to regroup"
    root = project / "src" / package
    if not (root / "train.py").exists():
        return f"src/{package} has no flat train.py: nothing to regroup"
    done = []
    for old in USER_OWNED_0_3:
        source = root / f"{old}.py"
        parents, target = _new_place(root, old)
        if not source.exists() or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rewrite_imports(source.read_text(), package, parents))
        source.unlink()
        done.append(f"moved {source.relative_to(project)} to {target.relative_to(project)}")
    # Modules and tests the team added stay where they are; their imports follow.
    template_modules = {*LAYOUT_0_3, "__init__", "cli", "config", "registry"}
    ours = {path: [] for path in root.glob("*.py") if path.stem not in template_modules}
    if (project / "tests").is_dir():
        template_tests = _template_test_files()
        ours |= {p: None for p in (project / "tests").rglob("*.py") if p.name not in template_tests}
    for path, here in sorted(ours.items()):
        text = path.read_text()
        rewritten = rewrite_imports(text, package, here)
        if rewritten != text:
            path.write_text(rewritten)
            done.append(f"rewrote imports in {path.relative_to(project)}")
    return "; ".join(done) if done else "no team module to carry"


def _git_show(project: Path, path: str) -> str | None:
    shown = subprocess.run(
        ["git", "show", f"HEAD:./{path}"], cwd=project, capture_output=True, text=True
    )
    return shown.stdout if shown.returncode == 0 else None


def _render_previous(answers_text: str, destination: Path) -> None:
    """The release the project came from, with its answers: the base of a 3-way merge.

    The same render as the project's scripts/conformance.py, written out here because
    a migration runs under copier's Python, which need not have what that script
    imports (tomllib).
    """
    import yaml
    from copier import run_copy

    answers = yaml.safe_load(answers_text)
    run_copy(
        str(answers["_src_path"]),
        destination,
        data={key: value for key, value in answers.items() if not key.startswith("_")},
        vcs_ref=str(answers["_commit"]),  # the answers of HEAD: the version updated from
        defaults=True,
        skip_tasks=True,
        quiet=True,
    )


def merge_regrouped(project: Path) -> str:
    """After the update: edits the team made to template modules that moved (train.py,
    gate.py, ...) are merged into the new modules, 3-way, as `copier update` does for
    files that stay. Overlaps become conflict markers that `make template-update` lists.
    """
    answers_text = _git_show(project, ANSWERS_FILE)
    package = _package_name(answers_text or "")
    if package is None or _git_show(project, f"src/{package}/train.py") is None:
        return "no flat package in the last commit: nothing to merge"
    merged, conflicted = [], []
    # Conflict labels name the releases the content comes from: the one updated to (the
    # answers file now records it) and the one the project came from.
    new = _recorded_version((project / ANSWERS_FILE).read_text(), "the new")
    old_version = _recorded_version(answers_text or "", "the previous")
    with tempfile.TemporaryDirectory() as folder:
        previous = Path(folder) / "previous"
        try:
            _render_previous(answers_text or "", previous)
        except Exception as error:  # noqa: BLE001 - any failure: say so, lose nothing
            return (
                f"could not render the release you came from ({error}); if you edited "
                f"template modules in src/{package}/, re-apply them from `git diff HEAD`"
            )
        for old in LAYOUT_0_3:
            relative = f"src/{package}/{old}.py"
            ours = _git_show(project, relative)
            base_file = previous / relative
            parents, target = _new_place(project / "src" / package, old)
            if old in USER_OWNED_0_3 or ours is None or not base_file.exists():
                continue
            base = base_file.read_text()
            if ours == base or not target.exists():
                continue
            base_path, ours_path = Path(folder) / "base.py", Path(folder) / "ours.py"
            base_path.write_text(rewrite_imports(base, package, parents))
            ours_path.write_text(rewrite_imports(ours, package, parents))
            result = subprocess.run(
                ["git", "merge-file", "-L", f"{new} template", "-L", f"{old_version} template",
                 "-L", "your edits", str(target), str(base_path), str(ours_path)],
                capture_output=True,
                text=True,
            )  # fmt: skip
            name = target.relative_to(project).as_posix()
            (conflicted if result.returncode else merged).append(f"{relative} -> {name}")
    done = [f"your edits merged: {', '.join(merged)}"] if merged else []
    done += [f"conflicts to resolve: {', '.join(conflicted)}"] if conflicted else []
    return "; ".join(done) if done else "no edits to template modules to carry"


def upgrading_section(changelog: str, version: str) -> str | None:
    """The Upgrading part of `## VERSION` (a dev build reads `## Unreleased`)."""
    release = re.sub(r"(\.dev\d+|a\d+|b\d+|rc\d+)$", "", version)
    headings = [release] if release == version else [release, "Unreleased"]
    for heading in headings:
        found = re.search(
            rf"^## {re.escape(heading)}\b.*?^### Upgrading\n(.*?)(?=^##)",
            changelog,
            re.MULTILINE | re.DOTALL,
        )
        if found:
            return found.group(1).strip()
    return None


def upgrading_notes(project: Path, version: str) -> str:
    """What a person must know about release VERSION, printed by the update itself."""
    section = upgrading_section(CHANGELOG.read_text(), version) if CHANGELOG.exists() else None
    if section is None:
        return f"no Upgrading notes for {version} in the template's CHANGELOG.md"
    return f"Upgrading notes for {version} (CHANGELOG.md):\n\n{section}\n"


ACTIONS = {
    "rename-answer": rename_answer,
    "move": move_file,
    "add-row": add_row,
    "regroup-package": regroup_package,
    "merge-regrouped": merge_regrouped,
    "upgrading-notes": upgrading_notes,
}
ARGUMENTS = {
    "rename-answer": "OLD NEW",
    "move": "OLD NEW",
    "add-row": "FILE AFTER ROW",
    "regroup-package": "",
    "merge-regrouped": "",
    "upgrading-notes": "VERSION",
}


def main(argv: list[str]) -> int:
    action = argv[1] if len(argv) > 1 else ""
    if action not in ACTIONS or len(argv) != 2 + len(ARGUMENTS[action].split()):
        usage = " | ".join(f"{name} {args}".strip() for name, args in ARGUMENTS.items())
        print(f"usage: {Path(argv[0]).name} {usage}", file=sys.stderr)
        return 2
    print(f"groundwork migration: {ACTIONS[action](Path.cwd(), *argv[2:])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

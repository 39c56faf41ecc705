"""Copier migration helper: carry a team's answers and files across a breaking release.

Called from `_migrations` in copier.yml, in the project being updated, before the
update ("before" stage), so that copier sees the new names:

  migrate.py rename-answer OLD NEW   the answer to a renamed question keeps its value
  migrate.py move OLD NEW            a file the template renamed keeps the team's edits

Each step is idempotent (nothing to do when OLD is absent or NEW exists already) and
makes no network calls. It edits the answers file as text, so comments and order stay.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ANSWERS_FILE = ".copier-answers.yml"


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


ACTIONS = {"rename-answer": rename_answer, "move": move_file}


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[1] not in ACTIONS:
        print(f"usage: {Path(argv[0]).name} {{{'|'.join(ACTIONS)}}} OLD NEW", file=sys.stderr)
        return 2
    print(f"groundwork migration: {ACTIONS[argv[1]](Path.cwd(), argv[2], argv[3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

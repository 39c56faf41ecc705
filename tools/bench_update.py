"""What a no-op `make template-update` costs against a `copier copy`, in one run.

A project already on the newest release should pay little to learn so: the issue's
bound is 2.5 copies. This tool clones this repository into a scratch folder, tags its
HEAD as a release there (tags do not travel with the branch), copies the project with
defaults and no tasks (timed), commits it, and times `make template-update` on it
(nothing to do) and, for scale, `make template-update DRY_RUN=1` (the full rehearsal).
Medians of three, wall-clock seconds, and the ratios.

  uv run python tools/bench_update.py [--rounds 3]

Figures, never asserts. Takes about a minute.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
RELEASE = "99.0.0"


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        template = scratch / "groundwork"
        subprocess.run(["git", "clone", "--quiet", str(HERE), str(template)], check=True)
        subprocess.run(["git", "tag", RELEASE], cwd=template, check=True)
        copy = [sys.executable, "-m", "copier", "copy", "--quiet", "--defaults", "--skip-tasks",
                str(template)]  # fmt: skip
        copies = [timed([*copy, str(scratch / f"copy{n}")], scratch) for n in range(rounds)]
        project = scratch / "copy0"
        for step in (["git", "init", "--quiet"], ["git", "add", "--all"],
                     ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
                      "commit", "--quiet", "-m", "generated"]):  # fmt: skip
            subprocess.run(step, cwd=project, check=True)
        noop = [timed(["make", "template-update"], project) for _ in range(rounds)]
        dry = [timed(["make", "template-update", "DRY_RUN=1"], project) for _ in range(rounds)]
    copy_s, noop_s, dry_s = map(statistics.median, (copies, noop, dry))
    print(f"copier copy                       {copy_s:6.2f} s")
    print(f"make template-update (up to date) {noop_s:6.2f} s  {noop_s / copy_s:4.2f}x a copy")
    print(f"make template-update DRY_RUN=1    {dry_s:6.2f} s  {dry_s / copy_s:4.2f}x a copy")


if __name__ == "__main__":
    main()

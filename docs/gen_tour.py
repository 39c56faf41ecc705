"""Screenshots of a real generated project's reports, for docs/tour.md.

uv run python docs/gen_tour.py [FOLDER]   # default: docs/tour (a few minutes)

Renders the default project, runs it end to end with its own `make` targets (setup,
data, validate, train, evaluate, predict, monitor), then opens its evaluation and
monitoring reports in Debian's chromium and keeps the top of each as a PNG. Nothing is
drawn by hand: the pictures are what a team sees after `make all` on the sample.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# report in the generated project: picture on the site
REPORTS = {
    "reports/evaluation.html": "evaluation.png",
    "reports/monitoring/monitoring.html": "monitoring.png",
}
STEPS = ["setup", "data", "validate", "train", "evaluate", "predict", "monitor"]


def _run(command: list[str], folder: Path) -> None:
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(
            f"`{' '.join(command)}` failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )


def generated_project(scratch: Path) -> Path:
    project = scratch / "customer-churn"
    _run([sys.executable, "-m", "copier", "copy", "--defaults", "--skip-tasks", "--quiet",
          str(ROOT), str(project)], scratch)  # fmt: skip
    for step in STEPS:
        print(f"make {step}", flush=True)
        _run(["make", step], project)
    return project


def screenshots(project: Path, destination: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise SystemExit("chromium is not installed (Debian package `chromium`)")
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            for report, picture in REPORTS.items():
                page.goto((project / report).resolve().as_uri(), wait_until="load")
                page.screenshot(path=destination / picture)
                written.append(destination / picture)
        finally:
            browser.close()
    return written


def main(argv: list[str]) -> int:
    destination = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "tour"
    with tempfile.TemporaryDirectory(prefix="tour-") as scratch:
        for picture in screenshots(generated_project(Path(scratch)), destination):
            print(f"wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

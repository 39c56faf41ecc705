"""An earlier release's online service against this tree's, on the same machine, in one run.

The issue's targets compare with what the template shipped before ("100-row requests at
least 3x today's"). This tool makes both projects and measures them side by side:

- clones this repository into a scratch folder, tags the commit titled
  `Release <version>` there (tags do not travel with the branch) and renders that
  release's online project with copier, defaults and no tasks;
- renders this tree's online project (HEAD plus uncommitted changes);
- trains each with its own `make` targets, starts each as its container does
  (`customer_churn serve`) on loopback, one after the other;
- drives `/predict` with the same `wrk` load: single-row and 100-row requests, rows the
  two contracts both accept; prints requests/s, p50 and p99 and the ratios.

  uv run python tools/bench_release.py [--release 0.2.0] [--seconds 10] [--connections 32]

Figures, never asserts. Needs `wrk` (Debian's package) and about five minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _load import free_port, load_options, run, wait_for, wrk

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "tests"))
ROWS = (
    "import json; from customer_churn.config import get_settings; "
    "from customer_churn.serving.smoke import sample_rows; "
    "print(json.dumps(sample_rows(get_settings(), 100)))"
)


def release_commit(version: str) -> str:
    found = run(["git", "log", "--format=%H", "--grep", f"^Release {version}\\b"], HERE).split()
    if not found:
        sys.exit(f"no commit titled 'Release {version}' on this branch")
    return found[-1]


def render_release(version: str, scratch: Path) -> Path:
    clone = scratch / "template"
    run(["git", "clone", "-q", str(HERE), str(clone)], scratch)
    run(["git", "tag", f"v{version}", release_commit(version)], clone)
    project = scratch / f"project-{version}"
    run([sys.executable, "-m", "copier", "copy", "--vcs-ref", f"v{version}", "--defaults",
         "--skip-tasks", "--quiet", "--data", "serving_mode=online", str(clone), str(project)],
        scratch)  # fmt: skip
    return project


def accepted_fields(port: int) -> tuple[set[str], set[str]]:
    """The request row's fields from the service's own OpenAPI document: all, required."""
    document = json.loads(run(["curl", "-sf", f"http://127.0.0.1:{port}/openapi.json"], HERE))
    row = document["components"]["schemas"]["PredictionRow"]
    return set(row["properties"]), set(row.get("required", []))


def measure(
    project: Path, rows: list[dict[str, object]], seconds: int, connections: int
) -> dict[str, tuple[float, str, str]]:
    port = free_port()
    server = subprocess.Popen(
        ["uv", "run", "customer_churn", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/health", server)
        fields, required = accepted_fields(port)
        kept = [{name: value for name, value in row.items() if name in fields} for row in rows]
        missing = required - set(kept[0])
        if missing:
            sys.exit(f"{project.name} needs fields the rows do not have: {sorted(missing)}")
        figures = {}
        for name, body in (("1 row", kept[:1]), ("100 rows", kept)):
            figures[name] = wrk(port, json.dumps({"rows": body}), seconds, connections)
        return figures
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", default="0.2.0")
    options = load_options(parser)
    from helpers import render

    scratch = Path(tempfile.mkdtemp(prefix="bench-release-"))
    print(f"[1/4] render {options.release} and this tree into {scratch}", flush=True)
    earlier = render_release(options.release, scratch)
    current = render(scratch / "project-current", serving_mode="online")
    print("[2/4] make setup data validate train, in each", flush=True)
    for project in (earlier, current):
        run(["make", "setup", "data", "validate", "train"], project)
    # This tree's rows, cut to the fields both contracts accept (checked per service).
    rows = json.loads(run(["uv", "run", "python", "-c", ROWS], current))
    results = {}
    for step, (label, project) in enumerate(
        ((options.release, earlier), ("this tree", current)), start=3
    ):
        print(f"[{step}/4] {label}: {options.seconds} s per round, {options.connections} "
              "connections", flush=True)  # fmt: skip
        results[label] = measure(project, rows, options.seconds, options.connections)
    for name in ("1 row", "100 rows"):
        then, now = results[options.release][name], results["this tree"][name]
        for label, (rate, p50, p99) in ((options.release, then), ("this tree", now)):
            print(f"{label:<10} {name:<9} {rate:>9.1f} requests/s  p50 {p50:>9}  p99 {p99:>9}")
        print(f"  this tree: {now[0] / then[0]:.1f}x {options.release}'s requests/s, {name}")


if __name__ == "__main__":
    main()

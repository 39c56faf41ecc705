"""The generated service against BentoML serving the same pipeline, in one run.

What a team would write instead of groundwork's service: a BentoML service that loads
the champion pipeline (the exported one the image carries) and answers `/predict` with
scikit-learn on a DataFrame of the request's rows. This tool renders (or reuses) a
project, trains its champion, then on the same machine and in the same run:

- runs the project's own `make bench` online part (the service as the container starts
  it, and a bare ASGI endpoint on the same uvicorn settings);
- starts `bentoml serve` (one worker) on loopback and drives it with the same `wrk`
  load, single-row and 100-row requests;
- prints requests/s, p50 and p99 for each and the ratios. Figures, never asserts.

  uv run python tools/bench_bentoml.py [--project DIR] [--seconds 10] [--connections 32]

BentoML is installed with uv into a scratch environment beside the project (from the
package index); the project is installed into it too, so both serve the same model.
Needs `wrk` (Debian's package) and a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from _load import free_port, load_options, run, wait_for, wrk

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "tests"))

SERVICE = '''
"""What a team would write with BentoML: the champion pipeline on a DataFrame."""
from typing import Any

import bentoml
import pandas as pd

from customer_churn.config import get_settings
from customer_churn.data.contract import load_contract
from customer_churn.registry import load_champion, open_registry


@bentoml.service(workers=1, logging={"access": {"enabled": False}})
class Churn:
    def __init__(self) -> None:
        settings = get_settings()
        self.model, self.version = load_champion(open_registry(settings.registry))
        self.positive = list(self.model.classes_).index(
            load_contract(settings.data.contract).positive_label
        )

    @bentoml.api
    def predict(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        frame = pd.DataFrame.from_records(rows)
        labels = self.model.predict(frame)
        scores = self.model.predict_proba(frame)[:, self.positive]
        return {
            "model_version": self.version,
            "predictions": [
                {"prediction": label.item(), "probability": float(score)}
                for label, score in zip(labels, scores)
            ],
        }
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--project", type=Path, help="a rendered online project (default: render one)"
    )
    options = load_options(parser)

    scratch = Path(tempfile.mkdtemp(prefix="bench-bentoml-"))
    project = options.project
    if project is None:
        from helpers import render

        project = render(scratch / "project", serving_mode="online")
    print(f"project: {project}", flush=True)
    print("[1/4] make setup data validate train export-model", flush=True)
    run(["make", "setup", "data", "validate", "train", "export-model"], project)

    print("[2/4] the project's own bench: service and bare endpoint", flush=True)
    ours = run(
        ["uv", "run", "customer_churn", "bench", "--seconds", str(options.seconds),
         "--connections", str(options.connections), "--rows", "1000"],
        project,
    )  # fmt: skip
    print(ours, flush=True)

    print("[3/4] BentoML in a scratch environment, with this project installed", flush=True)
    venv = scratch / "bentoml-venv"
    run(["uv", "venv", "-q", "-p", "3.11", str(venv)], project)
    # The project's pipeline group: BentoML serves the scikit-learn pipeline itself.
    install = ["uv", "pip", "install", "-q", "bentoml", "-e", str(project), "--group", "pipeline"]
    run(install, project, VIRTUAL_ENV=str(venv))
    version = run([str(venv / "bin/python"), "-c", "import bentoml; print(bentoml.__version__)"],
                   project).strip()  # fmt: skip
    (project / "bentoml_service.py").write_text(SERVICE)

    rows = json.loads(
        run(["uv", "run", "python", "-c",
              "import json; from customer_churn.config import get_settings; "
              "from customer_churn.serving.smoke import sample_rows; "
              "print(json.dumps(sample_rows(get_settings(), 100)))"], project)
    )  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin/bentoml"), "serve", "bentoml_service:Churn", "--host", "127.0.0.1",
         "--port", str(port)],
        # The exported champion (model.skops), as the image reads it: no MLflow needed.
        cwd=project, env={**os.environ, "BENTOML_DO_NOT_TRACK": "true",
                          "CUSTOMER_CHURN_REGISTRY__BACKEND": "exported"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", server)
        probe = run(["curl", "-sf", "--max-time", "5", "-X", "POST",
                     "-H", "Content-Type: application/json",
                     "-d", json.dumps({"rows": rows[:1]}),
                     f"http://127.0.0.1:{port}/predict"], project)  # fmt: skip
        print(f"BentoML {version} answers: {probe.strip()[:120]}", flush=True)
        print("[4/4] the same load on BentoML", flush=True)
        figures = {}
        for name, body in (("1 row", rows[:1]), ("100 rows", rows)):
            figures[name] = wrk(
                port, json.dumps({"rows": body}), options.seconds, options.connections
            )
    finally:
        server.terminate()
        server.wait(timeout=60)

    ours_rate = {
        name: float(found.group(1))
        for name in ("1 row", "100 rows")
        if (found := re.search(rf"/predict, {name}\s+([0-9.]+) requests/s", ours))
    }
    for name, (rate, p50, p99) in figures.items():
        line = f"BentoML, {name:<9} {rate:>9.1f} requests/s  p50 {p50:>9}  p99 {p99:>9}"
        if name in ours_rate:
            line += f"  (groundwork's service: {ours_rate[name] / rate:.1f}x BentoML)"
        print(line)


if __name__ == "__main__":
    main()

"""The workflows' make targets, run in workflow order on a rendered project, and the
image they build: it runs as non-root, serves /health and /predict on loopback, and
scores the sample as a batch job."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import free_port, http, render, run, workflow_steps
from .servers import mlflow_server

WORKFLOW_ORDER = ("ci", "ct", "batch", "monitor", "cd")
NEEDS_A_REGISTRY = {"image-login", "image-push", "image-digest"}  # no registry is reachable here
# The ci workflow's checks job: test_render_matrix runs both on every option's render.
RUN_BY_THE_MATRIX = {"lint", "test"}
# Needs a released (tagged) template to compare with; test_lifecycle builds one.
NEEDS_A_RELEASE = {"template-standard"}


def container_engine() -> str:
    """docker if its engine answers, else podman; skip (or fail under CI) if neither."""
    for engine in ("docker", "podman"):
        if (
            shutil.which(engine)
            and subprocess.run([engine, "info"], capture_output=True).returncode == 0
        ):
            return engine
    if os.environ.get("GROUNDWORK_REQUIRE_CONTAINER") == "1":
        pytest.fail("no container engine works; run ../shared/container/setup-podman.sh")
    pytest.skip("no container engine (docker or podman) works on this machine")


def _http(url: str, payload: Any | None = None) -> tuple[int, Any]:
    status, body = http(url, payload)
    return status, json.loads(body or "null")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "tracking"), [("batch", "none"), ("online", "none"), ("both", "mlflow")]
)
def test_workflow_targets_run_in_order_and_the_image_works(
    mode: str, tracking: str, tmp_path: Path, record_property: Any
) -> None:
    engine = container_engine()
    project = render(tmp_path / "project", serving_mode=mode, tracking=tracking)
    env = {"CONTAINER": engine, "ENVIRONMENT": "staging"}

    steps = [(name, step) for name in WORKFLOW_ORDER for step in workflow_steps(project, name)]
    for workflow, command in steps:
        target = command.split()[1]
        if target in NEEDS_A_REGISTRY | NEEDS_A_RELEASE | RUN_BY_THE_MATRIX:
            continue
        if target == "monitor" and mode == "online":
            # In production the monitor reads the service's log; here the smoke test's
            # requests stand in for that traffic (batch modes logged `make predict`).
            run(["make", "serve-smoke"], project, env=env)
        result = run(shlex.split(command), project, check=False, env=env, timeout=1800)
        if target == "deploy":
            # Unconfigured on purpose: it must fail loudly, never pass silently.
            assert result.returncode != 0, f"{workflow}: deploy passed while unconfigured"
            assert "deploy: not configured" in result.stderr
            continue
        if target == "smoke":
            # Nothing is deployed: without the service's URL it says so (the smoke test
            # itself runs against the container below).
            assert result.returncode == 2 and "SERVICE_URL is not set" in result.stderr
            continue
        assert result.returncode == 0, (
            f"{workflow}: `{command}` exited {result.returncode}\n{result.stdout[-3000:]}"
            f"\n{result.stderr[-3000:]}"
        )

    image = "customer-churn:local"
    user = run([engine, "run", "--rm", "--entrypoint", "id", image, "-u"], project)
    assert user.stdout.strip() not in {"", "0"}, "the container runs as root"
    size = run([engine, "image", "inspect", image, "--format", "{{.Size}}"], project)
    megabytes = int(size.stdout) / 1e6
    record_property("image size", f"{image} ({mode}, {tracking}): {megabytes:.0f} MB")
    if mode == "online":
        # The sample champion compiles to ONNX, so its image is onnxruntime alone.
        assert (project / "dist/champion/RUNTIME").read_text().strip() == "onnx"
        assert megabytes < 400, f"the online image is {megabytes:.0f} MB"
    labels = run([engine, "image", "inspect", image, "--format", "{{json .Labels}}"], project)
    champion = run(["uv", "run", "customer_churn", "champion"], project).stdout.strip()
    assert json.loads(labels.stdout)["model.version"] == champion
    # It serves and scores an exported model: nothing for training, the registry server,
    # compiling the model, plots or tests; an online service reads no Parquet either.
    left_out = ["mlflow", "skl2onnx", "matplotlib"]
    if mode == "online":  # a compiled champion is served without the pipeline's stack
        left_out += ["pyarrow", "s3fs", "sklearn", "pandas", "scipy", "pandera", "skops"]
    else:
        left_out += ["sklearn.tests"]
    found = run(
        [engine, "run", "--rm", "--entrypoint", "python", image, "-c",
         f"import importlib.util as u; print([m for m in {left_out!r} if u.find_spec(m)])"],
        project,
    )  # fmt: skip
    assert found.stdout.strip() == "[]", f"the image carries {found.stdout.strip()}"

    # GitLab's image job has docker and no Python: the image checks itself there.
    checked = run(["make", "image-self-test", f"CONTAINER={engine}", "IMAGE=customer-churn",
                   "TAG=local"], project)  # fmt: skip
    for part in {"batch": ["batch"], "online": ["online"], "both": ["online", "batch"]}[mode]:
        assert f"self-test passed: {part}" in checked.stdout, checked.stdout
    if mode != "online":
        _check_batch_container(engine, image, project, tmp_path)
    if mode != "batch":
        _check_online_container(engine, image, project, champion)
    _check_a_broken_image_fails_its_smoke_test(engine, image, project, tmp_path, mode)
    if tracking == "mlflow":
        _check_the_cronjobs_in_their_images(engine, image, project, tmp_path)


def _check_a_broken_image_fails_its_smoke_test(
    engine: str, image: str, project: Path, tmp_path: Path, mode: str
) -> None:
    """The ci workflow's `make image-smoke` passed above; on an image whose model file is
    corrupt it fails with exit 7 and the container's own words."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "Containerfile").write_text(
        f"FROM {image}\nUSER root\n"
        "RUN for model in /app/dist/champion/model.*; do echo junk > $model; done\n"
        "USER 10001:10001\n"
    )
    name, tag = "customer-churn-broken", mode
    run([engine, "build", "--quiet", "--tag", f"{name}:{tag}", str(broken)], project)
    try:
        result = run(["make", "image-smoke", f"CONTAINER={engine}", f"IMAGE={name}", f"TAG={tag}"],
                     project, check=False)  # fmt: skip
        assert result.returncode != 0 and "Error 7" in result.stderr, result.stderr[-3000:]
        assert "smoke test failed" in result.stderr
        # Why, from the container's log or output: the model fault's own message.
        assert "the stored model is missing or corrupt" in result.stderr, result.stderr[-3000:]
        # The same image checking itself, as GitLab's image job has it do.
        itself = run(["make", "image-self-test", f"CONTAINER={engine}", f"IMAGE={name}",
                      f"TAG={tag}"], project, check=False)  # fmt: skip
        said = itself.stdout + itself.stderr
        assert itself.returncode != 0 and "self-test passed" not in said, said[-3000:]
        assert "the stored model is missing or corrupt" in said, said[-3000:]
    finally:
        subprocess.run([engine, "rmi", "-f", f"{name}:{tag}"], capture_output=True)


def _check_batch_container(engine: str, image: str, project: Path, tmp_path: Path) -> None:
    io = tmp_path / "io"
    io.mkdir()
    shutil.copy(project / "data/sample/scoring.csv", io / "scoring.csv")
    io.chmod(0o755)
    # A folder the container's non-root user cannot write: a clear message, not a traceback.
    refused = run(
        [engine, "run", "--rm", "-v", f"{io}:/data", image, "predict",
         "--source", "/data/scoring.csv", "--output", "/data/out/predictions.parquet"],
        project, check=False,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert '--user "$(id -u):$(id -g)"' in refused.stderr
    assert "Traceback" not in refused.stderr
    io.chmod(0o777)  # the container's non-root user writes here
    run(
        [engine, "run", "--rm", "-v", f"{io}:/data", image, "predict",
         "--source", "/data/scoring.csv", "--output", "/data/predictions.parquet"],
        project,
    )  # fmt: skip
    assert (io / "predictions.parquet").stat().st_size > 0


def _check_online_container(engine: str, image: str, project: Path, champion: str) -> None:
    port = free_port()
    started = run([engine, "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:8000", image], project)
    container = started.stdout.strip()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if _http(f"{base}/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.monotonic() < deadline, run([engine, "logs", container], project).stderr
            time.sleep(1)
        # The model ships compiled (make export-model): the image has no converter.
        assert _http(f"{base}/ready")[1]["scorer"] == "onnx"
        rows = json.loads(
            run(
                ["uv", "run", "python", "-c",
                 "import json; from customer_churn.config import get_settings; "
                 "from customer_churn.serving.smoke import sample_rows; "
                 "print(json.dumps(sample_rows(get_settings(), 3)))"],
                project,
            ).stdout
        )  # fmt: skip
        status, body = _http(f"{base}/predict", {"rows": rows})
        assert status == 200, body
        assert len(body["predictions"]) == 3 and body["model_version"] == champion
        assert _http(f"{base}/predict", {"rows": [{"age": 150}]})[0] == 422
        # The image leaves shap out: /explain says so and where explanations are made.
        status, body = _http(f"{base}/explain", {"rows": rows[:1]})
        assert status == 501 and "the image leaves out" in body["detail"], body
        # CD's check of a deployed service, pointed at this one.
        smoke = run(["make", "smoke"], project, env={"SERVICE_URL": base})
        assert f"smoke test passed: {base} serves model v{champion}" in smoke.stdout
        # CD's deploy jobs expect the version the release shipped: another one fails.
        wrong = run(["make", "smoke"], project, check=False,
                    env={"SERVICE_URL": base, "EXPECTED_MODEL_VERSION": "999"})  # fmt: skip
        assert wrong.returncode != 0 and "Error 7" in wrong.stderr, wrong.stderr[-2000:]
        assert f"serves model v{champion}, not v999" in wrong.stderr
    finally:
        subprocess.run([engine, "rm", "-f", container], capture_output=True)


def _run_cronjob(
    engine: str, project: Path, job: str, image: str, folders: Path, config: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a CronJob's container as Kubernetes would: its command and arguments, its
    user, a read-only root, and a host folder for each volume (a claim's folder is
    shared between jobs, an emptyDir's is the job's own). `config` stands for the
    ConfigMap and Secret; /warehouse for the team's storage."""
    manifest = yaml.safe_load((project / f"deploy/kubernetes/base/cronjob-{job}.yaml").read_text())
    pod = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    claims = {volume["name"]: volume["persistentVolumeClaim"]["claimName"]
              for volume in pod["volumes"] if "persistentVolumeClaim" in volume}  # fmt: skip
    command = [engine, "run", "--rm", "--network", "host", "--read-only", "--user",
               f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}",
               "-v", f"{folders / 'warehouse'}:/warehouse"]  # fmt: skip
    for mount in container["volumeMounts"]:
        folder = folders / claims.get(mount["name"], f"{job}-{mount['name']}")
        folder.mkdir(exist_ok=True)
        folder.chmod(0o777)  # an fsGroup-owned volume, writable by the job's user
        command += ["-v", f"{folder}:{mount['mountPath']}"]
    for name, value in config.items():
        command += ["-e", f"{name}={value}"]
    if "command" in container:
        command += ["--entrypoint", container["command"][0], image, *container["command"][1:]]
    else:
        command.append(image)
    return run([*command, *container["args"]], project, check=False, timeout=900)


def _check_the_cronjobs_in_their_images(
    engine: str, image: str, project: Path, tmp_path: Path
) -> None:
    """The Kubernetes CronJobs' own commands, in the images CD builds, as the cluster
    runs them, against a real MLflow server: retraining registers a champion there,
    batch scoring writes to the shared log, monitoring reads it and judges it; a
    retraining run on broken data fails and leaves the champion."""
    folders = tmp_path / "volumes"
    warehouse = folders / "warehouse"
    warehouse.mkdir(parents=True)
    warehouse.chmod(0o777)
    for name in ("training", "scoring"):  # the team's data, as its real source would hold it
        shutil.copy(project / f"data/sample/{name}.csv", warehouse / f"{name}.csv")
    jobs = "customer-churn:jobs-local"  # `make jobs-image`, run above in CD's order
    found = run([engine, "run", "--rm", "--entrypoint", "python", jobs, "-c",
                 "import mlflow, matplotlib, sklearn; print('ok')"], project)  # fmt: skip
    assert found.stdout.strip() == "ok"
    server = tmp_path / "mlflow-server"
    server.mkdir()
    with mlflow_server(project, f"sqlite:///{server}/mlflow.db", str(server / "artifacts")) as uri:
        config = {
            "MLFLOW_TRACKING_URI": uri,
            "PREDICTION_LOG_URL": "sqlite:////warehouse/prediction_log.db",
            "BATCH_LOG_PATH": "/warehouse/batches",
            "CUSTOMER_CHURN_DATA__SAMPLE": "false",
            "CUSTOMER_CHURN_DATA__PATH": "/warehouse/training.csv",
            "CUSTOMER_CHURN_DATA__SCORING_PATH": "/warehouse/scoring.csv",
        }

        def champion() -> str:
            return run(["uv", "run", "customer_churn", "champion"], project, check=False,
                       env={"MLFLOW_TRACKING_URI": uri}).stdout.strip()  # fmt: skip

        retrained = _run_cronjob(engine, project, "retrain", jobs, folders, config)
        said = retrained.stdout + retrained.stderr
        assert retrained.returncode == 0, said[-3000:]
        assert "quality gate passed" in said, said[-3000:]
        assert champion() == "1"

        scored = _run_cronjob(engine, project, "predict", image, folders, config)
        assert scored.returncode == 0, (scored.stdout + scored.stderr)[-3000:]
        assert (folders / "customer-churn-predictions/predictions.parquet").stat().st_size > 0

        monitored = _run_cronjob(engine, project, "monitor", jobs, folders, config)
        said = monitored.stdout + monitored.stderr
        assert monitored.returncode == 0, said[-3000:]
        assert "monitoring verdict: ok" in said, said[-3000:]
        verdict = (folders / "customer-churn-reports/monitoring/verdict.env").read_text()
        assert "VERDICT=ok" in verdict

        # The team's source breaks its contract: the job fails, the champion stays.
        training = (warehouse / "training.csv").read_text().splitlines()
        header = training[0].split(",")
        broken = [",".join("-5" if column == "age" else value
                           for column, value in zip(header, line.split(","), strict=True))
                  for line in training[1:]]  # fmt: skip
        (warehouse / "training.csv").write_text("\n".join([training[0], *broken]) + "\n")
        failed = _run_cronjob(engine, project, "retrain", jobs, folders, config)
        said = failed.stdout + failed.stderr
        assert failed.returncode != 0 and "age" in said, said[-3000:]
        assert champion() == "1"
    subprocess.run([engine, "rmi", "-f", jobs], capture_output=True)

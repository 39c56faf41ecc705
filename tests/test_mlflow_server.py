"""A shared MLflow tracking server, as CI, CT, promotion and serving share it in
production: `mlflow server` with its runs and registry in a real PostgreSQL and its
artifacts in a real S3-compatible store, all on loopback. A generated project trains,
gates and registers against it, serves the champion it loads from it, follows a
promotion and a rollback there, and leaves nothing in a local store."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from .helpers import free_port, http, render, run
from .servers import mlflow_server, postgres_server, s3_server

BUCKET = "mlflow-artifacts"
RESEEDED = {"CUSTOMER_CHURN_PROJECT__SEED": "7"}  # a changed setting: a new model


def _ready(base: str, version: str, seconds: float = 60) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    body: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            status, text = http(f"{base}/ready")
            if status == 200:
                body = json.loads(text)
                if body["model_version"] == version:
                    return body
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(1)
    raise AssertionError(f"{base} did not serve version {version}: last /ready {body}")


@pytest.mark.slow
def test_train_promote_serve_and_roll_back_against_a_shared_server(tmp_path: Path) -> None:
    project = render(tmp_path / "project", serving_mode="online", tracking="mlflow")
    run(["make", "setup"], project)
    run(["make", "data"], project)
    s3_root = tmp_path / "s3"
    (s3_root / BUCKET).mkdir(parents=True)
    with (
        postgres_server() as database,
        s3_server(s3_root) as store,
        mlflow_server(
            project,
            database.url(),
            f"s3://{BUCKET}",
            {**store.env(), "MLFLOW_S3_ENDPOINT_URL": store.endpoint},
            drivers=("boto3", "psycopg[binary]"),
        ) as tracking,
    ):
        env = {"MLFLOW_TRACKING_URI": tracking}
        first = run(["make", "train"], project, env=env)
        assert "quality gate passed: version 1 is champion" in first.stdout
        second = run(["make", "train"], project, env={**env, **RESEEDED})
        assert "quality gate passed: version 2 is champion" in second.stdout

        # Runs and the registry are in PostgreSQL, the models in the object store, and
        # nothing in the project's embedded store.
        def query(sql: str) -> list[str]:
            psql = shutil.which("psql") or "psql"
            result = run(
                [psql, "-h", "127.0.0.1", "-p", str(database.port), "-U", database.user,
                 "-d", database.database, "-tAc", sql],
                project, env={"PGPASSWORD": database.password},
            )  # fmt: skip
            return result.stdout.split()

        assert query("SELECT version FROM model_versions ORDER BY version") == ["1", "2"]
        assert query("SELECT version FROM registered_model_aliases") == ["2"]
        stored = [path for path in (s3_root / BUCKET).rglob("*") if path.is_file()]
        assert any(path.suffix == ".skops" for path in stored), stored
        assert not (project / "mlruns").exists() and not list(project.rglob("mlflow.db"))

        # The service loads the champion from the server and follows the registry.
        port = free_port()
        service = subprocess.Popen(
            ["uv", "run", "customer_churn", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, **env,
                 "CUSTOMER_CHURN_SERVING__RELOAD_SECONDS": "1"},
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _ready(base, "2", seconds=120)
            rolled = run(["make", "rollback"], project, env=env)
            assert "rolled back: version 1 is champion" in rolled.stdout
            _ready(base, "1")
            status, _ = http(f"{base}/predict", {"rows": []})
            assert status == 422  # a real request path, answered by the rolled-back model
        finally:
            service.terminate()
            service.wait(timeout=30)
        champion = run(["uv", "run", "customer_churn", "champion"], project, env=env)
        assert champion.stdout.strip() == "1"

    # A server that accepts connections and answers nothing: each request is retried
    # [registry] server_retries times (3), not MLflow's 7 (about 8 minutes), and the
    # command exits 5 (the registry's fault), naming the server.
    with _closing_server() as (url, connections):
        down = run(["uv", "run", "customer_churn", "train"], project, check=False,
                   env={"MLFLOW_TRACKING_URI": url})  # fmt: skip
    assert down.returncode == 5, down.stderr[-2000:]
    assert f"the registry at {url} cannot be used" in down.stderr
    assert len(connections) == 1 + 3, connections


@contextmanager
def _closing_server() -> Iterator[tuple[str, list[float]]]:
    """A loopback TCP server that closes every connection at once; the times it took
    each one."""
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[float] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            connections.append(time.monotonic())
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", connections
    finally:
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept
        listener.close()
        thread.join(timeout=10)

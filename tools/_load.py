"""What the benchmark tools share: their load options, running a step, a free loopback
port, waiting for a server, and `wrk`."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def load_options(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The load every tool applies (--seconds per round, --connections), with `wrk` required."""
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk): the figures need one load generator")
    return options


def run(command: list[str], cwd: Path, **env: str) -> str:
    """Run a step; on failure, stop the tool with the step's output."""
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}
    )
    if result.returncode != 0:
        sys.exit(f"`{' '.join(command)}` failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, server: subprocess.Popen[str], seconds: float = 120) -> None:
    """Until `url` answers 200, or the server exits, or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        probe = subprocess.run(["curl", "-sf", "--max-time", "5", url], capture_output=True)
        if probe.returncode == 0:
            return
        if server.poll() is not None or time.monotonic() > deadline:
            error = server.stderr.read() if server.stderr else ""
            sys.exit(f"the server behind {url} did not start:\n{error[-3000:]}")
        time.sleep(1)


def wrk(port: int, body: str, seconds: int, connections: int) -> tuple[float, str, str]:
    """POST `body` to /predict under `wrk` load: requests/s, p50 and p99 as wrk prints them."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        script.write(f"wrk.body = [==[{body}]==]\n")
    try:
        output = subprocess.run(
            ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency",
             "-s", script.name, f"http://127.0.0.1:{port}/predict"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    if re.search(r"Non-2xx or 3xx responses", output):
        sys.exit(f"the service answered errors under load:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    return rate, p50.group(1) if p50 else "?", p99.group(1) if p99 else "?"

"""Rendering projects and running their own tools, for the template's tests."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from copier import run_copy

ROOT = Path(__file__).resolve().parent.parent
# The last words of draft-contract: the [data] lines to set follow them.
HINT = "review it, then set these lines under [data] in config/settings.toml:"


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for the generated project's tools, independent of the caller's venv."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"}
    }
    env.update(
        {
            "GIT_AUTHOR_NAME": "groundwork tests",
            "GIT_AUTHOR_EMAIL": "tests@groundwork.invalid",
            "GIT_COMMITTER_NAME": "groundwork tests",
            "GIT_COMMITTER_EMAIL": "tests@groundwork.invalid",
            "UV_NO_PROGRESS": "1",
        }
    )
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(extra)
    return env


def render(destination: Path, **answers: Any) -> Path:
    """Generate a project with defaults for every answer not given, without tasks.

    From this working tree (HEAD plus uncommitted changes), not the newest release tag
    that copier would pick by default.
    """
    run_copy(
        str(ROOT),
        destination,
        vcs_ref="HEAD",
        data=answers,
        defaults=True,
        skip_tasks=True,
        quiet=True,
        unsafe=False,
    )
    return destination


def run(
    command: list[str],
    cwd: Path,
    timeout: float = 900,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command; on an unexpected exit status, fail with its output."""
    result = subprocess.run(
        command, cwd=cwd, env=tool_env(**(env or {})), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def project_files(project: Path) -> set[str]:
    return {
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(url: str, payload: Any | None = None) -> tuple[int, str]:
    """GET, or POST `payload` as JSON; (status, body text), also for 4xx/5xx answers."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def workflow_steps(project: Path, workflow: str, job: str | None = None) -> list[str]:
    """The `make` commands of a generated GitHub workflow: one job's, or all jobs' in order.

    A job that calls a reusable workflow (monitor → ct) has no steps of its own. The two
    shell steps that must not go through make (the `merged` check and the platform's
    standard) are left out: tests/test_lifecycle.py runs them.
    """
    path = project / ".github" / "workflows" / f"{workflow}.yml"
    if not path.exists():
        return []
    jobs = yaml.safe_load(path.read_text())["jobs"]
    chosen = [jobs[job]] if job else list(jobs.values())
    runs = [step["run"] for steps in chosen for step in steps.get("steps", []) if "run" in step]
    return [command for command in runs if command.startswith("make ")]


def load_script(path: Path) -> ModuleType:
    """Import a standalone script (a hook, a generated project's script) as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up
    # No __pycache__ beside the script: the template tree is copied by other tests.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module


def hinted_lines(output: str) -> list[str]:
    """The `key = value` lines draft-contract printed after its closing hint."""
    after = output.split(HINT, 1)
    assert len(after) == 2, f"draft-contract printed no settings hint:\n{output}"
    lines = [line.strip() for line in after[1].splitlines() if line.strip()]
    return [line for line in lines if not line.startswith("#")]


def paste_under_data(project: Path, lines: list[str]) -> None:
    """Set each line in [data] of config/settings.toml, as a person pastes it: the key's
    own line replaced, or the line added at the top of the section."""
    settings = project / "config/settings.toml"
    text = settings.read_text()
    start = text.index("[data]\n") + len("[data]\n")
    end = text.index("\n[", start)
    section = text[start:end]
    for line in lines:
        key = line.split("=", 1)[0].strip()
        tomllib.loads(line)  # each line is valid TOML on its own
        pattern = re.compile(rf"^{re.escape(key)} = .*$", re.MULTILINE)
        if pattern.search(section):
            section = pattern.sub(lambda _, line=line: line.split("  #")[0], section, count=1)
        else:
            section = line.split("  #")[0] + "\n" + section
    settings.write_text(text[:start] + section + text[end:])

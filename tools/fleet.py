"""The fleet view: where does each generated repository stand?

For every repository path given: the template version it is on, how many template
releases it is behind, and whether it follows the standard, with the failing checks.
The standard is judged by this template's own checker (template/scripts/conformance.py),
never by the copy in the repository, which a team could have replaced. A table by
default, or JSON.

  uv run python tools/fleet.py ../churn https://git.example.com/ml/fraud.git [--json]

A repository is a local path or a git URL (https://, ssh, file://, gh:org/repo,
gl:org/repo), cloned shallowly into a cache (~/.cache/groundwork-fleet, or
$GROUNDWORK_FLEET_CACHE). Repositories are checked in parallel. A repository that
cannot be read or updated (a bad path, an unreachable remote, a folder that is not
its own git repository, a corrupt answers file) becomes an
error row; the others are still reported. Every unhealthy row says why.

Exit status: 0 every repository current and conformant, 1 otherwise, 2 bad usage.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

ANSWERS_FILE = ".copier-answers.yml"
CHECKER = Path(__file__).resolve().parent.parent / "template" / "scripts" / "conformance.py"


@dataclass
class RepoStatus:
    path: str
    version: str | None = None
    latest: str | None = None
    behind: int | None = None
    conformant: bool | None = None
    failing: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)  # {check, problem}
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.error is None and self.behind == 0 and bool(self.conformant)

    @property
    def why(self) -> str:
        """Why the row is unhealthy, in one line ("" when healthy)."""
        if self.error:
            return f"error: {self.error}"
        reasons = list(self.failing)
        if self.behind:
            reasons.insert(0, f"{self.behind} release(s) behind {self.latest}")
        elif self.behind is None:
            reasons.insert(0, "template version unknown")
        return "; ".join(reasons)


SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


def expand_url(source: str) -> str:
    """copier's gh:/gl: shortcuts as the URLs git understands."""
    for prefix, base in SHORTCUTS.items():
        if source.startswith(prefix):
            path = source.removeprefix(prefix)
            return base + path + ("" if path.endswith(".git") else ".git")
    return source


def is_remote(repo: str) -> bool:
    return bool(re.match(r"^(\w+://|gh:|gl:|git@)", repo))


def fetch(repo: str) -> Path:
    """A shallow clone of a remote repository, refreshed on every call."""
    cache = Path(os.environ.get("GROUNDWORK_FLEET_CACHE", Path.home() / ".cache/groundwork-fleet"))
    folder = cache / hashlib.sha256(repo.encode()).hexdigest()[:16]
    if folder.exists():
        command = ["git", "-C", str(folder), "pull", "--quiet", "--depth", "1"]
    else:
        folder.parent.mkdir(parents=True, exist_ok=True)
        command = ["git", "clone", "--quiet", "--depth", "1", expand_url(repo), str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"cannot fetch {repo}: {result.stderr.strip()[-300:]}")
    return folder


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def template_releases(source: str) -> list[Version]:
    """PEP 440 tags of the template, oldest first (what copier's own update considers)."""
    result = subprocess.run(
        ["git", "ls-remote", "--tags", expand_url(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cannot list the template's tags at {source}: {result.stderr.strip()}")
    tags = {line.split("refs/tags/")[-1].removesuffix("^{}") for line in result.stdout.splitlines()}
    versions = [v for v in map(_version, tags) if v is not None and not v.is_prerelease]
    return sorted(versions)


def conformance(repo: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(CHECKER), "--json", str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"conformance check crashed: {result.stderr.strip()[-300:]}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def inspect(repo_name: str) -> RepoStatus:
    status = RepoStatus(path=repo_name)
    try:
        repo = fetch(repo_name) if is_remote(repo_name) else Path(repo_name)
    except RuntimeError as error:
        status.error = str(error)
        return status
    if not repo.is_dir():
        status.error = "not a directory"
        return status
    inside = subprocess.run(["git", "-C", str(repo), "rev-parse", "--show-toplevel"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    if inside.returncode != 0 or Path(inside.stdout.strip()).resolve() != repo.resolve():
        status.error = "not a git repository: copier update needs one (git init, then commit)"
        return status
    answers_path = repo / ANSWERS_FILE
    if not answers_path.exists():
        status.error = f"no {ANSWERS_FILE}: not generated from the template"
        return status
    try:
        answers = yaml.safe_load(answers_path.read_text()) or {}
    except yaml.YAMLError as error:
        status.error = f"{ANSWERS_FILE} is not valid YAML: {str(error).splitlines()[0]}"
        return status
    status.version = str(answers.get("_commit")) if answers.get("_commit") else None
    try:
        releases = template_releases(str(answers.get("_src_path", "")))
        current = _version(status.version or "")
        status.latest = str(releases[-1]) if releases else None
        if current is not None:
            status.behind = sum(1 for release in releases if release > current)
        report = conformance(repo)
    except RuntimeError as error:
        status.error = str(error)
        return status
    status.conformant = bool(report["conformant"])
    status.problems = [
        {"check": check["name"], "problem": problem}
        for check in report["checks"]
        if not check["passed"]
        for problem in check["problems"]
    ]
    status.failing = [f"{item['check']}: {item['problem']}" for item in status.problems]
    return status


def table(statuses: list[RepoStatus]) -> str:
    rows = [("repository", "version", "latest", "behind", "standard", "why not healthy")]
    for s in statuses:
        standard = "error" if s.error else ("yes" if s.conformant else "NO")
        failing = s.why or "-"
        behind = "?" if s.behind is None else str(s.behind)
        rows.append((s.path, s.version or "?", s.latest or "?", behind, standard, failing))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5]
             for row in rows]  # fmt: skip
    healthy = sum(s.healthy for s in statuses)
    lines.append(f"\n{healthy}/{len(statuses)} repositories current and conformant")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Template version and conformance per repo")
    parser.add_argument("repos", nargs="+", help="paths or git URLs of generated repositories")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    with ThreadPoolExecutor(max_workers=4) as pool:  # each check waits on git and copier
        statuses = list(pool.map(inspect, args.repos))
    if args.json:
        rows = [asdict(s) | {"healthy": s.healthy, "why": s.why} for s in statuses]
        print(json.dumps(rows, indent=2))
    else:
        print(table(statuses))
    return 0 if all(s.healthy for s in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())

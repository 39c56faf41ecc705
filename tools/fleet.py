"""The fleet view: where does each generated repository stand?

For every repository path given: the template version it is on, how many template
releases it is behind, and whether it follows the standard, with the failing checks.
The standard is judged by this template's own checker (template/scripts/conformance.py),
never by the copy in the repository, which a team could have replaced. A table by
default, or JSON.

  uv run python tools/fleet.py ../churn ../fraud ../forecast [--json]

Exit status: 0 every repository current and conformant, 1 otherwise, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
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
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.error is None and self.behind == 0 and bool(self.conformant)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def template_releases(source: str) -> list[Version]:
    """PEP 440 tags of the template, oldest first (what copier's own update considers)."""
    result = subprocess.run(
        ["git", "ls-remote", "--tags", source], capture_output=True, text=True, check=False
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


def inspect(repo: Path) -> RepoStatus:
    status = RepoStatus(path=str(repo))
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
    status.failing = [
        f"{check['name']}: {problem}"
        for check in report["checks"]
        if not check["passed"]
        for problem in check["problems"]
    ]
    return status


def table(statuses: list[RepoStatus]) -> str:
    rows = [("repository", "version", "latest", "behind", "standard", "failing checks")]
    for s in statuses:
        standard = "error" if s.error else ("yes" if s.conformant else "NO")
        failing = s.error or "; ".join(s.failing) or "-"
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
    parser.add_argument("repos", nargs="+", type=Path, help="paths of generated repositories")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    missing = [str(repo) for repo in args.repos if not repo.is_dir()]
    if missing:
        print(f"error: not a directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    statuses = [inspect(repo) for repo in args.repos]
    if args.json:
        print(json.dumps([asdict(s) | {"healthy": s.healthy} for s in statuses], indent=2))
    else:
        print(table(statuses))
    return 0 if all(s.healthy for s in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Does this repository follow the groundwork standard? A readable report, or JSON.

Checks (docs/updating.md in the template explains each):
  answers   .copier-answers.yml names its template and version, and its answers still
            pass the questionnaire's validators (the template renders with them);
  charter   the required charter fields are filled in (no TODO);
  gate      config/settings.toml configures the quality gate completely;
  data      [data] sample in config/settings.toml says whether the project runs on the
            synthetic sample (true) or on the team's configured source (false);
  promotion [registry] promotion in config/settings.toml is the ct_promotion answer the
            workflows were generated for (a changed answer does not reach that file);
  owned     template-owned files are unmodified: changes belong in the extension
            points (Makefile.local, an extra workflow file, ruff.toml extending
            pyproject.toml), or upstream in the template.

Run with `make template-standard` (with the check for a newer template) or directly:
  uv run --no-project --with 'copier>=9.19' python scripts/conformance.py [--json] [PATH]
Exit status: 0 conformant, 1 not conformant.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
import tempfile
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ANSWERS_FILE = ".copier-answers.yml"
# Template-owned: updated by every `copier update`, never edited in place.
TEMPLATE_OWNED = [
    "Makefile",
    "Dockerfile",
    ".dockerignore",
    ".pre-commit-config.yaml",
    ".github/workflows/*.yml",
    ".gitlab-ci.yml",
    "renovate.json",
    "scripts/conformance.py",
    "scripts/propose_model.sh",
    "scripts/template_update.py",
]
# Charter lines that must be filled in: a label, and no TODO on its line.
REQUIRED_CHARTER_FIELDS = [
    "**Business problem:**",
    "**Decision supported:**",
    "| Success metric |",
    "| Threshold |",
    "| Non-ML baseline |",
    "| Margin over baseline |",
    "| Product owner |",
    "| Data scientist |",
    "| ML engineer |",
    "| Data engineer |",
]
GATE_NUMBERS = ["threshold", "baseline_margin", "champion_tolerance"]


@dataclass
class Check:
    name: str
    passed: bool
    problems: list[str]


def read_answers(project: Path) -> dict[str, Any]:
    path = project / ANSWERS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{ANSWERS_FILE} is missing: this is not a generated project")
    answers: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    return answers


def render_reference(answers: dict[str, Any], destination: Path) -> None:
    """The template at the recorded version, rendered with the recorded answers."""
    from copier import run_copy

    run_copy(
        str(answers["_src_path"]),
        destination,
        data={k: v for k, v in answers.items() if not k.startswith("_")},
        vcs_ref=str(answers["_commit"]),
        defaults=True,
        skip_tasks=True,
        quiet=True,
    )


def check_answers(answers: dict[str, Any], reference: Path | None, error: str | None) -> Check:
    missing = [key for key in ("_src_path", "_commit") if key not in answers]
    problems = [f"{ANSWERS_FILE} has no {key}" for key in missing]
    if error:
        problems.append(f"the template does not render with these answers: {error}")
    elif reference is None and not problems:
        problems.append("the template could not be rendered")
    return Check("answers", not problems, problems)


def check_charter(project: Path) -> Check:
    path = project / "docs/charter.md"
    if not path.exists():
        return Check("charter", False, ["docs/charter.md is missing"])
    lines = path.read_text().splitlines()
    problems = []
    for label in REQUIRED_CHARTER_FIELDS:
        line = next((text for text in lines if label in text), None)
        if line is None:
            problems.append(f"docs/charter.md has no `{label.strip('*| :')}` field")
        elif "TODO" in line:
            problems.append(f"docs/charter.md: `{label.strip('*| :')}` is still TODO")
    return Check("charter", not problems, problems)


def settings_section(project: Path, name: str) -> dict[str, Any] | str:
    """A section of config/settings.toml, or what is wrong with the file."""
    path = project / "config/settings.toml"
    if not path.exists():
        return "config/settings.toml is missing"
    section = tomllib.loads(path.read_text()).get(name)
    if not isinstance(section, dict):
        return f"config/settings.toml has no [{name}] section"
    return section


def check_gate(project: Path) -> Check:
    gate = settings_section(project, "gate")
    if isinstance(gate, str):
        return Check("gate", False, [gate])
    problems = []
    if not gate.get("metric"):
        problems.append("[gate] metric is not set")
    if gate.get("direction") not in ("maximize", "minimize"):
        problems.append("[gate] direction must be maximize or minimize")
    for key in GATE_NUMBERS:
        value = gate.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"[gate] {key} must be a number")
        elif key != "threshold" and value < 0:
            problems.append(f"[gate] {key} must not be negative")
    extra = sorted(set(gate) - {"metric", "direction", *GATE_NUMBERS})
    if extra:
        problems.append(f"[gate] has unknown keys {extra}: the gate has no switches")
    return Check("gate", not problems, problems)


def check_data(project: Path) -> Check:
    data = settings_section(project, "data")
    if isinstance(data, str):
        return Check("data", False, [data])
    if not isinstance(data.get("sample"), bool):
        return Check(
            "data",
            False,
            [
                "[data] sample is not set: add `sample = true` (train on the synthetic sample) "
                "or `sample = false` (train on the source configured in [data])"
            ],
        )
    return Check("data", True, [])


def check_promotion(project: Path, answers: dict[str, Any]) -> Check:
    path = project / "config/settings.toml"
    if not path.exists():
        return Check("promotion", False, ["config/settings.toml is missing"])
    registry = tomllib.loads(path.read_text()).get("registry", {})
    configured = registry.get("promotion", "automatic")
    answered = answers.get("ct_promotion", "automatic")
    problems = []
    if configured != answered:
        problems.append(
            f'[registry] promotion is "{configured}" but the workflows were generated for '
            f'"{answered}" (ct_promotion): set one to match the other'
        )
    return Check("promotion", not problems, problems)


def is_template_owned(relative: str) -> bool:
    return any(fnmatch.fnmatch(relative, pattern) for pattern in TEMPLATE_OWNED)


def check_owned(project: Path, reference: Path | None) -> Check:
    if reference is None:
        return Check("owned", False, ["no reference render to compare with (see answers)"])
    problems = []
    for expected in sorted(p for p in reference.rglob("*") if p.is_file()):
        relative = expected.relative_to(reference).as_posix()
        if not is_template_owned(relative):
            continue
        actual = project / relative
        if not actual.exists():
            problems.append(f"{relative} was deleted")
        elif actual.read_bytes() != expected.read_bytes():
            problems.append(f"{relative} was edited; move the change to an extension point")
    return Check("owned", not problems, problems)


def run_checks(project: Path) -> list[Check]:
    answers = read_answers(project)
    with tempfile.TemporaryDirectory() as folder:
        rendered = Path(folder) / "reference"
        reference: Path | None = rendered
        error = None
        try:
            render_reference(answers, rendered)
        except Exception as exc:  # copier raises many types; report, do not crash
            reference, error = None, re.sub(r"\s+", " ", str(exc)).strip()[:300]
        return [
            check_answers(answers, reference, error),
            check_charter(project),
            check_gate(project),
            check_data(project),
            check_promotion(project, answers),
            check_owned(project, reference),
        ]


def report(checks: list[Check]) -> str:
    lines = []
    for check in checks:
        lines.append(f"{'PASS' if check.passed else 'FAIL'}  {check.name}")
        lines += [f"      - {problem}" for problem in check.problems]
    verdict = "conformant" if all(c.passed for c in checks) else "NOT conformant"
    lines.append(f"\n{verdict}: {sum(c.passed for c in checks)}/{len(checks)} checks pass")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", default=".", type=Path)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    try:
        checks = run_checks(args.project)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    passed = all(check.passed for check in checks)
    if args.json:
        print(json.dumps({"conformant": passed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        print(report(checks))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

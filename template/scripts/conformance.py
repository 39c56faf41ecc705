"""Does this repository follow the groundwork standard? A readable report, or JSON.

Checks (docs/updating.md in the template explains each):
  answers   .copier-answers.yml names its template and version, and its answers still
            pass the questionnaire's validators (the template renders with them);
  charter   the required charter fields are filled in (no TODO);
  gate      config/settings.toml configures the quality gate completely, with the
            charter's metric, the direction that metric has, a threshold inside the
            metric's range that a trivial model cannot pass, tolerances and slice sizes
            that do not switch a check off, and well-formed guardrails;
  contract  config/contract.yaml gives every column a dtype, and every int, float and
            category column the model may use a min, max or allowed values;
  data      [data] sample in config/settings.toml says whether the project runs on the
            synthetic sample (true) or on the team's configured source (false);
  promotion [registry] promotion in config/settings.toml is the ct_promotion answer the
            workflows were generated for (a changed answer does not reach that file);
  agree     the answers, the package, config/settings.toml and config/contract.yaml
            agree: package folder, problem type, metric, target, registry backend, data
            source, and a [serving] section when the project serves online (an answer changed by an
            update does not reach user-owned files);
  merged    no update left work behind: no conflict markers, `.rej` files or
            unmerged paths (the same gate as `make template-update`, so an update
            opened by Renovate cannot merge half-resolved);
  required  (with --run-required, as CI runs it) the required tests run and pass: each
            test function of tests/test_gate.py, test_training.py and test_bad_data.py
            passes at least once, with the project's pytest options set aside, checked
            in a junit report, so a conftest hook that deselects them is seen;
  owned     template-owned files (the required tests among them) are unmodified:
            changes belong in the extension points (Makefile.local, an extra workflow
            file, ruff.toml extending pyproject.toml), or upstream in the template;
            Makefile.local adds targets and never redefines the Makefile's own.

Who judges: the template source renders the reference the project is compared with.
Locally that is the project's own `_src_path`, which the project can change, and the
report says so. CI passes `--source` with the platform's URL (an organisation-level
variable, GROUNDWORK_STANDARD_URL), runs this script from that source's render, and is
behind when that source has a newer release than the project records.

Run with `make template-standard` (with the check for a newer template) or directly:
  uv run --no-project --with 'copier>=9.19' python scripts/conformance.py [--json]
      [--source URL] [--run-required] [PATH]
Exit status: 0 conformant, 1 not conformant, 2 not a generated project.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

ANSWERS_FILE = ".copier-answers.yml"
CONFLICT_MARKER = "<<<<<<< "
# The required tests: the gate's rules and training's refusal to promote a failure.
REQUIRED_TESTS = ["tests/test_gate.py", "tests/test_training.py", "tests/test_bad_data.py"]
# Modules whose edit changes what is promoted: the gate, the metrics and value it
# judges by, the contract that admits data, and the registry that records the verdict.
DECIDING_MODULES = [
    "src/*/model/gate.py",
    "src/*/model/metrics.py",
    "src/*/model/value.py",
    "src/*/data/contract.py",
    "src/*/registry/base.py",
    "src/*/registry/promotion.py",
    "src/*/registry/mlflow_registry.py",
    "src/*/registry/local_registry.py",
]
# Template-owned: updated by every `copier update`, never edited in place.
TEMPLATE_OWNED = [
    "Makefile",
    "Dockerfile",
    ".dockerignore",
    ".pre-commit-config.yaml",
    ".github/workflows/*.yml",
    ".gitlab-ci.yml",
    "renovate.json",
    "docs/groundwork-changelog.md",
    "scripts/conformance.py",
    "scripts/first_commit.py",
    "scripts/propose_model.sh",
    "scripts/rename_package.py",
    "scripts/template_update.py",
    *REQUIRED_TESTS,
    # The code that decides a promotion: teams change behaviour through the extension
    # points (features, estimators, the team's rule, settings), not here.
    *DECIDING_MODULES,
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
SLICE_NUMBERS = ["slice_min_rows", "slice_tolerance"]  # optional: added in 0.4.0
FAIRNESS_METRICS = ("selection_rate", "recall", "precision")  # optional: added after 0.4.0
GUARDRAIL = re.compile(
    r"^(precision|recall|positive_rate|accuracy|f1|f1_macro|r2|rmse|mae)_(min|max)$"
)
LOWER_IS_BETTER = {"rmse", "mae", "mape"}
# (lowest, highest) a threshold may take; the lowest is what a trivial model reaches
# (a random ranking has ROC AUC 0.5, the mean has R² 0), so it is excluded.
THRESHOLD_RANGE = {
    "roc_auc": (0.5, 1.0),
    "average_precision": (0.0, 1.0),
    "f1": (0.0, 1.0),
    "recall": (0.0, 1.0),
    "accuracy": (0.0, 1.0),
    "f1_macro": (0.0, 1.0),
    "r2": (0.0, 1.0),
    "rmse": (0.0, float("inf")),
    "mae": (0.0, float("inf")),
    "mape": (0.0, 10.0),
}
# Gate numbers within what they mean (docs/updating.md): a threshold this far above what
# a trivial model reaches, tolerances below half a bounded metric's range (an error
# metric's: at most the threshold), and slices of at most this many rows to judge.
MIN_LIFT = 0.05
MAX_SLICE_MIN_ROWS = 10_000
# A contract column the model uses keeps one check on its values besides its type.
VALUE_CHECKS = {
    "int": ("min", "max", "allowed"),
    "float": ("min", "max", "allowed"),
    "category": ("allowed",),
}
# Make's own variables and special targets: set in Makefile.local, they change what
# every recipe of the Makefile does (run it in another shell, ignore its errors...).
MAKE_SPECIAL_TARGETS = {".IGNORE", ".ONESHELL", ".POSIX", ".DEFAULT", ".EXPORT_ALL_VARIABLES",
                        ".SILENT", ".NOTPARALLEL"}  # fmt: skip
# Variables tools read from the environment to change what they run or judge.
TOOL_VARIABLES = re.compile(r"^(PYTEST_|PYTHON|UV_|RUFF_|MYPY|COVERAGE_|VIRTUAL_ENV)")


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


def source_problem(answers: dict[str, Any]) -> str | None:
    """Why the recorded template source cannot serve updates and CI, or None."""
    source = str(answers.get("_src_path", ""))
    if re.match(r"^(\w+://|gh:|gl:|git@)", source):
        return None  # a URL: reachable wherever the network allows
    fix = (
        "set `_src_path` in .copier-answers.yml to a git URL that CI can reach, e.g. "
        "`https://github.com/<org>/groundwork.git` or `gh:<org>/groundwork` (your fork or "
        "your organisation's mirror), commit, and run it again"
    )
    if not Path(source).is_absolute():
        return (
            f"`_src_path: {source}` is a path relative to where the project was generated; "
            f"copier reads it from this project, where no template is. To fix: {fix}"
        )
    if not Path(source).exists():
        return f"`_src_path: {source}` does not exist on this machine. To fix: {fix}"
    return None


def render_template(
    answers: dict[str, Any], destination: Path, ref: str | None, changes: list[str] | None = None
) -> None:
    """The template at `ref` (None: its newest release), rendered with the recorded
    answers and any `question=value` changes."""
    from copier import run_copy

    data = {k: v for k, v in answers.items() if not k.startswith("_")}
    data.update(change.split("=", 1) for change in changes or [])
    run_copy(
        str(answers["_src_path"]),
        destination,
        data=data,
        vcs_ref=ref,
        defaults=True,
        skip_tasks=True,
        quiet=True,
    )


def render_reference(answers: dict[str, Any], destination: Path) -> None:
    """The template at the recorded version, rendered with the recorded answers."""
    render_template(answers, destination, str(answers["_commit"]))


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


def charter_metric(project: Path) -> str | None:
    path = project / "docs/charter.md"
    text = path.read_text() if path.exists() else ""
    found = re.search(r"^\| Success metric \| `([^`]+)`", text, re.MULTILINE)
    return found.group(1) if found else None


def check_gate(project: Path) -> Check:
    gate = settings_section(project, "gate")
    if isinstance(gate, str):
        return Check("gate", False, [gate])
    problems = []
    metric = gate.get("metric")
    if not metric:
        problems.append("[gate] metric is not set")
    elif metric not in THRESHOLD_RANGE:
        problems.append(f"[gate] metric {metric!r} is not one the gate knows")
    promised = charter_metric(project)
    if metric and promised and metric != promised:
        problems.append(
            f"[gate] metric is {metric!r} but docs/charter.md promises {promised!r}: "
            "change both, in one reviewed pull request"
        )
    expected_direction = "minimize" if metric in LOWER_IS_BETTER else "maximize"
    if gate.get("direction") not in ("maximize", "minimize"):
        problems.append("[gate] direction must be maximize or minimize")
    elif metric in THRESHOLD_RANGE and gate["direction"] != expected_direction:
        problems.append(f"[gate] direction must be {expected_direction} for {metric}")
    for key in GATE_NUMBERS:
        value = gate.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"[gate] {key} must be a number")
        elif key != "threshold" and value < 0:
            problems.append(f"[gate] {key} must not be negative")
        elif key == "threshold" and metric in THRESHOLD_RANGE:
            lowest, highest = THRESHOLD_RANGE[metric]
            if not lowest < value <= highest:
                problems.append(
                    f"[gate] threshold {value} is outside ({lowest}, {highest}] for {metric}: "
                    "a trivial model would pass it, or no model could"
                )
            elif value == highest == 1.0 and expected_direction == "maximize":
                problems.append(
                    f"[gate] threshold 1.0 asks for a perfect {metric}, which no model reaches "
                    "on real data: every training would fail the gate"
                )
    guardrails = gate.get("guardrails", {})
    if not isinstance(guardrails, dict):
        problems.append("[gate.guardrails] must be a table of <metric>_min / <metric>_max")
        guardrails = {}
    for name, limit in guardrails.items():
        if not GUARDRAIL.match(name):
            problems.append(f"[gate.guardrails] {name!r} is not <metric>_min or <metric>_max")
        elif not isinstance(limit, int | float) or isinstance(limit, bool):
            problems.append(f"[gate.guardrails] {name} must be a number")
    for key in SLICE_NUMBERS:
        value = gate.get(key, 0)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            problems.append(f"[gate] {key} must be a number, not negative")
    gap = gate.get("max_fairness_gap", 0)
    if not isinstance(gap, int | float) or isinstance(gap, bool) or not 0 <= gap <= 1:
        problems.append("[gate] max_fairness_gap must be a number from 0 to 1")
    if gate.get("fairness_metric", "recall") not in FAIRNESS_METRICS:
        problems.append(f"[gate] fairness_metric must be one of {list(FAIRNESS_METRICS)}")
    problems += unbounded_numbers(gate, metric)
    fairness = {"fairness_metric", "max_fairness_gap"}
    known = {"metric", "direction", "guardrails", *fairness, *GATE_NUMBERS, *SLICE_NUMBERS}
    extra = sorted(set(gate) - known)
    if extra:
        problems.append(f"[gate] has unknown keys {extra}: the gate has no switches")
    return Check("gate", not problems, problems)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def unbounded_numbers(gate: dict[str, Any], metric: Any) -> list[str]:
    """Gate numbers so loose that they switch a check off, by what each means."""
    if metric not in THRESHOLD_RANGE or not _number(gate.get("threshold")):
        return []  # reported above
    lowest, highest = THRESHOLD_RANGE[metric]
    threshold = gate["threshold"]
    problems = []
    if metric in LOWER_IS_BETTER:
        limit, scale = threshold, f"the threshold ({threshold})"
    else:
        limit, scale = (highest - lowest) / 2, f"less than half the range of {metric}"
        if lowest < threshold < lowest + MIN_LIFT:
            problems.append(
                f"[gate] threshold {threshold} is within {MIN_LIFT} of what a trivial model "
                f"reaches ({lowest}) on {metric}: it would pass a model that learnt nothing"
            )
        margin = gate.get("baseline_margin")
        if _number(margin) and margin >= highest - lowest:
            problems.append(
                f"[gate] baseline_margin {margin} is the whole range of {metric}: no model "
                "can beat the baseline by that much"
            )
    for key in ("champion_tolerance", "slice_tolerance"):
        value = gate.get(key)
        if not _number(value):
            continue  # reported above, or absent (an older project)
        if value > limit if metric in LOWER_IS_BETTER else value >= limit:
            problems.append(
                f"[gate] {key} {value} is not within {scale}: a tolerance that wide lets any "
                "model through"
            )
    rows = gate.get("slice_min_rows")
    if _number(rows) and rows > MAX_SLICE_MIN_ROWS:
        problems.append(
            f"[gate] slice_min_rows {rows} is over {MAX_SLICE_MIN_ROWS:,}: slices that large "
            "are rare in a holdout, so no slice would ever be judged"
        )
    return problems


def check_contract(project: Path) -> Check:
    """Every column the model may use keeps its type and a check on its values."""
    path = project / "config/contract.yaml"
    if not path.exists():
        return Check("contract", False, ["config/contract.yaml is missing"])
    try:
        contract = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        return Check("contract", False, [f"config/contract.yaml is not valid YAML: {error}"])
    data = settings_section(project, "data")
    personal = set(data.get("personal_data", [])) if isinstance(data, dict) else set()
    columns = contract.get("columns") if isinstance(contract, dict) else None
    if not isinstance(columns, dict) or not columns:
        return Check("contract", False, ["config/contract.yaml describes no columns"])
    kept_out = {contract.get("target"), contract.get("id_column"), *personal}
    problems = []
    for name, spec in columns.items():
        spec = spec if isinstance(spec, dict) else {}
        dtype = spec.get("dtype")
        if dtype is None:
            problems.append(f"config/contract.yaml: column `{name}` has no dtype")
            continue
        checks = VALUE_CHECKS.get(dtype, ()) if name not in kept_out else ()
        if checks and not any(spec.get(check) not in (None, []) for check in checks):
            wanted = ", ".join(checks).replace(", allowed", " or allowed")
            problems.append(
                f"config/contract.yaml: feature `{name}` ({dtype}) has no {wanted}: "
                "nothing would stop a broken value reaching the model"
            )
    return Check("contract", not problems, problems)


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


def target_unfit(spec: dict[str, Any], problem_type: str) -> str | None:
    """Why a contract's target column cannot be the target of `problem_type`, or None."""
    dtype, allowed = spec.get("dtype"), spec.get("allowed") or []
    if problem_type == "regression" and (dtype not in ("int", "float") or allowed):
        return "a regression target is a number: dtype int or float, no allowed list"
    if problem_type == "binary" and dtype != "bool" and len(allowed) != 2:
        return "a binary target is dtype bool or has exactly two allowed values"
    if problem_type == "multiclass" and len(allowed) < 3:
        return "a multiclass target lists its three or more classes under allowed"
    return None


def check_agreement(project: Path, answers: dict[str, Any]) -> Check:
    change = 'change the answer (make template-update SET="{key}=...") or the file to match'
    problems = []
    package = answers.get("package_name")
    if package and not (project / "src" / str(package) / "__init__.py").is_file():
        problems.append(
            f"src/{package}/ is missing but the answers say package_name {package!r}: later "
            "updates would bring their changes to a package that is not there. Move it back "
            "and rename with `make rename-package NEW=<name>`, which moves your files and "
            "the answer together"
        )
    sections = ("project", "gate", "serving", "registry", "data")
    settings = {name: settings_section(project, name) for name in sections}
    tracking = answers.get("tracking")
    expected = {
        ("project", "problem_type"): ("problem_type", answers.get("problem_type")),
        ("gate", "metric"): ("success_metric", answers.get("success_metric")),
        ("registry", "backend"): ("tracking", {"mlflow": "mlflow", "none": "local"}.get(tracking)),
        # The compose file, README and dependencies follow the answer; the reader, this.
        ("data", "source"): ("data_source", answers.get("data_source")),
    }
    for (section, key), (answer, wanted) in expected.items():
        found = settings[section]
        if isinstance(found, dict) and wanted is not None and found.get(key) != wanted:
            problems.append(
                f"config/settings.toml [{section}] {key} is {found.get(key)!r} but the answers "
                f"say {answers[answer]!r} ({answer}): " + change.format(key=answer)
            )
    if answers.get("serving_mode", "batch") != "batch" and not isinstance(
        settings["serving"], dict
    ):
        problems.append(
            f"serving_mode is {answers['serving_mode']!r} but config/settings.toml has no "
            "[serving] section: copy it from a fresh render of the template"
        )
    contract = project / "config/contract.yaml"
    if contract.exists() and "target_column" in answers:
        parsed = yaml.safe_load(contract.read_text()) or {}
        target = parsed.get("target")
        spec = (parsed.get("columns") or {}).get(target) or {}
        unfit = target_unfit(spec, str(answers.get("problem_type"))) if spec else None
        if unfit:
            problems.append(
                f"config/contract.yaml's target {target!r} (dtype {spec.get('dtype')!r}, "
                f"allowed {spec.get('allowed')}) does not fit problem_type "
                f"{answers.get('problem_type')!r}: {unfit}"
            )
        if target != answers["target_column"]:
            problems.append(
                f"config/contract.yaml's target is {target!r} but the answers say "
                f"{answers['target_column']!r} (target_column): "
                + change.format(key="target_column")
            )
    return Check("agree", not problems, problems)


def git_output(project: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(project), *args], capture_output=True, text=True, check=False
    )
    return result.stdout


def unresolved(project: Path) -> list[str]:
    """Everything an update left for a person to resolve, one line each."""
    unmerged = git_output(project, "diff", "--name-only", "--diff-filter=U").split()
    problems = [f"{path}: unmerged" for path in unmerged]
    listed = git_output(project, "ls-files", "--cached", "--others", "--exclude-standard")
    for name in sorted(set(listed.splitlines())):
        path = project / name
        if name.endswith(".rej"):
            problems.append(f"{name}: rejected hunks from the update")
            continue
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        lines = [
            n for n, line in enumerate(text.splitlines(), 1) if line.startswith(CONFLICT_MARKER)
        ]
        if lines:
            problems.append(f"{name}: conflict markers at line(s) {', '.join(map(str, lines))}")
    return problems


def check_merged(project: Path) -> Check:
    problems = unresolved(project)
    return Check("merged", not problems, problems)


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
    problems += subverted_makefile(project)
    return Check("owned", not problems, problems)


ORIGIN = re.compile(
    r"^# (?:makefile|'override' directive) \(from '(?P<file>[^']+)', line (?P<line>\d+)\)"
)
VARIABLE = re.compile(r"^(?:override )?(?P<name>[^\s:#=?+!]+) *(?::{1,3}=|\?=|\+=|!=|=)")
RECIPE = re.compile(r"^#  recipe to execute \(from '(?P<file>[^']+)', line (?P<line>\d+)\)")
TARGET = re.compile(r"^(?P<name>[^\s:#=][^:=]*?)::? *(?P<prerequisites>[^=]*)$")


@dataclass
class MakeDatabase:
    """What make made of a Makefile: each variable's origin, each target's recipe origin
    and prerequisites."""

    variables: dict[str, str]  # name: "Makefile.local line 3", "default", "environment"...
    recipes: dict[str, str]  # target: where its recipe is from ("Makefile line 52")
    prerequisites: dict[str, set[str]]
    flags: set[str]  # MAKEFLAGS' single-letter options (i: ignore errors, k, n...)


def make_database(folder: Path) -> MakeDatabase | str:
    """`make -p` in `folder`: the database make builds from the Makefile and everything it
    includes, however it was spelled (variables, computed names). Nothing is run: -n and
    -q, for a target no recipe of which executes. A string says why make could not."""
    try:
        result = subprocess.run(
            ["make", "--no-print-directory", "-pnq", "-f", "Makefile", "help"],
            cwd=folder, capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"make could not read the Makefile: {error}"
    if "***" in result.stderr:
        return f"make cannot parse the Makefile: {result.stderr.strip().splitlines()[-1]}"
    variables: dict[str, str] = {}
    recipes: dict[str, str] = {}
    prerequisites: dict[str, set[str]] = {}
    origin, in_files, target, flags = "", False, None, set()
    for line in result.stdout.splitlines():
        if line.startswith("# Files"):
            in_files = True
        elif line.startswith(("# VPATH", "# Pattern-specific", "# Implicit Rules")):
            in_files = False
        if not in_files:
            found = ORIGIN.match(line)
            if line.startswith("# "):
                origin = f"{found['file']} line {found['line']}" if found else line[2:].strip()
                continue
            variable = VARIABLE.match(line)
            if variable and origin:
                variables[variable["name"]] = origin
            if variable and variable["name"] == "MAKEFLAGS":
                letters = line.split("=", 1)[1].split()
                flags = set(letters[0]) if letters and not letters[0].startswith("-") else set()
            origin = ""
            continue
        if not line.strip():
            target = None
            continue
        rule = TARGET.match(line) if target is None and not line.startswith(("#", "\t")) else None
        if rule:
            target = rule["name"].strip()
            prerequisites[target] = set(rule["prerequisites"].split("|")[0].split())
            continue
        recipe = RECIPE.match(line)
        if recipe and target is not None:
            recipes[target] = f"{recipe['file']} line {recipe['line']}"
    return MakeDatabase(variables, recipes, prerequisites, flags)


def _from_makefile(origin: str) -> bool:
    return origin.startswith("Makefile line ")


def subverted_makefile(project: Path) -> list[str]:
    """Makefile.local may add targets and variables of its own. It may not change what the
    Makefile's targets run: judged on make's own database, against the Makefile alone."""
    if not (project / "Makefile.local").exists() or not (project / "Makefile").exists():
        return []
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "Makefile").write_bytes((project / "Makefile").read_bytes())
        alone = make_database(Path(folder))
    parsed = make_database(project)
    if isinstance(parsed, str) or isinstance(alone, str):
        return [parsed if isinstance(parsed, str) else str(alone)]
    problems = []
    for name, origin in sorted(parsed.variables.items()):
        if " line " not in origin or _from_makefile(origin) or name == "MAKEFILE_LIST":
            continue
        if name in alone.variables:
            problems.append(
                f"{origin} sets `{name}`, which the Makefile's targets (or make itself) "
                "rely on: give your variable a new name"
            )
        elif TOOL_VARIABLES.match(name):
            problems.append(
                f"{origin} sets `{name}`, which changes what the tools CI runs do: set it "
                "in your own target's recipe instead"
            )
    for target, origin in sorted(parsed.recipes.items()):
        if target in alone.recipes and not _from_makefile(origin):
            problems.append(
                f"{origin.split(' line ')[0]} (line {origin.split(' line ')[1]}) redefines "
                f"`{target}`, a target of the Makefile: give yours a new name"
            )
    for target, wanted in sorted(alone.prerequisites.items()):
        added = parsed.prerequisites.get(target, set()) - wanted
        if added and not target.startswith("."):
            problems.append(
                f"Makefile.local adds prerequisites {sorted(added)} to `{target}`, a target "
                "of the Makefile: make your own target depend on it instead"
            )
    added_flags = parsed.flags - alone.flags
    if added_flags:
        problems.append(
            f"Makefile.local adds make options {sorted(added_flags)} (MAKEFLAGS), which change "
            "how every recipe of the Makefile runs: remove them"
        )
    for special in sorted(MAKE_SPECIAL_TARGETS & set(parsed.prerequisites)):
        if special not in alone.prerequisites:
            problems.append(
                f"Makefile.local declares `{special}`, which changes how make runs every "
                "recipe of the Makefile: remove it"
            )
    return problems


def required_tests(reference: Path) -> dict[str, set[str]]:
    """Each required test file's test functions, as the template release renders them."""
    import ast

    found = {}
    for relative in REQUIRED_TESTS:
        tree = ast.parse((reference / relative).read_text())
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        found[relative] = {name for name in names if name.startswith("test_")}
    return found


def check_required(project: Path, reference: Path | None) -> Check:
    """The required tests run and pass, by file, with the project's pytest options
    (addopts, PYTEST_ADDOPTS) set aside; a junit report then shows that each test
    function ran at least once and none failed, so a conftest hook that deselects or
    skips them is seen."""
    import xml.etree.ElementTree as ElementTree

    if reference is None:
        return Check("required", False, ["no reference render to take the tests from"])
    expected = required_tests(reference)
    with tempfile.TemporaryDirectory() as folder:
        junit = Path(folder) / "required.xml"
        command = ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                   f"--junitxml={junit}", *REQUIRED_TESTS]  # fmt: skip
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        result = subprocess.run(
            command, cwd=project, capture_output=True, text=True, check=False, env=environment
        )
        if not junit.exists():
            tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
            return Check("required", False, [f"pytest did not run: {' / '.join(tail)}"])
        outcomes: dict[tuple[str, str], set[str]] = {}
        for case in ElementTree.parse(junit).iter("testcase"):
            module = case.get("classname", "").replace(".", "/") + ".py"
            function = case.get("name", "").split("[")[0]
            outcome = next((child.tag for child in case), "passed")
            outcomes.setdefault((module, function), set()).add(outcome)
    problems = []
    for file, functions in expected.items():
        for function in sorted(functions):
            seen = outcomes.get((file, function), set())
            if not seen:
                problems.append(f"{file}::{function} did not run (deselected or ignored)")
            elif seen & {"failure", "error"}:
                problems.append(f"{file}::{function} failed")
            elif "passed" not in seen:
                problems.append(f"{file}::{function} never passed (skipped every time)")
    return Check("required", not problems, problems)


def judged_by(answers: dict[str, Any], source: str | None) -> str:
    """Which template source judges, and whether the project could have chosen it."""
    if source:
        return f"judged by the platform's source {source} (at {answers.get('_commit')})"
    return (
        f"judged by this project's own _src_path {answers.get('_src_path')} (at "
        f"{answers.get('_commit')}), which the project can change: CI passes the "
        "platform's source (GROUNDWORK_STANDARD_URL)"
    )


def newest_release(source: str) -> Version | None:
    """The newest release tag of a git source (pre-releases aside), or None."""
    listed = subprocess.run(
        ["git", "ls-remote", "--tags", "--refs", source.removeprefix("git+")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    versions = []
    for line in listed.stdout.splitlines():
        try:
            version = Version(line.rsplit("/", 1)[-1])
        except InvalidVersion:
            continue
        if not version.is_prerelease:
            versions.append(version)
    return max(versions, default=None)


def behind(answers: dict[str, Any], source: str) -> list[str]:
    """The platform's source has a release newer than the one the project records."""
    newest = newest_release(source)
    try:
        recorded = Version(str(answers.get("_commit")))
    except InvalidVersion:
        return [f"{ANSWERS_FILE} records _commit {answers.get('_commit')}, not a release"]
    if newest is not None and newest > recorded:
        return [f"behind: the platform's newest release is {newest}, this project records "
                f"{recorded}; run make template-update"]  # fmt: skip
    return []


def run_checks(project: Path, run_required: bool = False, source: str | None = None) -> list[Check]:
    answers = read_answers(project)
    judging = {**answers, "_src_path": source} if source else answers
    with tempfile.TemporaryDirectory() as folder:
        rendered = Path(folder) / "reference"
        reference: Path | None = rendered
        error = source_problem(judging)
        try:
            if error is None:
                render_reference(judging, rendered)
        except Exception as exc:  # copier raises many types; report, do not crash
            error = re.sub(r"\s+", " ", str(exc)).strip()[:300]
        if error is not None:
            reference = None
        required = [check_required(project, reference)] if run_required else []
        answers_check = check_answers(answers, reference, error)
        if source and reference is not None:
            answers_check.problems += behind(answers, source)
            answers_check.passed = not answers_check.problems
        return [
            answers_check,
            check_charter(project),
            check_gate(project),
            check_contract(project),
            check_data(project),
            check_promotion(project, answers),
            check_agreement(project, answers),
            check_merged(project),
            check_owned(project, reference),
            *required,
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
    parser.add_argument(
        "--source-ok",
        action="store_true",
        help="only say (exit status 0 or 1) whether the recorded template source is usable",
    )
    parser.add_argument(
        "--source",
        help="judge by this template source (CI: the platform's URL), not the project's "
        "_src_path, and report the project behind when it has a newer release",
    )
    parser.add_argument(
        "--run-required",
        action="store_true",
        help="also run the required tests and check from a junit report that each passed",
    )
    args = parser.parse_args(argv)
    if args.source_ok:
        return 0 if source_problem(read_answers(args.project)) is None else 1
    try:
        checks = run_checks(args.project, args.run_required, args.source)
        judge = judged_by(read_answers(args.project), args.source)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    passed = all(check.passed for check in checks)
    if args.json:
        checked = [asdict(c) for c in checks]
        print(json.dumps({"conformant": passed, "judged_by": judge, "checks": checked}, indent=2))
    else:
        print(f"{judge}\n")
        print(report(checks))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

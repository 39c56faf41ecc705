"""What a rendered project uses: modules reachable from its entry points, and the
dependencies its files name. A module nothing reaches, or a dependency nothing names,
is something the answers did not need (issue 15: "no unused files")."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

# Tools named in the project's files by their command or config section, not by import.
_SPELLED = {"scikit-learn": "sklearn", "pydantic-settings": "pydantic_settings",
            "prometheus-client": "prometheus_client", "pyyaml": "yaml",
            "pandas-stubs": "pandas", "types-pyyaml": "yaml"}  # fmt: skip


def package_modules(project: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's package."""
    source = project / "src"
    modules = {}
    for path in source.rglob("*.py"):
        parts = list(path.relative_to(source).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_names(path: Path, module: str, package: str) -> set[str]:
    """Every module `path` imports (relative imports resolved), and the dotted names of
    the package it spells out as strings (uvicorn's "pkg.serving.api:app")."""
    names: set[str] = set()
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            origin = ".".join([*base, node.module] if node.module else base)
            names.add(origin)
            names.update(f"{origin}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and str(node.value).startswith(f"{package}."):
            names.add(str(node.value).split(":")[0])
    return names


def unreachable_modules(project: Path) -> set[str]:
    """Modules no entry point reaches: not the console script, `scripts/`, nor a module
    the Makefile, the Dockerfile or a CI file names (`python -m pkg.x`)."""
    modules = package_modules(project)
    package = min(modules, key=len)
    graph = {name: imported_names(path, name, package) for name, path in modules.items()}
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    starts = {target.split(":")[0] for target in pyproject["project"]["scripts"].values()}
    for script in (project / "scripts").glob("*.py"):
        starts |= imported_names(script, f"scripts.{script.stem}", package)
    callers = [project / "Makefile", project / "Dockerfile", project / ".gitlab-ci.yml",
               *(project / ".github" / "workflows").glob("*.yml")]  # fmt: skip
    for caller in callers:
        if caller.is_file():
            starts |= set(re.findall(rf"\b{package}(?:\.\w+)+", caller.read_text()))
    reached: set[str] = set()
    waiting = list(starts)
    while waiting:
        parts = waiting.pop().split(".")
        # Importing a.b.c runs a and a.b first.
        for end in range(1, len(parts) + 1):
            name = ".".join(parts[:end])
            if name in modules and name not in reached:
                reached.add(name)
                waiting.extend(graph[name])
    return set(modules) - reached


def unused_dependencies(project: Path) -> set[str]:
    """Declared dependencies (every group) that no file of the project names (the
    template's changelog, copied in, names them all)."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    declared = list(pyproject["project"]["dependencies"])
    for group in pyproject.get("dependency-groups", {}).values():
        declared += [entry for entry in group if isinstance(entry, str)]
    names = {re.split(r"[\[<>=!~;, ]", entry)[0].lower() for entry in declared}
    text = "\n".join(
        path.read_text(errors="ignore")
        for path in project.rglob("*")
        if path.is_file()
        and not {".git", ".venv"} & set(path.parts)
        and path.name not in {"pyproject.toml", "uv.lock", "groundwork-changelog.md"}
    )
    unused = set()
    for name in names:
        spelled = {name, name.replace("-", "_"), _SPELLED.get(name, name)}
        if not any(re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) for word in spelled):
            unused.add(name)
    return unused


# Paths the generated docs name that the team makes, not the project: its data under
# data/raw/ (mine.csv, training.parquet, ...) and its own lint settings.
TEAMS_OWN = {"ruff.toml"}


def teams_own(name: str) -> bool:
    return name in TEAMS_OWN or name.startswith("data/raw/")


_PATH = re.compile(r"[\w./-]+\.(?:py|yml|yaml|toml|md|json|sh|html|parquet|db|csv|prom)|[\w./-]+/")


def named_paths(text: str) -> set[str]:
    """The file and folder paths a Markdown text names in backticks (`config/x.toml`,
    `reports/`), leaving out patterns, URLs and placeholders."""
    names = set()
    for token in re.findall(r"`([^`\s]+)`", text):
        token = token.rstrip(".,:;")
        if _PATH.fullmatch(token) and not token.startswith(("s3:", "http", "sqlite", "/", "../")):
            names.add(token)
    return names


def missing_paths(project: Path, documents: list[str]) -> dict[str, set[str]]:
    """For each document, the paths it names that the project does not have: not at the
    root, not in the package, and (for a bare file name) nowhere in the project."""
    package = next((project / "src").iterdir())
    present = {path.name for path in project.rglob("*") if ".venv" not in path.parts}
    missing = {}
    for document in documents:
        names = {
            name for name in named_paths((project / document).read_text()) if not teams_own(name)
        }
        absent = {
            name for name in names
            if not (project / name).exists() and not (package / name).exists()
            and ("/" in name.rstrip("/") or name.rstrip("/") not in present)
        }  # fmt: skip
        if absent:
            missing[document] = absent
    return missing


def missing_targets(project: Path, documents: list[str]) -> dict[str, set[str]]:
    """For each document, the `make <target>`s it names that the Makefile lacks."""
    makefile = (project / "Makefile").read_text()
    missing = {}
    for document in documents:
        named = set(re.findall(r"`make ([a-z][a-z-]*)", (project / document).read_text()))
        absent = {name for name in named if not re.search(rf"^{name}:", makefile, re.M)}
        if absent:
            missing[document] = absent
    return missing

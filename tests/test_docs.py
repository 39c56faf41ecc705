"""The docs site builds strictly, reads cleanly in a real browser, and its
questionnaire reference matches copier.yml and what Copier renders."""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from . import browser
from .helpers import ROOT, answers_of, render
from .test_render_matrix import BATCH_MODULES, ONLINE_MODULES
from .usage import named_paths, teams_own


def _build(site: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@contextmanager
def _served(folder: Path) -> Iterator[str]:
    """The built site over HTTP on loopback, as a reader's browser gets it."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _nav_pages(nav: list[dict[str, object]]) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        (target,) = entry.values()
        pages += _nav_pages(target) if isinstance(target, list) else [str(target)]
    return pages


def test_every_page_builds_strictly_and_reads_cleanly_in_a_browser(tmp_path: Path) -> None:
    """Each page of the nav opens in chromium with no console error, no broken internal
    link or image, and no raw Jinja in its prose (code may quote templates). A screenshot
    of each page is kept (GROUNDWORK_ARTIFACTS, which `.ci/run` sets, or the test's
    folder)."""
    site = tmp_path / "site"
    _build(site)
    pages = _nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    artifacts = Path(os.environ.get("GROUNDWORK_ARTIFACTS", tmp_path)) / "docs-screenshots"
    with _served(site) as base:
        urls = [f"{base}/" + page.removesuffix(".md").removesuffix("index") + "/" for page in pages]
        urls = [url.replace("//", "/").replace("http:/", "http://") for url in urls]
        visited = browser.visit(urls, artifacts)
    assert len(visited) == len(pages) >= 5
    for page in visited:
        assert page.errors == [], f"{page.url}: {page.errors}"
        # Code may quote templates (copier.yml's migrations); prose never shows Jinja.
        # `${{ }}` is GitHub Actions' own syntax, which the security notes name on purpose.
        prose = page.prose.replace("${{", "")
        assert "{{" not in prose and "{%" not in prose, f"{page.url}: raw Jinja in the text"
        broken = [image for image in page.images if not image["naturalWidth"]]
        assert broken == [], f"{page.url}: images that did not load: {broken}"
        for link in page.links:
            parts = urllib.parse.urlsplit(link)
            if not link.startswith(base):
                continue
            target = site / urllib.parse.unquote(parts.path).lstrip("/")
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{page.url}: broken link {link}"
    assert len(list(artifacts.glob("*.png"))) >= len(pages)
    questionnaire = next(page for page in visited if "/questionnaire/" in page.url)
    assert "Binary classification — yes/no outcome, such as churn (binary)" in questionnaire.text


def _docs_script(name: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """One of docs/'s generators, run as a maintainer runs it."""
    return subprocess.run(
        [sys.executable, f"docs/{name}", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def test_lifecycle_pages_are_what_the_default_project_says() -> None:
    """docs/lifecycle/ is cut from a fresh render's README and runbook: it cannot drift."""
    result = _docs_script("gen_lifecycle.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    own_data = (ROOT / "docs" / "lifecycle" / "own-data.md").read_text()
    assert "sample = false" in own_data and "draft-contract" in own_data


def test_questionnaire_reference_is_generated_from_copier_yml() -> None:
    result = _docs_script("gen_questionnaire.py", "--check")
    assert result.returncode == 0, result.stdout
    reference = (ROOT / "docs" / "questionnaire.md").read_text()
    for question in ("success_threshold", "serving_mode", "personal_data_columns"):
        assert f"`{question}`" in reference


def test_the_reference_shows_the_answers_copier_gives_the_default_project(
    tmp_path: Path,
) -> None:
    """The reference's "In the default project" values are what `copier copy --defaults`
    records, and its help reads as rendered text."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from gen_questionnaire import default_answers
    finally:
        sys.path.remove(str(ROOT / "docs"))
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    expected = default_answers(questions)
    project = render(tmp_path / "project")
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    asked = {name: value for name, value in recorded.items() if not name.startswith("_")}
    assert len(asked) > 30
    for name, value in asked.items():
        assert expected[name] == value, f"{name}: reference {expected[name]!r}, Copier {value!r}"
    reference = (ROOT / "docs" / "questionnaire.md").read_text()
    assert "{{" not in reference and "{%" not in reference
    assert "Which value of roc_auc is good enough to ship?" in reference


@pytest.mark.slow
def test_the_tour_pictures_come_from_a_real_run_of_the_default_project(tmp_path: Path) -> None:
    """docs/gen_tour.py renders the default project, runs it with its own make targets
    and screenshots its reports; the site's tour shows those pictures."""
    result = _docs_script("gen_tour.py", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for picture in ("evaluation.png", "monitoring.png"):
        made = tmp_path / picture
        assert made.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", picture
        assert made.stat().st_size > 20_000, f"{picture} looks blank"
        assert (ROOT / "docs" / "tour" / picture).is_file(), f"docs/tour/{picture} is missing"
    tour = (ROOT / "docs" / "tour.md").read_text()
    assert "](tour/evaluation.png)" in tour and "](tour/monitoring.png)" in tour


# Modules that only some answers get, and when (docs/generated-project.md: "Modules
# for a serving mode, registry or scoring engine you did not choose are not generated").
ONLY_WHEN = {
    **{f"{module}.py": ("serving_mode", {"online", "both"}) for module in ONLINE_MODULES},
    **{f"{module}.py": ("serving_mode", {"batch", "both"}) for module in BATCH_MODULES},
    "serving/spark_batch.py": ("scoring_engine", {"spark"}),
    "scripts/spark_predict.py": ("scoring_engine", {"spark"}),
    "registry/mlflow_registry.py": ("tracking", {"mlflow"}),
    "registry/local_registry.py": ("tracking", {"none"}),
}  # fmt: skip


def test_every_module_and_target_the_tour_names_is_generated(tmp_path: Path) -> None:
    """docs/generated-project.md's table of modules and make targets matches renders:
    every module it names is generated for the answers that need it and for no other,
    every module a render has is in the table, and every target it names exists."""
    text = (ROOT / "docs" / "generated-project.md").read_text()
    table = text.split("| step | module | make target |")[1].split("\n\n")[0]
    answers = [
        {"serving_mode": "batch", "tracking": "mlflow", "scoring_engine": "pandas"},
        {"serving_mode": "both", "tracking": "mlflow", "scoring_engine": "spark"},
        {"serving_mode": "online", "tracking": "none"},
    ]
    renders = [render(tmp_path / str(i), **given) for i, given in enumerate(answers)]
    recorded = [answers_of(project) for project in renders]
    named = set(re.findall(r"`([\w/]+\.py)`", table))
    assert len(named) > 40
    assert all(key in named or Path(key).name in named for key in ONLY_WHEN)
    # The table names a module by its path in the package, or by its file name inside
    # the `registry/` row; scripts/ is the project's own folder.
    for project, given in zip(renders, recorded, strict=True):
        package = project / "src" / "customer_churn"
        modules = {
            str(path.relative_to(package))
            for path in package.rglob("*.py")
            if path.name != "__init__.py"
        }
        for module in modules:
            assert module in named or Path(module).name in named, (
                f"{module} is generated but the table does not name it"
            )
        modules |= {f"scripts/{path.name}" for path in (project / "scripts").glob("*.py")}
        for module in sorted(named):
            found = module in modules or any(Path(m).name == module for m in modules)
            conditions = [
                when for key, when in ONLY_WHEN.items() if module in (key, Path(key).name)
            ]
            question, values = conditions[0] if conditions else (None, set())
            wanted = question is None or given.get(question) in values
            when = f"with {question}={given.get(question)}" if question else "in every render"
            assert found == wanted, f"{module} should {'' if wanted else 'not '}be generated {when}"
    makefiles = "\n".join((project / "Makefile").read_text() for project in renders)
    targets = set(re.findall(r"`make ([a-z-]+)", table))
    assert len(targets) > 10
    for target in sorted(targets):
        assert re.search(rf"^{target}:", makefiles, re.MULTILINE), f"no make target {target}"


# The tour's words for each alert rule.
ALERTS_NAMED = {
    "ModelDriftDetected": "drift",
    "LiveDataBreaksContract": "contract violations",
    "ModelStale": "stale model",
    "MonitoringNotRunning": "monitoring not running",
    "LatencyAboveBudget": "latency over budget",
    "HighErrorRate": "error rate",
    "HighValidationFailureRate": "validation failures",
    "PredictionLogFailing": "prediction log failing",
    "UnstableScores": "unstable scores",
    "NoPredictions": "no predictions",
    "CanarySlowerThanChampion": "canary slower than the champion",
    "CanaryFailing": "canary failing",
    "ShadowFailing": "shadow failing",
    "NewChampionNotServed": "new champion not served",
}


def test_the_alert_rules_the_tour_lists_are_the_ones_generated(tmp_path: Path) -> None:
    """docs/generated-project.md names every alert rule of a render, and says which
    ones only a project with a service gets."""
    text = " ".join((ROOT / "docs" / "generated-project.md").read_text().split())
    listed = text.split("the alert rules (every project: ")[1].split(") and")[0]
    every, service = listed.split("; with a service also: ")
    for mode, expected_words in [("batch", every), ("online", f"{every}, {service}")]:
        rules = yaml.safe_load(
            (render(tmp_path / mode, serving_mode=mode) / "monitoring/alerts.yml").read_text()
        )
        alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
        assert set(ALERTS_NAMED) >= alerts, alerts - set(ALERTS_NAMED)
        words = {word.strip() for word in expected_words.split(",")}
        assert {ALERTS_NAMED[alert] for alert in alerts} == words, mode


# Paths the docs name that a render only has after a command the matrix checks, and one
# that no longer exists on purpose.
NAMED_ELSEWHERE = {
    "reports/evaluation.html": "make evaluate (test_render_matrix reads it)",
    "reports/evaluation.json": "make evaluate (test_render_matrix reads it)",
    "onnx_model.json": "make export-model, online (generated tests/test_export.py)",
    "model.py": "the 0.2.0 layout that 0.3.0's migration moves (docs/updating.md)",
}


def test_every_path_the_docs_name_exists(tmp_path: Path) -> None:
    """Each file or folder the README and the docs site name in backticks is in a
    render, or is something a render's own docs name (the matrix checks each of those
    exists after `make all`), or is a file of this repository."""
    renders = [
        render(tmp_path / "default"),
        render(tmp_path / "online", serving_mode="online", tracking="none", ci_provider="gitlab"),
        render(tmp_path / "both", serving_mode="both", scoring_engine="spark",
               ct_promotion="pull_request", data_source="sql"),
    ]  # fmt: skip
    own_docs = ["README.md", "docs/runbook.md", "docs/charter.md", "docs/model_card.md"]
    checked_after_make_all = {
        name for project in renders for document in own_docs
        for name in named_paths((project / document).read_text())
    }  # fmt: skip
    in_renders = {
        str(path.relative_to(base)) + ("/" if path.is_dir() else "")
        for project in renders
        for base in (project, project / "src" / "customer_churn")
        for path in base.rglob("*")
        if ".git" not in path.parts
    }
    names_in_renders = {Path(name).name for name in in_renders}
    pages = ["README.md", *(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.md"))]
    for page in pages:
        for name in named_paths((ROOT / page).read_text()):
            found = (
                name in in_renders
                or ("/" not in name.rstrip("/") and name.rstrip("/") in names_in_renders)
                or name in checked_after_make_all
                or teams_own(name)
                or any(later.startswith(name) for later in checked_after_make_all)
                or name in NAMED_ELSEWHERE
                or (ROOT / name).exists()
            )
            assert found, f"{page} names `{name}`, which neither a render nor this repository has"

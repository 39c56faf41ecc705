"""The update lifecycle on real releases: two tagged versions of the template in a
temporary repository, projects copied at the old one, edited, committed, and updated
with the generated project's own `make template-update`; then the standard check and
the fleet view."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .helpers import ROOT, answers_of, load_script, render, run

OLD, NEW = "0.1.0", "0.2.0"
OWNED_MARKER = "# 0.2.0: a template-owned change"
USER_MARKER = "0.2.0: a change to a user-owned file"
SHARED_MARKER = "# 0.2.0: a change to a shared module"
FLEET = ROOT / "tools" / "fleet.py"
# A line of one file of each kind (docs/updating.md), which 0.2.0 changes: file -> (the
# line, the kind).
FIRST_LINES = {
    "src/{{package_name}}/model/gate.py": (
        '"""The quality gate: the rules a model must pass',
        "template-owned",
    ),
    "src/{{package_name}}/model/estimators.py": (
        '"""The baseline and the candidate model, each one',
        "user-owned",
    ),
    "src/{{package_name}}/model/evaluate.py": ('"""Holdout evaluation, shared by', "shared"),
}
CHANGELOG = f"""# Changelog

## {NEW}

The synthetic release.

### Upgrading

- Run `make data` again: the sample gained a column.

## {OLD}

The first release.
"""


def _git(folder: Path, *args: str) -> str:
    return run(["git", *args], folder).stdout


def _commit(folder: Path, message: str) -> None:
    _git(folder, "add", "--all")
    _git(folder, "commit", "--quiet", "--message", message)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _release_two(template: Path) -> None:
    """0.2.0 changes each kind of file, renames a file and a question, with migrations."""
    jinja = template / "template"
    with (jinja / "Dockerfile.jinja").open("a") as dockerfile:
        dockerfile.write(OWNED_MARKER + "\n")
    with (jinja / "docs/charter.md.jinja").open("a") as charter:
        charter.write(f"\n{USER_MARKER}\n")
    with (jinja / "src/{{package_name}}/model/features.py").open("a") as features:
        features.write(f"# {USER_MARKER}\n")
    with (jinja / "src/{{package_name}}/model/train.py.jinja").open("a") as train:
        train.write("\n\n" + SHARED_MARKER + "\n")  # formatted, as a release is
    for file, (line, _) in FIRST_LINES.items():  # one line of each kind of file
        _replace(jinja / file, line, line.replace('"""', '"""(0.2) ', 1))
    (jinja / "docs/groundwork-changelog.md").unlink()  # a copy of the real one
    (jinja / "docs/groundwork-changelog.md").write_text(CHANGELOG)
    (jinja / "docs/operations").mkdir()
    (jinja / "docs/runbook.md.jinja").rename(jinja / "docs/operations/runbook.md.jinja")
    for path in [template / "copier.yml", *jinja.rglob("*")]:
        if path.is_file() and "monitoring_schedule" in path.read_text():
            _replace(path, "monitoring_schedule", "monitor_cron")
    copier_yml = template / "copier.yml"
    _replace(copier_yml, "  - docs/runbook.md\n", "  - docs/operations/runbook.md\n")
    migrate = '["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrate.py", '
    _replace(
        copier_yml,
        "_migrations:\n",
        "_migrations:\n"
        f'  - version: "{NEW}"\n'
        f'    command: {migrate}"rename-answer", "monitoring_schedule", "monitor_cron"]\n'
        "    when: \"{{ _stage == 'before' }}\"\n"
        f'  - version: "{NEW}"\n'
        f'    command: {migrate}"move", "docs/runbook.md", "docs/operations/runbook.md"]\n'
        "    when: \"{{ _stage == 'before' }}\"\n",
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template repository with the releases 0.1.0 (this tree) and 0.2.0."""
    folder = tmp_path_factory.mktemp("releases") / "groundwork"
    # Byte-code caches are not part of a release (and other tests may be writing them).
    no_caches = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "template", folder / "template", ignore=no_caches)
    shutil.copytree(ROOT / "hooks", folder / "hooks", ignore=no_caches)
    shutil.copytree(ROOT / "includes", folder / "includes", ignore=no_caches)
    shutil.copy(ROOT / "copier.yml", folder / "copier.yml")
    _git(folder.parent, "init", "--quiet", "--initial-branch=main", str(folder))
    _commit(folder, "release 0.1.0")
    _git(folder, "tag", OLD)
    _release_two(folder)
    _commit(folder, "release 0.2.0")
    _git(folder, "tag", NEW)
    return folder


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Callable[..., Path]:
    """A project copied at 0.1.0 (or `version`), under git with a first commit."""

    def copy(version: str = OLD, name: str = "project", **answers: str) -> Path:
        destination = tmp_path / name
        command = [sys.executable, "-m", "copier", "copy", "--defaults", "--skip-tasks",
                   "--vcs-ref", version, str(template), str(destination)]  # fmt: skip
        for key, value in answers.items():
            command += ["--data", f"{key}={value}"]
        run(command, tmp_path)
        _git(destination, "init", "--quiet", "--initial-branch=main")
        _commit(destination, "generated")
        return destination

    return copy


def _update(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(["make", "template-update", *args], project, check=False)


@pytest.mark.slow
def test_update_keeps_every_user_edit_and_brings_the_template_in(
    project: Callable[..., Path],
) -> None:
    repo = project(monitoring_schedule="15 4 * * *")
    package = "customer_churn"
    with (repo / f"src/{package}/model/features.py").open("a") as features:
        features.write("# the team's feature idea\n")
    charter = repo / "docs/charter.md"
    _replace(charter, "TODO — who needs to understand", "EUR 40k a month — who needs")
    with (repo / "docs/runbook.md").open("a") as runbook:
        runbook.write("\nCall Dana before any rollback.\n")
    # A project from before [shadow] existed: a release alone adds no section to it.
    settings = repo / "config/settings.toml"
    text = settings.read_text()
    shadow = text[text.index("[shadow]\n") : text.index("[monitoring]\n")]
    settings.write_text(text.replace(shadow, ""))
    _commit(repo, "team edits")
    behind = run(["make", "template-standard"], repo, check=False)
    assert behind.returncode != 0 and "a newer template release exists" in behind.stderr

    preview = _update(repo, "DRY_RUN=1")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert f"Template releases after {OLD}, up to {NEW}:" in preview.stdout
    assert f"## {NEW}\n\nThe synthetic release." in preview.stdout
    assert "The first release." not in preview.stdout  # already had it
    assert _git(repo, "status", "--porcelain") == ""

    result = _update(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Upgrading to {NEW}:\n- Run `make data` again" in result.stdout
    assert "[shadow]" not in settings.read_text() and "added [" not in result.stdout
    assert SHARED_MARKER in (repo / f"src/{package}/model/train.py").read_text()
    features = (repo / f"src/{package}/model/features.py").read_text()
    assert "the team's feature idea" in features and USER_MARKER not in features
    charter = (repo / "docs/charter.md").read_text()
    assert "EUR 40k a month" in charter and USER_MARKER not in charter
    assert OWNED_MARKER in (repo / "Dockerfile").read_text()
    # The renamed file carries the team's edit (migration), the old path is gone.
    assert "Call Dana" in (repo / "docs/operations/runbook.md").read_text()
    assert not (repo / "docs/runbook.md").exists()
    # The renamed question kept its answer (migration) and feeds the new template.
    answers = answers_of(repo)
    assert answers["_commit"] == NEW
    assert answers["monitor_cron"] == "15 4 * * *" and "monitoring_schedule" not in answers
    assert 'cron: "15 4 * * *"' in (repo / ".github/workflows/monitor.yml").read_text()
    _commit(repo, "template 0.2.0")

    again = _update(repo)
    assert again.returncode == 0 and "Already up to date" in again.stdout
    assert _git(repo, "status", "--porcelain") == ""
    standard = run(["make", "template-standard"], repo, check=False)
    assert standard.returncode == 0, standard.stdout + standard.stderr
    assert "conformant: 9/9 checks pass" in standard.stdout


def _ownership_rows() -> dict[str, str]:
    """docs/updating.md's ownership table: kind -> what it says `copier update` does."""
    rows = {}
    for line in (ROOT / "docs/updating.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("**"):
            rows[cells[0].strip("*")] = cells[2]
    return rows


@pytest.mark.slow
def test_each_kind_of_file_updates_as_the_docs_say(project: Callable[..., Path]) -> None:
    """The team edits the very line 0.2.0 changes in a file of each kind; the update
    does what docs/updating.md's table says for that kind, and the standard follows."""
    rows = _ownership_rows()
    assert set(rows) == {"user-owned", "template-owned", "shared"}
    assert rows["user-owned"].startswith("never written again")
    assert rows["template-owned"].startswith(
        "the new version is merged with the file (an "
        "edit on lines the release changed becomes "
        "conflict markers); the standard (`owned`) fails"
    )
    assert "an edit on lines the release changed becomes conflict markers" in rows["shared"]
    repo = project()
    package = answers_of(repo)["package_name"]
    for file, (line, _) in FIRST_LINES.items():
        _replace(repo / file.replace("{{package_name}}", package), line,
                 line.replace('"""', '"""Ours: ', 1))  # fmt: skip
    _commit(repo, "the team edits one line of each kind of file")

    result = _update(repo)
    assert "template-update: status 1" in result.stderr, result.stdout + result.stderr
    for file, (_, kind) in FIRST_LINES.items():
        relative = file.replace("{{package_name}}", package)
        text = (repo / relative).read_text()
        conflicted = f"{relative}: conflict markers" in result.stdout
        if kind == "user-owned":  # never written again: the team's line, no markers
            assert not conflicted and "<<<<<<<" not in text and '"""(0.2)' not in text
            assert '"""Ours: ' in text, relative
        else:  # merged; the overlapping edit is conflict markers holding both lines
            assert conflicted, (relative, result.stdout)
            assert '"""Ours: ' in text and '"""(0.2) ' in text
    # Resolved by taking the release's lines: a decision module must be the release's.
    gate = next(f for f, (_, kind) in FIRST_LINES.items() if kind == "template-owned")
    gate = gate.replace("{{package_name}}", package)
    evaluate = repo / f"src/{package}/model/evaluate.py"
    for path in (repo / gate, evaluate):
        path.write_text(_resolve(path.read_text(), keep="after updating"))
    assert _conformance(repo).get("owned") is None
    _replace(repo / gate, '"""(0.2) ', '"""Ours: ')
    assert _conformance(repo)["owned"] == [f"{gate} was edited; move the change to an "
                                           "extension point"]  # fmt: skip


def _resolve(text: str, keep: str) -> str:
    """Conflict markers resolved: "after updating" keeps the release's side, else ours."""
    out, side = [], None
    for line in text.splitlines(keepends=True):
        if line.startswith("<<<<<<< "):
            side = "ours"
        elif line.startswith("||||||| ") and side == "ours":
            side = "base"
        elif line.startswith("=======") and side in ("ours", "base"):
            side = "theirs"
        elif line.startswith(">>>>>>> "):
            side = None
        elif side is None or (side != "base" and (side == "theirs") == (keep == "after updating")):
            out.append(line)
    return "".join(out)


@pytest.mark.slow
def test_edit_to_a_template_owned_file_surfaces_as_a_conflict(
    project: Callable[..., Path],
) -> None:
    repo = project()
    with (repo / "Dockerfile").open("a") as dockerfile:
        dockerfile.write("# the team's tweak\n")
    _commit(repo, "edit a template-owned file")
    head = _git(repo, "rev-parse", "HEAD")
    conformance = run(["make", "template-standard"], repo, check=False)
    assert "Dockerfile was edited" in conformance.stdout

    result = _update(repo)
    assert result.returncode != 0
    assert "Dockerfile: conflict markers" in result.stdout
    assert _git(repo, "rev-parse", "HEAD") == head  # nothing was committed
    assert "<<<<<<<" in (repo / "Dockerfile").read_text()


@pytest.mark.slow
def test_deleted_and_changed_answers(project: Callable[..., Path]) -> None:
    repo = project()
    (repo / ".dockerignore").unlink()  # template-owned
    (repo / "docs/model_card.md").unlink()  # user-owned
    settings = (repo / "config/settings.toml").read_text()
    _commit(repo, "delete two files")
    tooling = ["uv", "run", "--no-project", "--with", "copier>=9.19", "--with", "pyyaml>=6"]
    command = [*tooling, "python", "scripts/template_update.py",
               "--data", "retrain_schedule=0 4 * * 2"]  # fmt: skip
    result = run(command, repo, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # A changed answer reaches template-owned files; user-owned ones stay the team's.
    assert answers_of(repo)["retrain_schedule"] == "0 4 * * 2"
    assert 'cron: "0 4 * * 2"' in (repo / ".github/workflows/ct.yml").read_text()
    assert (repo / "config/settings.toml").read_text() == settings
    # Deleted files come back, visibly: copier alone would leave a template-owned file
    # deleted; the wrapper restores it and says so. A deleted user-owned file is
    # copied afresh and shows as new in `git status` for the team to decide.
    assert "restored .dockerignore: a template-owned file was missing" in result.stdout
    assert (repo / ".dockerignore").exists()
    assert "?? docs/model_card.md" in _git(repo, "status", "--porcelain")
    _commit(repo, "template 0.2.0")
    standard = run(["make", "template-standard"], repo, check=False)
    assert standard.returncode == 0, standard.stdout + standard.stderr


def test_a_deleted_template_owned_file_fails_the_standard(project: Callable[..., Path]) -> None:
    repo = project(NEW)
    (repo / ".dockerignore").unlink()
    assert _conformance(repo) == {"owned": [".dockerignore was deleted"]}


@pytest.mark.slow
def test_ci_judges_by_the_releases_checker_not_the_repositorys(
    project: Callable[..., Path],
) -> None:
    """A replaced scripts/conformance.py that always says "conformant" fools nobody:
    `make template-standard` (the CI job) renders the recorded release's checker."""
    repo = project(NEW)
    (repo / "scripts/conformance.py").write_text(
        "import sys\n\nprint('conformant: 9/9 checks pass')\nsys.exit(0)\n"
    )
    _replace(repo / "config/settings.toml", 'direction = "maximize"', 'direction = "minimize"')
    _commit(repo, "a friendlier checker")
    standard = run(["make", "template-standard"], repo, check=False)
    assert standard.returncode != 0
    assert "scripts/conformance.py was edited" in standard.stdout
    assert "direction must be maximize" in standard.stdout


def _ci_standard_step(repo: Path) -> str:
    """The shell of the CI step that runs the standard, as the workflow has it."""
    workflow = yaml.safe_load((repo / ".github/workflows/ci.yml").read_text())
    steps = workflow["jobs"]["template-standard"]["steps"]
    script: str = next(step["run"] for step in steps if "GROUNDWORK_STANDARD_URL" in str(step))
    return script


@pytest.mark.slow
def test_ci_judges_by_the_platforms_source_not_the_projects(
    project: Callable[..., Path], template: Path, tmp_path: Path
) -> None:
    """A fork whose checker always passes, recorded as the project's `_src_path`, fools
    `make template-standard`; CI's step, given the platform's source, is not fooled."""
    fork = tmp_path / "fork"
    _git(tmp_path, "clone", "--quiet", str(template), str(fork))
    always = "import sys\n\nprint('conformant: 9/9 checks pass')\nsys.exit(0)\n"
    (fork / "template/scripts/conformance.py").write_text(always)
    _commit(fork, "a friendlier checker")
    _git(fork, "tag", "--force", NEW)
    repo = project(NEW)
    _replace(repo / ".copier-answers.yml", f"_src_path: {template}", f"_src_path: {fork}")
    (repo / "scripts/conformance.py").write_text(always)
    _replace(repo / "config/settings.toml", "threshold = 0.75", "threshold = 0.5")
    _commit(repo, "judged by our own fork")
    fooled = run(["make", "template-standard"], repo, check=False)
    assert fooled.returncode == 0 and "conformant: 9/9" in fooled.stdout  # the trick works

    step = _ci_standard_step(repo)
    environment = {**os.environ, "GROUNDWORK_STANDARD_URL": str(template)}
    judged = subprocess.run(["bash", "-ec", step], cwd=repo, env=environment, text=True,
                            capture_output=True, check=False)  # fmt: skip
    assert judged.returncode == 1, judged.stdout + judged.stderr
    assert f"judged by the platform's source {template} (at {NEW})" in judged.stdout
    assert "scripts/conformance.py was edited" in judged.stdout
    assert "[gate] threshold 0.5 is outside (0.5, 1.0]" in judged.stdout
    # Without the platform's source, the step says who judged and that it could be chosen.
    unset = {key: value for key, value in environment.items() if key != "GROUNDWORK_STANDARD_URL"}
    local = subprocess.run(["bash", "-ec", step], cwd=repo, env=unset, text=True,
                           capture_output=True, check=False)  # fmt: skip
    assert "GROUNDWORK_STANDARD_URL is not set" in local.stdout


def test_the_platform_source_reports_a_project_behind(
    project: Callable[..., Path], template: Path
) -> None:
    """Judged by the platform's source, an older recorded release is reported."""
    repo = project(OLD)
    result = run([sys.executable, "scripts/conformance.py", "--json", "--source",
                  str(template)], repo, check=False)  # fmt: skip
    report = json.loads(result.stdout)
    assert report["judged_by"] == f"judged by the platform's source {template} (at {OLD})"
    answers = next(check for check in report["checks"] if check["name"] == "answers")
    assert answers["problems"] == [f"behind: the platform's newest release is {NEW}, this "
                                   f"project records {OLD}; run make template-update"]  # fmt: skip
    assert result.returncode == 1


def _merged_step(repo: Path, provider: str) -> str:
    """CI's first check, which must run before make parses anything."""
    if provider == "gitlab":
        gitlab = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
        script: str = next(s for s in gitlab[".python"]["before_script"] if "<<<<<<<" in s)
        return script
    workflow = yaml.safe_load((repo / ".github/workflows/ci.yml").read_text())
    steps = workflow["jobs"]["checks"]["steps"]
    first = next(n for n, step in enumerate(steps) if "run" in step)
    assert steps[first].get("name") == "merged", "the merged check must be the first to run"
    run_block: str = steps[first]["run"]
    return run_block


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_ci_names_conflicts_before_make_reads_the_makefile(
    project: Callable[..., Path], provider: str
) -> None:
    """What Renovate's raw `copier update` can leave: CI's first step lists it, instead
    of make failing on a Makefile it cannot parse."""
    repo = project(NEW, ci_provider=provider)
    step = _merged_step(repo, provider)
    clean = subprocess.run(["sh", "-ec", step], cwd=repo, text=True, capture_output=True,
                           check=False)  # fmt: skip
    assert clean.returncode == 0 and clean.stdout == "", clean.stdout + clean.stderr
    makefile = repo / "Makefile"
    lines = makefile.read_text().splitlines(keepends=True)
    lines[4:4] = ["<<<<<<< before updating\n", "RUN := uv run\n", "=======\n",
                  "RUN := uv run --frozen\n", ">>>>>>> after updating\n"]  # fmt: skip
    makefile.write_text("".join(lines))
    (repo / "pyproject.toml.rej").write_text("@@ a rejected hunk\n")
    _commit(repo, "what a raw update left")
    parsed = run(["make", "help"], repo, check=False)
    assert parsed.returncode != 0 and "missing separator" in parsed.stderr  # make's words
    result = subprocess.run(["sh", "-ec", step], cwd=repo, text=True, capture_output=True,
                            check=False)  # fmt: skip
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "merged: an update left work to resolve; resolve each, run the tests, commit:",
        "  - Makefile: conflict markers at line(s) 5",
        "  - pyproject.toml.rej: rejected hunks from the update",
    ]
    # The standard's merged check names the same lines.
    assert "Makefile: conflict markers at line(s) 5" in _conformance(repo)["merged"]


def _conformance(repo: Path) -> dict[str, list[str]]:
    result = run([sys.executable, "scripts/conformance.py", "--json"], repo, check=False)
    report = json.loads(result.stdout)
    assert (result.returncode == 0) == report["conformant"]
    return {check["name"]: check["problems"] for check in report["checks"] if not check["passed"]}


def test_conformance_fails_each_rule_and_passes_a_fresh_repo(
    project: Callable[..., Path],
) -> None:
    repo = project(NEW)
    assert _conformance(repo) == {}

    _replace(repo / "docs/charter.md", "| Threshold | `0.75` |", "| Threshold | TODO |")
    assert _conformance(repo) == {"charter": ["docs/charter.md: `Threshold` is still TODO"]}
    _git(repo, "checkout", "--", ".")

    _replace(repo / "config/settings.toml", "threshold = 0.75", "threshold = 0.75\nskip = true")
    assert "[gate] has unknown keys ['skip']" in _conformance(repo)["gate"][0]
    _git(repo, "checkout", "--", ".")

    _replace(repo / "config/settings.toml", 'promotion = "automatic"', 'promotion = "pull_request"')
    assert _conformance(repo) == {
        "promotion": ['[registry] promotion is "pull_request" but the workflows were '
                      'generated for "automatic" (ct_promotion): set one to match the other']
    }  # fmt: skip
    _git(repo, "checkout", "--", ".")

    with (repo / "Makefile").open("a") as makefile:
        makefile.write("\nmine:\n\techo mine\n")
    assert _conformance(repo) == {
        "owned": ["Makefile was edited; move the change to an extension point"]
    }
    _git(repo, "checkout", "--", ".")
    (repo / "Makefile.local").write_text("mine:\n\techo mine\n")  # the extension point
    assert _conformance(repo) == {}

    # Ways to fool the standard, each caught.
    for old, new, problem in [
        ("threshold = 0.75", "threshold = 0.5", "[gate] threshold 0.5 is outside (0.5, 1.0]"),
        ("threshold = 0.75", "threshold = -1", "[gate] threshold -1 is outside (0.5, 1.0]"),
        ('direction = "maximize"', 'direction = "minimize"', "direction must be maximize"),
        ('metric = "roc_auc"', 'metric = "accuracy"', "docs/charter.md promises 'roc_auc'"),
    ]:
        _replace(repo / "config/settings.toml", old, new)
        assert any(problem in line for line in _conformance(repo)["gate"]), problem
        _git(repo, "checkout", "--", ".")
    (repo / "Makefile.local").write_text("train:\n\t-uv run groundwork-train || true\n")
    assert _conformance(repo) == {
        "owned": ["Makefile.local (line 2) redefines `train`, a target of the Makefile: "
                  "give yours a new name"]
    }  # fmt: skip
    (repo / "Makefile.local").unlink()
    # Answers and user-owned files that no longer agree (an answer changed by an update).
    _replace(
        repo / "config/settings.toml", 'problem_type = "binary"', 'problem_type = "regression"'
    )
    _replace(repo / "config/contract.yaml", 'target: "churned"', "target: cancelled")
    assert _conformance(repo) == {
        "agree": [
            "config/settings.toml [project] problem_type is 'regression' but the answers "
            "say 'binary' (problem_type): "
            'change the answer (make template-update SET="problem_type=...") or the file to '
            "match",
            "config/contract.yaml's target is 'cancelled' but the answers say 'churned' "
            '(target_column): change the answer (make template-update SET="target_column=...") '
            "or the file to match",
        ]
    }
    _git(repo, "checkout", "--", ".")
    # A package renamed by hand: later updates would miss it.
    package = answers_of(repo)["package_name"]
    (repo / "src" / package).rename(repo / "src" / "renamed_by_hand")
    agree = _conformance(repo)["agree"]
    assert agree[0].startswith(f"src/{package}/ is missing but the answers say package_name")
    assert "make rename-package NEW=<name>" in agree[0]
    (repo / "src" / "renamed_by_hand").rename(repo / "src" / package)
    # What Renovate's raw `copier update` can leave behind: the standard stops it.
    with (repo / "README.md").open("a") as readme:
        readme.write("<<<<<<< before updating\nours\n=======\ntheirs\n>>>>>>> after updating\n")
    (repo / "pyproject.toml.rej").write_text("@@ a rejected hunk\n")
    merged = _conformance(repo)["merged"]
    assert any(line.startswith("README.md: conflict markers at line(s)") for line in merged)
    assert "pyproject.toml.rej: rejected hunks from the update" in merged
    (repo / "pyproject.toml.rej").unlink()
    _git(repo, "checkout", "--", ".")
    (repo / "tests/test_gate.py").unlink()
    assert _conformance(repo) == {"owned": ["tests/test_gate.py was deleted"]}
    _git(repo, "checkout", "--", ".")

    _replace(repo / ".copier-answers.yml", "drift_psi_limit: 0.2", "drift_psi_limit: 0")
    failures = _conformance(repo)
    assert "'drift_psi_limit': must be in (0, 5]" in failures["answers"][0]


# Ways a team (or a tired engineer) could switch the standard off without touching a
# template-owned file, and the problem the standard then names. `{package}` is filled in.
TRICKS: list[tuple[str, str, str, str]] = [
    # (file, old text or "" to write the file, new text, problem named)
    ("Makefile.local", "", "RUN := true\nTEMPLATE_PY := true\n",
     "Makefile.local line 1 sets `RUN`, which the Makefile's targets (or make itself) rely on"),
    ("Makefile.local", "", "T := train\n$(T):\n\techo fooled\n",
     "Makefile.local (line 3) redefines `train`, a target of the Makefile"),
    ("Makefile.local", "", "override CLI = true\n", "Makefile.local line 1 sets `CLI`"),
    ("Makefile.local", "", "SHELL := /bin/true\n", "Makefile.local line 1 sets `SHELL`"),
    ("Makefile.local", "", "MAKEFLAGS += -i\n", "Makefile.local adds make options ['i']"),
    ("Makefile.local", "", "X := .IGNORE\n$(X):\n", "Makefile.local declares `.IGNORE`"),
    ("Makefile.local", "", "export PYTEST_ADDOPTS := -k nothing\n",
     "Makefile.local line 1 sets `PYTEST_ADDOPTS`, which changes what the tools CI runs do"),
    ("Makefile.local", "", "test: skip-it\nskip-it:\n\ttrue\n",
     "Makefile.local adds prerequisites ['skip-it'] to `test`"),
    ("Makefile.local", "", "train\n", "make cannot parse the Makefile: Makefile.local:1: ***"),
    ("config/settings.toml", "threshold = 0.75", "threshold = 1.0",
     "[gate] threshold 1.0 asks for a perfect roc_auc"),
    ("config/settings.toml", "threshold = 0.75", "threshold = 0.500001",
     "[gate] threshold 0.500001 is within 0.05 of what a trivial model reaches (0.5)"),
    ("config/settings.toml", "champion_tolerance = 0.01", "champion_tolerance = 1000000.0",
     "[gate] champion_tolerance 1000000.0 is not within less than half the range of roc_auc"),
    ("config/settings.toml", "slice_tolerance = 0.1", "slice_tolerance = 100000000.0",
     "[gate] slice_tolerance 100000000.0 is not within"),
    ("config/settings.toml", "slice_min_rows = 30", "slice_min_rows = 1000000",
     "[gate] slice_min_rows 1000000 is over 10,000"),
    ("config/settings.toml", "baseline_margin = 0.05", "baseline_margin = 0.6",
     "[gate] baseline_margin 0.6 is the whole range of roc_auc"),
    ("config/contract.yaml", "    min: 18\n    max: 100\n", "",
     "config/contract.yaml: feature `age` (int) has no min, max or allowed"),
    ("config/contract.yaml", "    allowed: [basic, standard, premium]\n", "",
     "config/contract.yaml: feature `plan` (category) has no allowed"),
    ("config/contract.yaml", "    dtype: int\n    min: 0\n    max: 50\n", "",
     "config/contract.yaml: column `support_calls` has no dtype"),
    # The code that decides a promotion is the template's, byte for byte.
    ("src/{package}/model/gate.py", "return all(check.passed for check in self.checks)",
     "return True", "src/{package}/model/gate.py was edited"),
    ("src/{package}/data/contract.py", "", "", "src/{package}/data/contract.py was deleted"),
]  # fmt: skip


def test_the_standard_sees_through_each_trick(project: Callable[..., Path]) -> None:
    repo = project(NEW)
    ignored = run(["git", "check-ignore", "--quiet", "Makefile.local"], repo, check=False)
    assert ignored.returncode == 1, "Makefile.local, the extension point, must reach git"
    package = answers_of(repo)["package_name"]
    for file, old, new, problem in TRICKS:
        path = repo / file.format(package=package)
        if old:
            _replace(path, old, new)
        elif new:
            path.write_text(new)
        else:
            path.unlink()
        problems = [line for lines in _conformance(repo).values() for line in lines]
        if not old and new:
            path.unlink()
        _git(repo, "checkout", "--", ".")
        problem = problem.format(package=package)
        assert any(problem in line for line in problems), (file, new, problems)
    # What a team may do stays conformant: a target, a variable of its own.
    (repo / "Makefile.local").write_text("MY_DATA := x\nmine: train\n\techo $(MY_DATA)\n")
    assert _conformance(repo) == {}


@pytest.mark.slow
def test_the_required_tests_run_whatever_the_project_configures(
    project: Callable[..., Path],
) -> None:
    """CI's standard runs the required tests itself and reads a junit report: options
    that skip a required file are set aside, and a hook that drops tests is seen."""
    repo = project(NEW)
    _replace(repo / "pyproject.toml", 'addopts = "-ra --strict-markers"',
             'addopts = "-ra --strict-markers --ignore=tests/test_gate.py"')  # fmt: skip
    with (repo / "tests/conftest.py").open("a") as conftest:
        conftest.write(
            "\n\ndef pytest_collection_modifyitems(config, items):\n"
            "    items[:] = [item for item in items if 'test_training' not in item.nodeid]\n"
        )
    command = [sys.executable, "scripts/conformance.py", "--json", "--run-required"]
    result = run(command, repo, check=False, timeout=1200)
    assert result.returncode == 1, result.stdout + result.stderr
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    problems = checks["required"]["problems"]
    dropped = "tests/test_training.py::test_training_promotes_a_champion_and_writes_reports"
    assert f"{dropped} did not run (deselected or ignored)" in problems
    assert all(line.startswith("tests/test_training.py::") for line in problems), problems
    # test_gate.py ran despite addopts, and passed; the hook's drop names every test.
    assert len(problems) == len(
        [line for line in (repo / "tests/test_training.py").read_text().splitlines()
         if line.startswith("def test_")]
    )  # fmt: skip


def test_fleet_reports_a_mixed_set(project: Callable[..., Path], template: Path) -> None:
    current = project(NEW, name="current")
    behind = project(OLD, name="behind")
    broken = project(NEW, name="broken")
    _replace(broken / "docs/charter.md", "| Threshold | `0.75` |", "| Threshold | TODO |")
    result = run([sys.executable, str(FLEET), "--json", str(current), str(behind), str(broken)],
                 ROOT, check=False)  # fmt: skip
    assert result.returncode == 1, result.stderr
    rows = {Path(row["path"]).name: row for row in json.loads(result.stdout)}
    assert rows["current"] | {"path": ""} == {
        "path": "", "version": NEW, "latest": NEW, "behind": 0, "conformant": True,
        "failing": [], "problems": [], "error": None, "healthy": True, "why": "",
    }  # fmt: skip
    assert (rows["behind"]["version"], rows["behind"]["behind"]) == (OLD, 1)
    assert rows["behind"]["conformant"] is True and rows["behind"]["healthy"] is False
    assert rows["behind"]["why"] == f"1 release(s) behind {NEW}"
    assert rows["broken"]["failing"] == ["charter: docs/charter.md: `Threshold` is still TODO"]
    assert rows["broken"]["problems"] == [
        {"check": "charter", "problem": "docs/charter.md: `Threshold` is still TODO"}
    ]

    text = run([sys.executable, str(FLEET), str(current), str(behind), str(broken)], ROOT,
               check=False).stdout  # fmt: skip
    assert "1/3 repositories current and conformant" in text
    assert "Threshold` is still TODO" in text
    assert "1 release(s) behind" in text

    # The fleet judges with the template's checker: a replaced one fools nobody.
    (broken / "scripts/conformance.py").write_text("print('conformant')\n")
    corrupt = project(NEW, name="corrupt")
    (corrupt / ".copier-answers.yml").write_text("_commit: [unclosed\n")
    # A copy without its git history cannot take an update: unhealthy, saying why.
    loose = current.parent / "loose"
    shutil.copytree(current, loose, ignore=shutil.ignore_patterns(".git"))
    # A remote repository (git's file:// transport, cloned shallowly to a cache) and
    # rows that cannot be read: reported next to the others, never an abort.
    remote = f"file://{current}"
    cache = {"GROUNDWORK_FLEET_CACHE": str(current.parent / "fleet-cache")}
    result = run([sys.executable, str(FLEET), "--json", str(broken), str(corrupt), remote,
                  "nowhere", "file:///no/such/repo.git", str(loose)], ROOT, check=False,
                 env=cache)  # fmt: skip
    assert result.returncode == 1, result.stderr
    rows = {Path(row["path"]).name: row for row in json.loads(result.stdout)}
    assert "owned: scripts/conformance.py was edited" in " ".join(rows["broken"]["failing"])
    assert "is not valid YAML" in rows["corrupt"]["error"]
    assert rows[current.name]["healthy"] is True, rows[current.name]
    assert rows["nowhere"]["error"] == "not a directory"
    assert rows["loose"]["healthy"] is False
    assert rows["loose"]["why"] == (
        "error: not a git repository: copier update needs one (git init, then commit)"
    )
    assert rows["repo.git"]["why"].startswith("error: cannot fetch file:///no/such/repo.git")


def test_the_ownership_docs_match_the_code() -> None:
    """docs/updating.md lists the files copier.yml and conformance.py treat as owned."""
    docs = (ROOT / "docs/updating.md").read_text()
    user_owned = yaml.safe_load((ROOT / "copier.yml").read_text())["_skip_if_exists"]
    for pattern in user_owned:
        shown = pattern.replace("{{ package_name }}", "<package>")
        assert f"`{shown}`" in docs, f"docs/updating.md does not list {shown} as user-owned"
    conformance = load_script(ROOT / "template/scripts/conformance.py")
    for pattern in conformance.TEMPLATE_OWNED:
        if pattern in (".github/workflows/*.yml", ".gitlab-ci.yml"):
            assert "the CI workflows" in docs
        else:
            shown = pattern.replace("src/*/", "src/<package>/")
            assert f"`{shown}`" in docs, f"docs/updating.md does not list {shown}"


def test_the_documented_quickstart_says_how_to_fix_its_source(tmp_path: Path) -> None:
    """`copier copy . ../project` records `_src_path: .`: the lifecycle says how to fix it."""
    destination = tmp_path / "quickstart"
    run([sys.executable, "-m", "copier", "copy", "--defaults", "--skip-tasks", "--vcs-ref",
         "HEAD", ".", str(destination)], ROOT)  # fmt: skip
    assert answers_of(destination)["_src_path"] == "."
    _git(destination, "init", "--quiet", "--initial-branch=main")
    _commit(destination, "generated the documented way")

    standard = run(["make", "template-standard"], destination, check=False)
    output = standard.stdout + standard.stderr
    assert standard.returncode != 0
    assert "`_src_path: .` is a path relative to where the project was generated" in output
    assert "set `_src_path` in .copier-answers.yml to a git URL" in output
    assert "Traceback" not in output

    update = _update(destination)
    assert update.returncode == 2
    assert "error: cannot update: `_src_path: .`" in update.stderr
    assert "Traceback" not in update.stdout + update.stderr


def _template_update(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    tooling = ["uv", "run", "--no-project", "--with", "copier>=9.19", "--with", "pyyaml>=6"]
    return run([*tooling, "python", "scripts/template_update.py", *args], repo, check=False)


@pytest.mark.slow
def test_an_answer_change_that_would_delete_team_edits_is_refused(
    project: Callable[..., Path],
) -> None:
    repo = project(NEW, serving_mode="online")
    api = repo / "src/customer_churn/serving/api.py"
    api.write_text(api.read_text() + "\nTEAM_ROUTE_NOTE = 'our canary header'\n")
    with (repo / ".github/CODEOWNERS").open("a") as owners:
        owners.write("/config/ @risk-team\n")
    _commit(repo, "team edits")
    head = _git(repo, "rev-parse", "HEAD")

    # The dry run shows what the change does and what it would lose, touching nothing.
    preview = _template_update(repo, "--dry-run", "-d", "serving_mode=batch")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "src/customer_churn/serving/batch.py" in preview.stdout
    assert "Your edits that would be lost:" in preview.stdout
    assert "src/customer_churn/serving/api.py (deleted by the update)" in preview.stdout
    # Files that are yours keep their text; the dry run shows how the template's changed.
    assert "+++ config/settings.toml (the template's new copy)" in preview.stdout
    assert "-[serving]" in preview.stdout
    assert _git(repo, "status", "--porcelain") == "" and _git(repo, "rev-parse", "HEAD") == head

    for change, lost in [
        ("serving_mode=batch", "src/customer_churn/serving/api.py (deleted by the update)"),
        ("ci_provider=gitlab", ".github/CODEOWNERS (deleted by the update): 1 of your lines"),
    ]:
        refused = _template_update(repo, "-d", change)
        assert refused.returncode == 3, refused.stdout + refused.stderr
        assert "Refused: the update would lose lines you added" in refused.stdout
        assert lost in refused.stdout
        assert _git(repo, "status", "--porcelain") == ""
        assert answers_of(repo)["serving_mode"] == "online"

    # Told to proceed, it does; the lines stay in git history.
    forced = _template_update(repo, "--allow-losses", "-d", "serving_mode=batch")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert not api.exists() and answers_of(repo)["serving_mode"] == "batch"
    assert "our canary header" in _git(repo, "show", "HEAD:src/customer_churn/serving/api.py")


def test_the_answer_change_table_lists_every_question() -> None:
    """docs/updating.md says, for each question a person is asked, what a change needs."""
    docs = (ROOT / "docs/updating.md").read_text()
    table = docs[docs.index("## Changing an answer") : docs.index("## In a generated project")]
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    asked = [name for name, spec in questions.items()
             if not name.startswith("_") and spec.get("when") is not False]  # fmt: skip
    missing = [name for name in asked if f"`{name}`" not in table]
    assert not missing, f"docs/updating.md does not say what changing {missing} needs"


def _make_green(repo: Path) -> None:
    """The project's own path and tests pass: the answer change left it consistent."""
    for target in (["setup", "all"], ["test"]):
        done = run(["make", *target], repo, check=False, timeout=1500)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.slow
def test_a_package_rename_keeps_edits_and_later_updates_reach_it(
    project: Callable[..., Path],
) -> None:
    repo = project()
    old, new = "customer_churn", "churn_core"
    # A team edit away from the next release's change (both at the end would overlap).
    _replace(repo / f"src/{old}/model/train.py", '"""Training:', '"""Ours. Training:')
    (repo / f"src/{old}/uplift.py").write_text(f"from {old}.model import train\n\nSTEP = train\n")
    (repo / "tests/test_uplift.py").write_text(
        f"from {old}.uplift import STEP\n\n\ndef test_step() -> None:\n    assert STEP\n"
    )
    _commit(repo, "team edits")

    # An update cannot rename the package: it says which command does.
    refused = _update(repo, f"SET=package_name={new}")
    assert "template-update: status 3, refused, nothing changed" in refused.stderr
    assert "make rename-package NEW=<name>" in refused.stdout
    assert _git(repo, "status", "--porcelain") == ""

    renamed = run(["make", "rename-package", f"NEW={new}"], repo, check=False)
    assert renamed.returncode == 0, renamed.stdout + renamed.stderr
    assert not (repo / f"src/{old}").exists()
    assert "Ours. Training:" in (repo / f"src/{new}/model/train.py").read_text()
    assert f"from {new}.model import train" in (repo / f"src/{new}/uplift.py").read_text()
    assert f"from {new}.uplift import STEP" in (repo / "tests/test_uplift.py").read_text()
    assert answers_of(repo)["package_name"] == new
    tracked = _git(repo, "ls-files")
    assert f"src/{old}/" not in tracked
    leftover = [
        line for line in tracked.splitlines() if old in (repo / line).read_text(errors="ignore")
    ]
    assert leftover == [], f"the old name is still in {leftover}"
    _commit(repo, "rename the package")

    # The next release's change to src/ reaches the renamed package, edits kept.
    result = _update(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    train = (repo / f"src/{new}/model/train.py").read_text()
    assert SHARED_MARKER in train and "Ours. Training:" in train
    assert not (repo / f"src/{old}").exists()
    _commit(repo, "template 0.2.0")
    assert _conformance(repo) == {}
    # Lint and type check follow every import; the team's test and the training test run.
    checked = run(["make", "setup", "lint"], repo, check=False, timeout=1500)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    tests = ["uv", "run", "pytest", "-q", "tests/test_uplift.py", "tests/test_training.py"]
    tested = run(tests, repo, check=False, timeout=1500)
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]


@pytest.mark.slow
def test_serving_batch_to_both_completes_the_team_files(project: Callable[..., Path]) -> None:
    repo = project()
    with (repo / "config/settings.toml").open("a") as settings:
        settings.write("# our note on the monitoring window\n")
    with (repo / "docs/runbook.md").open("a") as runbook:
        runbook.write("\nCall Dana before any rollback.\n")
    # A project from before [shadow] existed: a release alone adds no section to it.
    settings = repo / "config/settings.toml"
    text = settings.read_text()
    shadow = text[text.index("[shadow]\n") : text.index("[monitoring]\n")]
    settings.write_text(text.replace(shadow, ""))
    _commit(repo, "team edits")

    result = _update(repo, f"VERSION={OLD}", "SET=serving_mode=both")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "config/settings.toml: added [serving] from the template" in result.stdout
    assert "monitoring/alerts.yml: added customer_churn-service" in result.stdout
    settings = (repo / "config/settings.toml").read_text()
    assert "# our note on the monitoring window" in settings and "\n[serving]\n" in settings
    runbook = (repo / "docs/runbook.md").read_text()
    assert "Call Dana" in runbook and "### LatencyAboveBudget" in runbook
    assert (repo / "src/customer_churn/serving/api.py").exists()
    _commit(repo, "serve online too")
    assert _conformance(repo) == {}
    _make_green(repo)


@pytest.mark.slow
def test_a_problem_type_change_is_refused_with_the_list_then_applies(
    project: Callable[..., Path],
) -> None:
    repo = project()
    head = _git(repo, "rev-parse", "HEAD")
    refused = _update(repo, f"VERSION={OLD}", "SET=problem_type=regression")
    assert "template-update: status 3, refused" in refused.stderr, refused.stdout
    assert "Refused: after this update, files that are yours would disagree" in refused.stdout
    for problem in [
        "config/settings.toml [project] problem_type is 'binary' but the answers say 'regression'",
        "config/settings.toml [gate] metric is 'roc_auc'",
        "config/contract.yaml's target 'churned' (dtype 'int', allowed [0, 1]) does not fit "
        "problem_type 'regression'",
    ]:
        assert problem in refused.stdout, problem
    assert _git(repo, "status", "--porcelain") == "" and _git(repo, "rev-parse", "HEAD") == head

    # The team makes the edits the list asks for, in its own files, and runs it again.
    settings = repo / "config/settings.toml"
    _replace(settings, 'problem_type = "binary"', 'problem_type = "regression"')
    _replace(settings, 'metric = "roc_auc"', 'metric = "rmse"')
    _replace(settings, 'direction = "maximize"', 'direction = "minimize"')
    _replace(settings, "threshold = 0.75", "threshold = 20000.0")
    _replace(settings, "baseline_margin = 0.05", "baseline_margin = 100.0")
    charter = repo / "docs/charter.md"
    _replace(charter, "`roc_auc` (higher is better)", "`rmse` (lower is better)")
    _replace(charter, "| Threshold | `0.75` |", "| Threshold | `20000.0` |")
    _replace(charter, "| Margin over baseline | `0.05` |", "| Margin over baseline | `100.0` |")
    _replace(repo / "config/contract.yaml", "    dtype: int\n    allowed: [0, 1]\n",
             "    dtype: float\n    min: 0\n    max: 100000\n")  # fmt: skip
    _commit(repo, "a regression problem")
    applied = _update(
        repo,
        f"VERSION={OLD}",
        "SET=problem_type=regression success_metric=rmse success_threshold=20000.0",
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert answers_of(repo)["problem_type"] == "regression"
    _commit(repo, "template: regression")
    assert _conformance(repo) == {}
    _make_green(repo)


@pytest.mark.slow
def test_a_data_source_change_is_refused_until_the_settings_follow(
    project: Callable[..., Path],
) -> None:
    """The reader follows `[data] source`; compose.yaml and the README, the answer. An
    answer change that would leave them apart is refused, naming the setting."""
    repo = project()
    refused = _update(repo, f"VERSION={OLD}", "SET=data_source=parquet")
    assert "template-update: status 3, refused" in refused.stderr, refused.stdout
    assert ("config/settings.toml [data] source is 'csv' but the answers say 'parquet' "
            "(data_source)") in refused.stdout  # fmt: skip
    assert _git(repo, "status", "--porcelain") == ""

    settings = repo / "config/settings.toml"
    _replace(settings, 'source = "csv"', 'source = "parquet"')
    _replace(settings, 'path = "data/raw/training.csv"', 'path = "data/raw/training.parquet"')
    _replace(settings, 'scoring_path = "data/raw/scoring.csv"',
             'scoring_path = "data/raw/scoring.parquet"')  # fmt: skip
    _commit(repo, "our data is parquet now")
    assert "data_source" in " ".join(_conformance(repo)["agree"])  # apart until the answer
    applied = _update(repo, f"VERSION={OLD}", "SET=data_source=parquet")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "scoring.parquet" in (repo / "compose.yaml").read_text()
    _commit(repo, "template: parquet")
    assert _conformance(repo) == {}


def test_the_changelog_ships_and_the_update_reads_its_releases(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Projects carry the template's changelog; the update script picks the releases
    between two versions from it and their Upgrading notes."""
    project = render(tmp_path / "p")
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert (project / "docs/groundwork-changelog.md").read_text() == changelog
    monkeypatch.syspath_prepend(str(ROOT / "template/scripts"))
    update = load_script(ROOT / "template/scripts/template_update.py")
    history = "# Changelog\n\n## Unreleased\n\nNext.\n\n## 0.3.0\n\nC.\n\n## 0.2.0\n\nB.\n"
    cases = {
        ("0.1.0", "0.2.0"): ["## 0.2.0"],
        ("0.1.0", "0.3.0"): ["## 0.3.0", "## 0.2.0"],
        ("0.2.0", "0.3.0-4-g1a2b3c4"): ["## Unreleased", "## 0.3.0"],
        ("0.3.0", "0.3.0"): [],
        ("1a2b3c4", "5d6e7f8"): ["## Unreleased"],
        ("0.2.0", "0.4.0.dev0"): ["## Unreleased", "## 0.3.0"],
    }
    for (old, new), expected in cases.items():
        found = [part.splitlines()[0] for part in update.changelog_between(history, old, new)]
        assert found == expected, (old, new)
    notes = update.upgrading_notes(update.changelog_between(changelog, "0.1.0", "0.2.0")[0])
    assert notes.startswith("Upgrading to 0.2.0:\nNothing to do by hand.")

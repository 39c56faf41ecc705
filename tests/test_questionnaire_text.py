"""Free-text answers land safely: no churn text outside the sample project, unicode
names, and Markdown tables and lists that survive '|' and newlines."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .helpers import answers_of, render, run

CHURN_WORDS = re.compile(r"churn|cancel|retention|customer", re.IGNORECASE)


def _table_rows(markdown: str) -> list[list[str]]:
    """Each Markdown table row split on unescaped pipes."""
    return [
        re.split(r"(?<!\\)\|", line.strip())[1:-1]
        for line in markdown.splitlines()
        if line.strip().startswith("|")
    ]


def test_another_project_with_every_default_has_no_churn_text(tmp_path: Path) -> None:
    project = render(tmp_path / "fraud", project_name="Fraud Radar")
    charter = (project / "docs/charter.md").read_text()
    assert not CHURN_WORDS.search(charter), CHURN_WORDS.findall(charter)
    card = (project / "docs/model_card.md").read_text()
    assert not CHURN_WORDS.search(card), CHURN_WORDS.findall(card)
    assert "TODO" in charter.split("## 2.")[0]  # the problem is the team's to write
    answers = answers_of(project)
    assert answers["target_column"] == "outcome"
    assert answers["personal_data_columns"] == answers["sensitive_attributes"] == ""
    # The sample project itself keeps its worked example.
    sample = render(tmp_path / "churn")
    assert CHURN_WORDS.search((sample / "docs/charter.md").read_text())


def test_unicode_names_and_markdown_breaking_answers_render_valid_files(tmp_path: Path) -> None:
    project = render(
        tmp_path / "ventes",
        project_name="Prévision Ventes",
        owner_team="Équipe Données",
        problem_type="regression",
        business_problem="Ruptures | de stock\n# coûtent cher",
        decision="Chaque lundi | l'équipe commande\n- le stock",
        baseline="Même semaine | l'an dernier\nplus 5 %",
        target_column="plan",  # a column of the sample contract
        tracking="none",
    )
    answers = answers_of(project)
    assert answers["project_slug"] == "prevision-ventes"
    assert answers["package_name"] == "prevision_ventes"
    charter = (project / "docs/charter.md").read_text()
    widths = {len(row) for row in _table_rows(charter.split("## 3.")[0].split("## 2.")[1])}
    assert widths == {2}, _table_rows(charter)
    problem = charter.split("## 1. Problem")[1].split("## 2.")[0]
    assert "\n# " not in problem and "\n- le stock" not in problem  # no heading, no stray item
    assert "Ruptures \\| de stock" not in problem  # a list item keeps the text as typed
    assert "Ruptures | de stock # coûtent cher" in problem
    contract = yaml.safe_load((project / "config/contract.yaml").read_text())
    assert contract["target"] == "plan"
    assert list(contract["columns"]).count("plan") == 1
    assert contract["columns"]["plan"]["dtype"] == "float"  # the target, not the category
    run(["uv", "sync", "--quiet"], project)
    run(["uv", "run", "ruff", "check", "."], project)
    run(["uv", "run", "ruff", "format", "--check", "."], project)
    run(["uv", "run", "python", "-c", "import prevision_ventes.cli"], project)

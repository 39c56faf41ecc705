"""One complete questionnaire in a real terminal, with a refused answer and its re-prompt."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from wcwidth import wcswidth

from .helpers import ROOT, answers_of
from .terminal import Terminal, copier_copy
from .test_essentials import ESSENTIALS as ALL_ESSENTIALS


def _visible_questions() -> list[tuple[str, str]]:
    """(name, start of help) for each question asked with the default answers, in order."""
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    # sql, online, sensitive attributes or regression only
    hidden_by_defaults = {"sql_url", "sql_table", "latency_budget_ms", "sensitive_features",
                          "cost_of_overestimate", "cost_of_underestimate"}  # fmt: skip
    visible = []
    for name, spec in questions.items():
        if name.startswith("_") or spec.get("when") is False or name in hidden_by_defaults:
            continue
        visible.append((name, spec["help"].split("{{")[0].strip().splitlines()[0][:60]))
    return visible


def _answer_each_question(
    terminal: Terminal,
    answer: Callable[[str, str], None],
    questions: list[tuple[str, str]] | None = None,
) -> int:
    """Wait for each question (by default every one asked with the default answers), in
    order, and let `answer(name, help_start)` answer it; the questionnaire's exit status."""
    try:
        for name, help_start in _visible_questions() if questions is None else questions:
            terminal.wait_for(help_start)
            answer(name, help_start)
        return terminal.finish()
    finally:
        terminal.close()


def test_full_questionnaire_with_a_refused_answer(tmp_path: Path) -> None:
    destination = tmp_path / "fraud-radar"
    terminal = copier_copy(destination)
    typed = {"success_threshold": "0.7", "owner_team": "risk-team"}

    def answer(name: str, help_start: str) -> None:
        if name == "project_name":
            terminal.answer("1 bad name")
            terminal.wait_for("start with a letter; 3-50 chars")
            terminal.answer("Fraud Radar")
        elif name in typed:
            terminal.answer(typed[name])
        else:
            terminal.child.send("\r")  # accept the default

    status = _answer_each_question(terminal, answer)
    assert status == 0, terminal.text
    assert "Traceback" not in terminal.transcript
    answers = answers_of(destination)
    assert answers["project_name"] == "Fraud Radar"
    assert answers["project_slug"] == "fraud-radar"
    assert answers["package_name"] == "fraud_radar"
    assert answers["success_threshold"] == 0.7
    assert answers["owner_team"] == "risk-team"
    assert (destination / "src/fraud_radar/model/train.py").exists()
    charter = (destination / "docs/charter.md").read_text()
    assert "| Threshold | `0.7` |" in charter
    # Enter everywhere in another project: no churn example text, TODOs instead.
    assert not re.search(r"churn|cancel|retention|customer", charter, re.IGNORECASE)
    assert "**Business problem:** TODO" in charter


def test_every_question_reads_whole_in_an_80_column_terminal(tmp_path: Path) -> None:
    """Copier cuts a line at the terminal's edge instead of wrapping it: each question's
    help, prompt and choices must fit in 80 columns (checked on the rendered screen)."""
    terminal = copier_copy(tmp_path / "narrow", columns=80, lines=24)
    cut: dict[str, list[str]] = {}

    def answer(name: str, help_start: str) -> None:
        time.sleep(0.3)  # let the prompt finish drawing its choices
        terminal.wait_for(help_start)
        lines = terminal.text.splitlines()
        first = next(i for i, line in enumerate(lines) if help_start in line)
        # From the question down: its help, the prompt and any choices.
        too_wide = [line for line in lines[first:] if wcswidth(line) >= 80]
        if too_wide:
            cut[name] = too_wide
        if name == "project_name":
            terminal.answer("Fraud Radar")  # not the sample: the questions listed above
        else:
            terminal.child.send("\r")  # accept the default

    status = _answer_each_question(terminal, answer)
    assert status == 0, terminal.text
    assert not cut, cut


# The essentials-only path asks these with the default answers (a CSV source), no more.
ESSENTIALS = ALL_ESSENTIALS - {"sql_url", "sql_table"}


def test_the_essentials_path_asks_a_dozen_questions_and_lists_the_defaults(
    tmp_path: Path,
) -> None:
    """At 80 columns: yes to the first question, then only the essentials; the
    questionnaire ends there, and the summary names each default it took."""
    destination = tmp_path / "fraud-radar"
    terminal = copier_copy(destination, columns=80, lines=24)
    essentials = [question for question in _visible_questions() if question[0] in ESSENTIALS]
    assert [name for name, _ in essentials][:2] == ["essentials_only", "project_name"]

    def answer(name: str, help_start: str) -> None:
        if name == "essentials_only":
            terminal.child.send("y")  # a yes/no question takes one key
        elif name == "project_name":
            terminal.answer("Fraud Radar")
        else:
            terminal.child.send("\r")

    status = _answer_each_question(terminal, answer, essentials)
    assert status == 0, terminal.text  # nothing else was asked: it finished
    assert "Traceback" not in terminal.transcript
    answers = answers_of(destination)
    assert answers["essentials_only"] is True
    asked = {name for name in answers if not name.startswith("_")}
    assert asked == ESSENTIALS, asked ^ ESSENTIALS
    summary = " ".join(terminal.transcript.split())
    charter = (destination / "docs/charter.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (.*) \|$", charter, re.MULTILINE)
    assert len(rows) >= 25 and ("drift_psi_limit", "`0.2`") in rows
    assert f"You answered the essentials; {len(rows)} answers are reviewed defaults" in summary
    for name, _ in rows:
        assert f"{name}:" in summary, name

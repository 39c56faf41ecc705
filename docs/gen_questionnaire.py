"""Generate docs/questionnaire.md from copier.yml, so the reference never drifts.

uv run python docs/gen_questionnaire.py          # write docs/questionnaire.md
uv run python docs/gen_questionnaire.py --check  # exit 1 if it is out of date

Written for people, not for Copier: defaults and help are rendered for the default
project (with the same Jinja filters Copier uses), choices carry the labels the
terminal shows, conditions and validators are put in words.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml
from jinja2.sandbox import SandboxedEnvironment

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = ROOT / "copier.yml"
OUTPUT = ROOT / "docs" / "questionnaire.md"
BANNER = re.compile(r"^# ─+\n# (?P<title>[^\n]+)\n# ─+$", re.MULTILINE)
TYPES = {"str": "text", "int": "whole number", "float": "number", "bool": "yes or no"}
# Jinja's tags and expressions: what a validator's message is cut at.
TAG = re.compile(r"\{%.*?%\}", re.DOTALL)
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def _environment() -> SandboxedEnvironment:
    # Copier's own filter set (regex_replace and the rest): defaults render as they do.
    return SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])


def _sections(text: str) -> list[tuple[int, str]]:
    return [(match.start(), match.group("title")) for match in BANNER.finditer(text)]


def _rendered(environment: SandboxedEnvironment, value: Any, answers: dict[str, Any]) -> Any:
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    return environment.from_string(value).render(**answers).strip()


def _typed(value: Any, kind: str) -> Any:
    if kind == "bool" and isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1"}
    if kind in {"int", "float"} and isinstance(value, str):
        return int(value) if kind == "int" else float(value)
    return value


def default_answers(questions: dict[str, Any]) -> dict[str, Any]:
    """Every question's answer in the default project (`copier copy --defaults`), in
    order, each default rendered with the answers before it."""
    environment = _environment()
    answers: dict[str, Any] = {}
    for name, spec in questions.items():
        if name.startswith("_"):
            continue
        kind = spec.get("type", "str")
        answers[name] = _typed(_rendered(environment, spec.get("default", ""), answers), kind)
    return answers


def condition_in_words(when: str) -> str:
    """`{{ serving_mode != 'batch' }}` → "`serving_mode` is not `batch`"."""
    text = when.strip().removeprefix("{{").removesuffix("}}").strip()
    text = re.sub(r"(\w+) \| trim \| length > 0", r"`\1` is not empty", text)
    text = re.sub(r"(\w+) == '([^']*)'", r"`\1` is `\2`", text)
    text = re.sub(r"(\w+) != '([^']*)'", r"`\1` is not `\2`", text)
    text = re.sub(
        r"(\w+) in \[([^\]]*)\]",
        lambda match: (
            f"`{match.group(1)}` is "
            + " or ".join(f"`{item.strip().strip(chr(39))}`" for item in match.group(2).split(","))
        ),
        text,
    )
    if "{" in text or "(" in text:
        raise ValueError(f"no words for the condition {when!r}: teach condition_in_words")
    return text


def asked_when(when: str) -> str:
    """When a question is asked, in words; on the essentials-only path it never is."""
    text = when.strip().removeprefix("{{").removesuffix("}}").strip()
    essentials = re.fullmatch(r"not essentials_only(?: and \((.*)\))?", text)
    if essentials is None:
        return f"when {condition_in_words(when)}"
    condition = essentials.group(1)
    full_path = "on the full path (`essentials_only` is no)"
    return f"{full_path}, when {condition_in_words(condition)}" if condition else full_path


def refusals_in_words(validator: str) -> list[str]:
    """The messages a validator can give, with each value it would quote shown as …"""
    messages = []
    for branch in TAG.split(validator):
        message = " ".join(EXPRESSION.sub("…", branch).split())
        if message:
            messages.append(message)
    return messages


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = " ".join(str(value).split())
    return f"`{text}`" if text else "(empty)"


def _choices(spec: dict[str, Any]) -> list[str]:
    lines = []
    for label, choice in (spec.get("choices") or {}).items():
        value = choice["value"] if isinstance(choice, dict) else choice
        only = refusals_in_words(choice.get("validator", "")) if isinstance(choice, dict) else []
        suffix = f" ({'; '.join(only)})" if only else ""
        lines.append(f"    - {label} (`{value}`){suffix}")
    return lines


def render() -> str:
    text = COPIER_YML.read_text(encoding="utf-8")
    questions: dict[str, Any] = yaml.safe_load(text)
    sections = _sections(text)
    answers = default_answers(questions)
    environment = _environment()
    lines = [
        "# Questionnaire reference",
        "",
        "Generated from `copier.yml` by `docs/gen_questionnaire.py`; do not edit by hand.",
        "Questions are asked in this order, and each has a default: `copier copy --defaults`",
        "gives the default project, whose answers are shown below. Help that names an",
        "earlier answer is shown as the default project reads it.",
        "",
    ]
    current = None
    for name, spec in questions.items():
        if name.startswith("_"):
            continue
        position = re.search(rf"^{re.escape(name)}:", text, re.MULTILINE)
        assert position is not None
        section = next(
            (title for start, title in reversed(sections) if start < position.start()), None
        )
        if section != current:
            current = section
            lines += [f"## {section}", ""]
        when = spec.get("when", True)
        lines += [f"### `{name}`", ""]
        if when is False:
            lines += ["Computed from earlier answers, never asked.", ""]
            lines += [f"- **In the default project:** {_value(answers[name])}", ""]
            continue
        help_text = " ".join(str(_rendered(environment, spec.get("help", ""), answers)).split())
        lines += [help_text, ""]
        asked = "always" if when is True else asked_when(str(when))
        kind = TYPES.get(spec.get("type", "str"), spec.get("type", "str"))
        kind = "one of the choices" if spec.get("choices") else kind
        lines.append(f"- **Answer:** {kind}, asked {asked}")
        lines.append(f"- **In the default project:** {_value(answers[name])}")
        choices = _choices(spec)
        if choices:
            lines += ["- **Choices:**", *choices]
        refusals = refusals_in_words(spec.get("validator", ""))
        if refusals:
            lines += ["- **Refused, with these messages:**", *(f"    - {m}" for m in refusals)]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    content = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != content:
            print("docs/questionnaire.md is out of date: run docs/gen_questionnaire.py")
            return 1
        return 0
    OUTPUT.write_text(content, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Generate docs/questionnaire.md from copier.yml, so the reference never drifts.

uv run python docs/gen_questionnaire.py          # write docs/questionnaire.md
uv run python docs/gen_questionnaire.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = ROOT / "copier.yml"
OUTPUT = ROOT / "docs" / "questionnaire.md"
HEADER = "| question | type | asked when | why it matters | default | choices | validated |"
BANNER = re.compile(r"^# ─+\n# (?P<title>[^\n]+)\n# ─+$", re.MULTILINE)


def _sections(text: str) -> list[tuple[int, str]]:
    return [(match.start(), match.group("title")) for match in BANNER.finditer(text)]


def _cell(value: Any) -> str:
    text = " ".join(str(value).split())
    return text.replace("|", "\\|")


def _choices(spec: dict[str, Any]) -> str:
    choices = spec.get("choices")
    if not choices:
        return ""
    values = [c["value"] if isinstance(c, dict) else c for c in choices.values()]
    return ", ".join(f"`{v}`" for v in values)


def render() -> str:
    text = COPIER_YML.read_text(encoding="utf-8")
    questions: dict[str, Any] = yaml.safe_load(text)
    sections = _sections(text)
    lines = [
        "# Questionnaire reference",
        "",
        "Generated from `copier.yml` by `docs/gen_questionnaire.py`; do not edit by hand.",
        "Questions are asked in this order. Every one has a default, so",
        "`copier copy --defaults` gives a working project. Computed values are not asked.",
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
            lines += [f"## {section}", "", HEADER, "| --- " * 7 + "|"]
        when = spec.get("when", True)
        asked = (
            "computed, never asked"
            if when is False
            else ("always" if when is True else f"`{_cell(when)}`")
        )
        lines.append(
            f"| `{name}` | {spec.get('type', 'str')} | {asked} | {_cell(spec.get('help', ''))} "
            f"| `{_cell(spec.get('default', ''))}` | {_choices(spec)} "
            f"| {'yes' if spec.get('validator') else ''} |"
        )
    return "\n".join(lines).replace("\n## ", "\n\n## ").replace("\n\n\n", "\n\n") + "\n"


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

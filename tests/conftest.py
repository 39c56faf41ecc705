"""Report figures the tests measured (image sizes) at the end of the run."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    figures = [
        f"{name}: {value}"
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", [])
    ]
    if figures:
        terminalreporter.section("measured")
        for line in figures:
            terminalreporter.write_line(line)

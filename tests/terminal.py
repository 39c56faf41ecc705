"""A real terminal for questionnaire tests: pexpect drives a pty, pyte renders the screen.

prompt_toolkit redraws in place with cursor movements, so assertions read the
rendered screen (what a person sees), not the raw byte stream.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pexpect
import pyte

from .helpers import ROOT, tool_env

COLUMNS, LINES = 240, 60


class Terminal:
    def __init__(
        self, arguments: list[str], cwd: Path, columns: int = COLUMNS, lines: int = LINES
    ) -> None:
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.Stream(self.screen)
        self.transcript = ""
        self.child = pexpect.spawn(
            sys.executable,
            arguments,
            cwd=str(cwd),
            env=tool_env(),
            encoding="utf-8",
            dimensions=(lines, columns),
            timeout=60,
        )

    def _pump(self, seconds: float) -> None:
        try:
            chunk = self.child.read_nonblocking(65536, timeout=seconds)
        except pexpect.TIMEOUT:
            return
        except pexpect.EOF:
            time.sleep(seconds)
            return
        self.transcript += chunk
        self.stream.feed(chunk)

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, expected: str, timeout: float = 60) -> str:
        """Wait until `expected` is on screen; return the screen."""
        deadline = time.monotonic() + timeout
        while expected not in self.text:
            if time.monotonic() > deadline:
                raise AssertionError(f"{expected!r} never appeared; screen:\n{self.text}")
            self._pump(0.2)
        return self.text

    def answer(self, value: str) -> None:
        """Replace the pre-filled default with `value` and press Enter."""
        self.child.sendcontrol("u")
        self.child.send(value)
        time.sleep(0.1)
        self.child.send("\r")

    def finish(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            if time.monotonic() > deadline:
                self.child.terminate(force=True)
                raise AssertionError(f"copier did not finish; screen:\n{self.text}")
            self._pump(0.2)
        self._pump(0.1)
        self.child.close()
        return int(self.child.exitstatus or 0)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def copier_copy(
    destination: Path, data_file: Path | None = None, columns: int = COLUMNS, lines: int = LINES
) -> Terminal:
    # HEAD: this working tree, not the newest release tag copier would pick by default.
    arguments = ["-m", "copier", "copy", "--skip-tasks", "--vcs-ref", "HEAD"]
    if data_file is not None:
        arguments += ["--data-file", str(data_file)]
    return Terminal(
        [*arguments, str(ROOT), str(destination)], cwd=destination.parent, columns=columns,
        lines=lines,
    )  # fmt: skip

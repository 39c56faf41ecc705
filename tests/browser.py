"""A real headless browser for the generated reports: Debian's chromium, driven by
Playwright (from the package index; no browser download).

Without chromium the checks skip, except where GROUNDWORK_REQUIRE_BROWSER is set
(`.ci/run` sets it): there a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class LoadedPage:
    errors: list[str]  # page errors and console errors
    images: list[dict[str, object]]  # alt, complete, naturalWidth of every <img>
    text: str  # the visible text


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed (Debian package `chromium`)"
        if os.environ.get("GROUNDWORK_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def load(page_file: Path) -> LoadedPage:
    """Open a local HTML file, wait until it has loaded, and report what a reader sees."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    errors: list[str] = []
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda message: errors.append(message.text) if message.type == "error" else None,
            )
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => "
                "({alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth}))"
            )
            text = page.inner_text("body")
        finally:
            browser.close()
    return LoadedPage(errors, images, text)


@dataclass(frozen=True)
class VisitedPage(LoadedPage):
    url: str
    links: list[str]  # every <a href>, resolved to an absolute URL
    prose: str  # the visible text outside code blocks and code spans


def visit(urls: list[str], screenshots: Path) -> list[VisitedPage]:
    """Open each URL in one browser (pages served over HTTP, as readers get them), keep
    a full-page screenshot of each in `screenshots`, and report what a reader sees."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    screenshots.mkdir(parents=True, exist_ok=True)
    visited = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            for number, url in enumerate(urls):
                errors: list[str] = []
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                page.on(
                    "console",
                    lambda message, errors=errors: (
                        errors.append(message.text) if message.type == "error" else None
                    ),
                )
                page.goto(url, wait_until="networkidle")
                images = page.evaluate(
                    "Array.from(document.images).map(i => "
                    "({alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth}))"
                )
                links = page.evaluate("Array.from(document.links).map(a => a.href)")
                path = urllib.parse.urlsplit(url).path.strip("/")
                name = path.rsplit("/", 1)[-1] or "index"
                page.screenshot(path=screenshots / f"{number:02d}-{name}.png", full_page=True)
                prose = page.evaluate(
                    "(() => { const body = document.body.cloneNode(true);"
                    " body.querySelectorAll('pre, code').forEach(e => e.remove());"
                    " return body.textContent; })()"
                )
                text = page.inner_text("body")
                visited.append(VisitedPage(errors, images, text, url, links, prose))
                page.close()
        finally:
            browser.close()
    return visited

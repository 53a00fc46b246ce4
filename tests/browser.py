"""A real headless browser for the tests: Debian's Chromium driven by Playwright for Python.

    def test_page(browser):               # a fresh Chromium profile for this test
        page = browser.new_page(360, 740)
        page.goto(url)
        browser.screenshot(page, "home")  # kept under test-artifacts/<test>/home.png
        assert browser.outside_requests() == []

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (``scripts/test.sh``
installs the Debian package when it is missing; ``NEWSMIRROR_CHROMIUM`` points at another
binary). Playwright's sync API runs an event loop while the fixture is up: a fixture that calls
``asyncio.run`` (a sync of the sample sites) must come before ``browser`` in the test's arguments.
Screenshots go to ``test-artifacts/`` at the top of the repository (ignored by git), or
under ``NEWSMIRROR_TEST_ARTIFACTS``, and their folder is named in the test report.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("NEWSMIRROR_CHROMIUM", "/usr/bin/chromium")
# The flags every browser test runs with: headless, no sandbox (containers, root), no GPU, and no
# traffic of the browser's own (updates, safe browsing, field trials) that would leave loopback.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(os.environ.get("NEWSMIRROR_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
_LOOPBACK = re.compile(r"^(127(?:\.\d{1,3}){3}|\[?::1\]?|localhost)$")


class BrowserSession:
    """One Chromium with a fresh user-data dir; remembers every request its pages make."""

    def __init__(self, context, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
        self.context = context
        self.artifacts = artifacts
        self.requests: list[str] = []
        context.on("request", lambda request: self.requests.append(request.url))

    def new_page(self, width: int = 360, height: int = 740):  # type: ignore[no-untyped-def]
        page = self.context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        return page

    def screenshot(self, page, name: str, *, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
        """Save a screenshot of ``page`` as a test artefact; returns its path."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def outside_requests(self) -> list[str]:
        """Every request so far that went anywhere but the loopback interface."""
        return off_loopback(self.requests)


def off_loopback(urls: list[str]) -> list[str]:
    """Those of ``urls`` that leave the loopback interface (data:, blob: and about: URLs stay in the page)."""
    outside = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("data", "blob", "about") and not _LOOPBACK.match(parts.hostname or ""):
            outside.append(url)
    return outside


@pytest.fixture
def browser(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserSession]:
    """A headless Debian Chromium with a fresh profile, for one test."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(f"{CHROMIUM} not found: run scripts/test.sh (it installs chromium) or apt-get install chromium")
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    artifacts = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    shutil.rmtree(artifacts, ignore_errors=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            chromium_sandbox=False,
            args=CHROMIUM_FLAGS,
        )
        try:
            yield BrowserSession(context, artifacts)
        finally:
            context.close()
    if artifacts.is_dir():
        request.node.user_properties.append(("artifacts", str(artifacts)))
        print(f"\nbrowser artefacts: {artifacts}")

"""The mirror as a reader on a phone sees it: Debian's Chromium at 360×740 over `newsmirror serve`,
home → a channel → an article of the sample sites (with their camera-sized photos, shrunk)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from browser import BrowserSession
from newsmirror.config import Config, parse_config
from newsmirror.demosite import DemoSite
from newsmirror.render import build
from newsmirror.store import Store
from newsmirror.sync import sync

WIDTH, HEIGHT = 360, 740

# Every image of the page, each scrolled to (the lazy ones load only then): (src, naturalWidth).
ALL_IMAGES = """async () => {
    const out = [];
    for (const img of Array.from(document.images)) {
        img.scrollIntoView();
        if (!img.complete) await new Promise(done => { img.onload = img.onerror = done; });
        out.push([img.getAttribute('src'), img.naturalWidth]);
    }
    window.scrollTo(0, 0);
    return out;
}"""
# Where the article's first paragraph starts: the first paragraph after the line under the byline.
FIRST_PARAGRAPH_TOP = """() => {
    const p = document.querySelector('hr ~ p');
    return p ? [p.textContent, p.getBoundingClientRect().top] : null;
}"""


def mirror(config: Config) -> bool:
    with Store(config.store_path) as store:
        asyncio.run(sync(config, store))
        return build(config, store).ok


@pytest.fixture
def served_mirror(tmp_path: Path, serve_config: Callable[[Path], AbstractContextManager[str]]) -> Iterator[str]:
    """The sample sites mirrored (HTML site on) and served by `newsmirror serve` on 127.0.0.1."""
    with DemoSite(slow_delay=0.2) as demo:
        text = demo.config_toml(output="mirror", store="store.db").replace("[mirror]\n", "[mirror]\nhtml = true\n", 1)
        config_path = tmp_path / "newsmirror.toml"
        config_path.write_text(text, "utf-8")
        config = parse_config(text, root=tmp_path)
        # In a thread of its own: the event loop of Playwright's sync API may be running already.
        with ThreadPoolExecutor(1) as thread:
            assert thread.submit(mirror, config).result()
    with serve_config(config_path) as url:
        yield url


def check_page(browser: BrowserSession, page, name: str) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, f"{name}: scrolls sideways"
    images = page.evaluate(ALL_IMAGES)
    assert all(width > 0 for _, width in images), f"{name}: images not loaded: {images}"
    browser.screenshot(page, name)
    return images


def test_a_phone_reads_home_channel_and_article_from_loopback_only(browser: BrowserSession, served_mirror: str) -> None:
    page = browser.new_page(WIDTH, HEIGHT)
    page.goto(served_mirror + "index.html")
    check_page(browser, page, "1-home")

    page.click("a[href^='indexes/cgw-world.html']")
    page.wait_for_load_state("load")
    assert "/indexes/cgw-world.html" in page.url
    check_page(browser, page, "2-channel")

    page.click("a:has-text('台风')")  # the article with the 7 MB photo
    page.wait_for_load_state("load")
    assert "/pages/cgw/world/" in page.url
    first = page.evaluate(FIRST_PARAGRAPH_TOP)
    assert first and first[0].startswith("【晨光新闻") and first[1] < HEIGHT, first  # within the first screen
    images = check_page(browser, page, "3-article")
    photo = next(width for src, width in images if "/images/" in src)
    assert photo == 1080  # the shrunk copy, not the 4000-pixel original
    assert page.evaluate("document.images[1].getAttribute('loading')") == "lazy"

    server = urlsplit(served_mirror).netloc
    assert browser.outside_requests() == []
    assert {urlsplit(url).netloc for url in browser.requests} == {server}  # not even the sample sites

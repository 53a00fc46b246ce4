"""The shared Chromium fixture itself (tests/browser.py): it drives Debian's chromium, sees every
request a page makes, and keeps screenshots."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from browser import BrowserSession, off_loopback


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A folder with one page and its image, served on 127.0.0.1."""
    out = BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG")
    (tmp_path / "dot.png").write_bytes(out.getvalue())
    (tmp_path / "index.html").write_text(
        '<!doctype html><meta name="viewport" content="width=device-width"><p id="p">你好</p><img src="dot.png">',
        "utf-8",
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_chromium_loads_a_page_and_keeps_a_screenshot(browser: BrowserSession, served: str) -> None:
    page = browser.new_page(360, 740)
    page.goto(served + "index.html")
    page.wait_for_load_state("load")
    assert page.evaluate("innerWidth") == 360
    assert page.evaluate("document.querySelector('img').naturalWidth") == 40
    assert "Chrome" in page.evaluate("navigator.userAgent")
    shot = browser.screenshot(page, "page")
    assert shot.stat().st_size > 0 and shot.read_bytes().startswith(b"\x89PNG")
    assert {served + "index.html", served + "dot.png"} <= set(browser.requests)
    assert browser.outside_requests() == []


def test_requests_off_loopback_are_told_apart() -> None:
    # Classified from the URLs alone: nothing is sent to these hosts.
    urls = [
        "http://127.0.0.1:8000/a.png",
        "http://[::1]:8000/b.png",
        "data:image/png;base64,AAAA",
        "https://cdn.jsdelivr.net/gh/o/r@main/images/x.jpg",
        "http://10.0.0.1/tracker.gif",
    ]
    assert off_loopback(urls) == ["https://cdn.jsdelivr.net/gh/o/r@main/images/x.jpg", "http://10.0.0.1/tracker.gif"]

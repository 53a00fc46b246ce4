"""Search in the HTML site: Pagefind's index built with the site, searched in headless Chromium from the
preview server and from a static host under a sub-path; the page without JavaScript."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest

from browser import BrowserSession
from newsmirror.config import Config, parse_config
from newsmirror.models import Article
from newsmirror.preview import preview_server
from newsmirror.render import build
from newsmirror.store import Store

START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
BODIES = {
    "p9": ["东岚港码头工人罢工九天后结束，工会与资方达成薪资协议。", "研究人员在深海热泉附近发现新的虾类物种。"],
    "p1": ["议会通过新的预算案，教育经费增加。", "国际图书馆联合会发布报告：纸质书借阅量回升。"],
}


def make_config(root: Path, search: bool = True, variants: str = "[]") -> Config:
    text = f"""
[mirror]
title = "测试镜像"
base_url = "https://mirror.example.org/news"
output = "site/mirror"
store = "store.db"
html = true
search = {"true" if search else "false"}
variants = {variants}

[[site]]
id = "kzg"
name = "看中国"

  [[site.channel]]
  id = "p9"
  name = "看世界"
  feed = "https://www.example.com/p9.xml"

  [[site.channel]]
  id = "p1"
  name = "要闻"
  feed = "https://www.example.com/p1.xml"
"""
    return parse_config(text, root=root)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.db") as store:
        n = 0
        for channel, bodies in BODIES.items():
            for body in bodies:
                n += 1
                store.save_article(
                    Article(
                        site="kzg",
                        channel=channel,
                        id=str(1_029_400 + n),
                        url=f"https://www.example.com/news/{1_029_400 + n}.html",
                        title=body.split("，")[0].split("：")[0],
                        markdown=body + "\n\n第二段。",
                        html="",
                        published=START + timedelta(hours=n),
                        fetched=START + timedelta(hours=n, minutes=3),
                    )
                )
        yield store


@pytest.fixture
def sub_path_host(tmp_path: Path) -> Iterator[str]:
    """A plain static host serving tmp_path/site, so the mirror is at /mirror/ (a project site's sub-path)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mirror/"
    finally:
        server.shutdown()
        server.server_close()


def test_search_index_is_built_once_and_only_the_search_page_has_script(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    first = build(config, store)
    assert first.ok, first.errors
    out = config.output_dir
    assert (out / "pagefind" / "pagefind-entry.json").is_file() and (out / "pagefind" / "pagefind-ui.js").is_file()
    scripted = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html") if b"<script" in p.read_bytes())
    assert scripted == ["search.html"]

    page = lxml.html.parse(str(out / "search.html")).getroot()
    # Without JavaScript the page says so and links every channel index.
    noscript = page.xpath("//noscript")[0]
    assert "JavaScript" in noscript.text_content()
    links = lxml.html.fromstring(lxml.html.tostring(noscript)).xpath("//a/@href")
    assert links == ["indexes/kzg-p9.html", "indexes/kzg-p1.html"] and all((out / link).is_file() for link in links)
    assert all(not s.startswith("/") for s in page.xpath("//script/@src|//link/@href"))  # relative: any sub-path
    home = lxml.html.parse(str(out / "index.html")).getroot()
    assert home.xpath("//form[@role='search']/@action") == ["search.html"]
    # Only an article's own text is marked for the index: not its navigation, share block or mirror list.
    article = lxml.html.parse(str(out / "pages/kzg/p9/1029401.html")).getroot()
    (body,) = article.xpath("//*[@data-pagefind-body]")
    assert body.text_content().split() == ["东岚港码头工人罢工九天后结束，工会与资方达成薪资协议。", "第二段。"]
    assert home.xpath("//*[@data-pagefind-body]") == []

    # An unchanged store writes nothing and does not run Pagefind again; a new article re-indexes.
    again = build(config, store)
    assert again.written == []
    store.save_article(
        Article(
            site="kzg", channel="p1", id="1029499", url="https://www.example.com/news/1029499.html",
            title="新文章", markdown="台风登陆沿海地区。", html="",
            published=START + timedelta(days=1), fetched=START + timedelta(days=1),
        )
    )  # fmt: skip
    third = build(config, store)
    assert "pagefind/pagefind-entry.json" in third.written

    # Search off: the page and the index leave the tree.
    off = build(make_config(tmp_path, search=False), store)
    assert off.ok and not (out / "search.html").exists()
    assert [p for p in (out / "pagefind").rglob("*") if p.is_file()] == []


def _search_and_open(browser: BrowserSession, url: str, word: str, shot: str) -> str:
    page = browser.new_page()
    page.goto(url)
    page.fill(".pagefind-ui__search-input", word)
    first = page.locator(".pagefind-ui__result-link").first
    first.wait_for(timeout=15_000)
    browser.screenshot(page, shot)
    # The excerpt is the article's text, not the page's navigation or share block.
    excerpt = page.locator(".pagefind-ui__result-excerpt").first.inner_text().split()
    assert word in excerpt[0] and excerpt[1:] == ["第二段。"]  # not "来源：看中国", nor the share line after
    first.click()
    page.wait_for_load_state()
    assert word in page.inner_text("body")
    browser.screenshot(page, f"{shot}-hit")
    return page.url


def test_search_finds_a_chinese_word_and_opens_the_hit(
    tmp_path: Path, store: Store, browser: BrowserSession, sub_path_host: str
) -> None:
    config = make_config(tmp_path)
    assert build(config, store).ok
    with preview_server(config.output_dir, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            base = f"http://127.0.0.1:{server.server_address[1]}/"
            opened = _search_and_open(browser, base + "search.html", "薪资", "search-serve")
            assert opened == base + "pages/kzg/p9/1029401.html"
        finally:
            server.shutdown()
    # A static host with the mirror under a sub-path; the home page's search box hands the words over.
    page = browser.new_page()
    page.goto(sub_path_host + "index.html")
    page.fill("input[name=q]", "借阅量")
    page.click("form[role=search] button")
    page.locator(".pagefind-ui__result-link").first.wait_for(timeout=15_000)
    hit = page.locator(".pagefind-ui__result-link").first
    assert hit.get_attribute("href") == "/mirror/pages/kzg/p1/1029404.html"
    hit.click()
    page.wait_for_load_state()
    assert "借阅量" in page.inner_text("body")
    assert browser.outside_requests() == []


def test_traditional_search_in_the_copy_finds_the_copy(tmp_path: Path, store: Store, browser: BrowserSession) -> None:
    config = make_config(tmp_path, variants='["zh-Hant"]')
    assert build(config, store).ok
    with preview_server(config.output_dir, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            base = f"http://127.0.0.1:{server.server_address[1]}/"
            # 资 → 資: the copy's search page searches the traditional pages, and its hit is the copy's page.
            opened = _search_and_open(browser, base + "zh-hant/search.html", "薪資", "search-zh-hant")
            assert opened == base + "zh-hant/pages/kzg/p9/1029401.html"
        finally:
            server.shutdown()
    assert browser.outside_requests() == []

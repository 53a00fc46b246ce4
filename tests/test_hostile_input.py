"""Hostile input cannot stop the mirror: the payloads that crashed lxml (``java&#1&#2script:``,
a form feed in an href, U+FFFE) as page text, as an inline link and as feed content; UTF-16
and UTF-32 feeds; feed entries without a link. End to end: a real HTTP server on 127.0.0.1,
sync into a real store, then the build of the Markdown and HTML mirror."""

from __future__ import annotations

import asyncio
import codecs
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from newsmirror.config import Config, parse_config
from newsmirror.feeds import parse_feed
from newsmirror.render import build
from newsmirror.store import Store
from newsmirror.sync import sync

TEXT = "这是一篇正常的新闻文章，内容足够长，足以被当作正文提取出来。" * 3
PAYLOADS = {
    "char-references": ("java&#1&#2script:alert(1)", "标题&#1;&#xFFFE;&#xD800;"),
    "form-feed": ("http://news.example/a\x0cb", "标题\x0c一"),
    "non-character": ("http://news.example/a\ufffeb", "标题\ufffe一"),
}
# What must never reach the store or the mirror: what lxml refuses, and script.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
SCRIPT_LINK = re.compile(r"""(?i)(?:href|src)\s*=\s*["']?\s*javascript:|\]\(\s*<?javascript:""")


class Progress:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def feed(self, label: str, outcome: str, detail: str = "") -> None: ...
    def found(self, count: int) -> None: ...
    def article(self, label: str, outcome: str, detail: str = "") -> None: ...
    def warning(self, message: str) -> None:
        self.warnings.append(message)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1") as httpserver:
        yield httpserver


def rss(items: str, encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>频道</title>'
        f"{items}</channel></rss>"
    )


def config(tmp_path: Path, server: HTTPServer, sites: dict[str, str]) -> Config:
    """One site per entry: its extra TOML lines; each has one channel reading /<site>.xml."""
    text = '[mirror]\nstore = "store.db"\noutput = "out"\nhtml = true\nimages = "link"\n'
    text += "[http]\nretries = 0\nallow_private = true\n"
    for site, extra in sites.items():
        text += f'[[site]]\nid = "{site}"\nname = "{site}"\n{extra}\n'
        text += f'[[site.channel]]\nid = "c"\nname = "C"\nfeed = "{server.url_for(f"/{site}.xml")}"\n'
    return parse_config(text, root=tmp_path)


def run_sync(cfg: Config) -> tuple[list[str], list[str], dict[str, list]]:
    progress = Progress()
    with Store(cfg.store_path) as store:
        summary = asyncio.run(sync(cfg, store, progress=progress, all_feeds=True))
        stored = {site.id: store.articles(site.id, "c") for site in cfg.sites}
    return summary.errors, progress.warnings, stored


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_hostile_payload_as_page_text_inline_link_and_feed_content(
    tmp_path: Path, server: HTTPServer, payload: str
) -> None:
    href, title = PAYLOADS[payload]
    link = f'<a href="{href}">链接</a>' if '"' not in href else f"<a href={href}>链接</a>"
    inline = f"<a href={href}>链接</a>"
    bodies = {
        "page": f"<h1>{title}</h1><p>{TEXT}{title}</p><p>{TEXT}</p>",
        "link": f"<h1>文章</h1><p>{TEXT}{inline}</p><p>{TEXT}{link}</p>",
    }
    for site in ("rules", "generic"):
        items = ""
        for kind, body in bodies.items():
            path = f"/{site}/{kind}.html"
            page = f"<html><head><title>{title}</title></head><body><article>{body}</article></body></html>"
            server.expect_request(path).respond_with_data(page.encode("utf-8"), content_type="text/html; charset=utf-8")
            items += f"<item><title>{kind}</title><link>{server.url_for(path)}</link></item>"
        server.expect_request(f"/{site}.xml").respond_with_data(rss(items).encode("utf-8"), content_type="text/xml")
    content = f"<p>{TEXT}{title}</p><p>{TEXT}{inline}</p>"
    feed_items = (
        f"<item><title>{title}</title><link>{server.url_for('/feed/1.html')}</link>"
        f"<content:encoded><![CDATA[{content}]]></content:encoded></item>"
        f"<item><title>escaped</title><link>{server.url_for('/feed/2.html')}</link>"
        f"<description>{content.replace('&', '&amp;').replace('<', '&lt;')}</description>"
        f"<content:encoded>{content.replace('&', '&amp;').replace('<', '&lt;')}</content:encoded></item>"
    )
    server.expect_request("/feed.xml").respond_with_data(rss(feed_items).encode("utf-8"), content_type="text/xml")
    cfg = config(tmp_path, server, {"rules": 'content = "article"', "generic": "", "feed": "body_from_feed = true"})

    errors, _, stored = run_sync(cfg)

    assert errors == []
    assert {site: len(articles) for site, articles in stored.items()} == {"rules": 2, "generic": 2, "feed": 2}
    for articles in stored.values():
        for article in articles:
            for value in (article.title, article.markdown, article.html):
                assert not NOT_TEXT.search(value), (article.url, value)
                assert not SCRIPT_LINK.search(value), (article.url, value)
            assert TEXT[:20] in article.markdown
    with Store(cfg.store_path) as store:
        result = build(cfg, store)
    assert result.errors == []
    for path in (tmp_path / "out").rglob("*"):
        if path.suffix in (".md", ".html", ".xml"):
            text = path.read_text("utf-8")
            assert not NOT_TEXT.search(text) and not SCRIPT_LINK.search(text), path


ENCODINGS = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]
BOMS = {
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}


@pytest.mark.parametrize("with_bom", [True, False], ids=["bom", "no-bom"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_utf16_and_utf32_feeds(encoding: str, with_bom: bool) -> None:
    declared = encoding[:6].upper()  # UTF-16 / UTF-32, as feeds declare it
    text = rss("<item><title>标题一</title><link>http://news.example/1.html</link></item>", declared)
    data = (BOMS[encoding] if with_bom else b"") + text.encode(encoding)
    parsed = parse_feed(data, "http://news.example/feed.xml", "application/rss+xml")
    assert parsed.title == "频道"
    assert [(item.title, item.link) for item in parsed.items] == [("标题一", "http://news.example/1.html")]


def test_entries_without_a_link(tmp_path: Path, server: HTTPServer) -> None:
    """Stored from the feed's content when the site takes bodies from the feed, with ids from
    their guid or content; otherwise reported once per feed."""
    entries = (
        f'<item><title>有 guid</title><guid isPermaLink="false">urn:uuid:1234</guid>'
        f"<description>{TEXT}一</description></item>"
        f"<item><title>无 guid</title><description>{TEXT}二</description></item>"
        f"<item><title>有链接</title><link>{server.url_for('/a.html')}</link><description>{TEXT}三</description></item>"
    )
    for site in ("fromfeed", "pages"):
        server.expect_request(f"/{site}.xml").respond_with_data(rss(entries).encode("utf-8"), content_type="text/xml")
    page = f"<html><body><article><h1>有链接</h1><p>{TEXT}</p></article></body></html>"
    server.expect_request("/a.html").respond_with_data(page, content_type="text/html")
    cfg = config(tmp_path, server, {"fromfeed": "body_from_feed = true", "pages": ""})

    errors, warnings, stored = run_sync(cfg)

    assert errors == []
    from_feed = {article.title: article for article in stored["fromfeed"]}
    assert set(from_feed) == {"有 guid", "无 guid", "有链接"}
    assert TEXT[:20] in from_feed["有 guid"].markdown and "一" in from_feed["有 guid"].markdown
    assert from_feed["有 guid"].id.startswith("entry-") and from_feed["无 guid"].id.startswith("entry-")
    assert from_feed["有 guid"].url == server.url_for("/fromfeed.xml")  # where its text came from
    assert [article.title for article in stored["pages"]] == ["有链接"]
    assert [w for w in warnings if "without a link" in w] == [
        "feed pages/c: 2 entries without a link, skipped (with body_from_feed = true for site 'pages', "
        "they are taken from the feed)"
    ]

    # The ids are stable: the next run finds both stored and changes nothing.
    server.clear_log()
    errors, _, again = run_sync(cfg)
    assert errors == [] and {a.id for a in again["fromfeed"]} == {a.id for a in from_feed.values()}
    assert [request.path for request, _ in server.log] == ["/fromfeed.xml", "/pages.xml"] or sorted(
        request.path for request, _ in server.log
    ) == ["/fromfeed.xml", "/pages.xml"]


HOSTILE_TITLE = "<img src=x onerror=alert(1)> [点我](javascript:alert(2)) <script>alert(3)</script>"


@pytest.mark.parametrize("fmt", ["markdown", "html", "text", "json"])
def test_extract_writes_a_hostile_title_safely_in_every_format(tmp_path: Path, fmt: str) -> None:
    """`newsmirror extract` is as safe as the built mirror: the title stays text."""
    import json

    from markdown_it import MarkdownIt
    from typer.testing import CliRunner

    from newsmirror.cli import app

    escaped = HOSTILE_TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    page = tmp_path / "page.html"
    page.write_text(
        f"<html><head><title>{escaped}</title></head><body><article><h1>{escaped}</h1>"
        f"<p>{TEXT}</p><p>{TEXT}</p></article></body></html>",
        "utf-8",
    )
    result = CliRunner().invoke(app, ["extract", str(page), "--url", "https://news.example/1.html", "--format", fmt])
    assert result.exit_code == 0, result.output
    output = result.output
    if fmt == "json":
        data = json.loads(output)
        assert "<img" in data["title"]  # the title is data, kept as the page says it
        shown = MarkdownIt("commonmark").render(data["markdown"]) + data["html"]
    elif fmt == "markdown":
        assert output.startswith("# ") and "img" in output.splitlines()[0]
        shown = MarkdownIt("commonmark").render(output)  # as GitHub or any Markdown viewer shows it
    else:
        shown = output
    assert "<img" not in shown and "<script" not in shown, shown
    assert not re.search(r"(?i)(?:href|src)\s*=\s*[\"']?\s*javascript:", shown), shown
    assert TEXT[:20] in output

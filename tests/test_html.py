"""The static HTML site, the Atom feed and the preview server, built from a real store into a temp folder."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import lxml.etree
import lxml.html
import pytest

from newsmirror.config import Config, parse_config
from newsmirror.layout import html_path
from newsmirror.models import Article
from newsmirror.preview import preview_server
from newsmirror.render import build
from newsmirror.render.html_site import first_paragraph
from newsmirror.store import Store

BASE = "https://mirror.example.org/news"
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
MIRRORS = ("https://gitlab.com/example/mirror", "https://codeberg.org/example/mirror")
COUNTER = "https://counter.example.org"
SITE = "https://example.github.io/mirror/"  # where the HTML site is served (the slash is dropped)
# What a hostile or sloppy article body may hold: none of it may become markup or script.
HOSTILE = (
    '<script>alert(1)</script>\n\n<img src="x" onerror="alert(2)">\n\n'
    "[点我](javascript:alert(3)) 和 [又一个](data:text/html;base64,PHNjcmlwdD4=)\n\n"
    '<a href="https://evil.example.net/" onclick="alert(4)">链接</a>'
)


def make_config(
    root: Path, html: bool = True, feed_size: int = 50, keep: int = 3, site_url: str | None = SITE
) -> Config:
    channels = "".join(
        f'\n  [[site.channel]]\n  id = "{c}"\n  name = "频道{c}"\n  feed = "https://www.example.com/{c}.xml"\n'
        for c in ("p9", "p1")
    )
    text = f"""
[mirror]
title = "测试镜像"
base_url = "{BASE}"
{f'site_url = "{site_url}"' if site_url else ""}
output = "out"
store = "store.db"
keep_per_channel = {keep}
index_size = 2
html = {"true" if html else "false"}
feed_size = {feed_size}
counter_url = "{COUNTER}"
mirrors = [ {{ name = "GitLab", url = "{MIRRORS[0]}" }}, {{ name = "Codeberg", url = "{MIRRORS[1]}" }} ]

[[site]]
id = "kzg"
name = "看中国"
{channels}
"""
    return parse_config(text, root=root)


def article(n: int, channel: str = "p9", **changes: object) -> Article:
    fields: dict[str, object] = dict(
        site="kzg",
        channel=channel,
        id=str(1_029_400 + n),
        url=f"https://www.example.com/news/gb/2026/01/01/{1_029_400 + n}.html",
        title=f"王毅抵达莫斯科 第{n}篇",
        markdown=(
            f"![图片说明](https://img.example.com/{n}.jpg)\n\n正文第一段，第{n}篇，见[原报道](https://www.example.com/r/{n})。"
            f"\n\n## 小标题\n\n| 国家 | 人数 |\n|---|---|\n| 法国 | {n} |\n\n第二段，~~旧说法~~。"
        ),
        html="",
        published=START + timedelta(hours=n),
        fetched=START + timedelta(hours=n, minutes=3),
        author="闻天清",
    )
    fields.update(changes)
    return Article(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(store: Store) -> Store:
    """The shared empty store, holding four articles in p9 and two awkward ones in p1."""
    for n in range(4):
        store.save_article(article(n, "p9"))
    store.save_article(article(4, "p1", title="Ferry workers vote to end strike", markdown=HOSTILE))
    store.save_article(article(5, "p1", title="空正文", markdown=""))
    return store


def files(root: Path, suffix: str) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob(f"*{suffix}") if ".git" not in p.parts}


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()
    }


def links(document: lxml.html.HtmlElement) -> list[str]:
    return [value for element in document.iter() for name, value in element.attrib.items() if name in ("href", "src")]


def test_every_markdown_file_has_a_safe_self_contained_html_sibling(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    result = build(config, store)
    out = config.output_dir
    assert result.ok, result.errors

    markdown = files(out, ".md")
    assert {
        "README.md",
        "indexes/hot.md",
        "indexes/kzg-p9.md",
        "indexes/kzg-p9.2.md",
        "pages/kzg/p9/1029403.md",
    } <= markdown
    assert files(out, ".html") == {html_path(p) for p in markdown}
    assert (out / "index.html").is_file()

    # Links that may leave the mirror: the articles' own links and images, their original
    # addresses, the share URLs, the other mirrors, the view counter and the page's own canonical address.
    allowed_hosts = {"www.example.com", "img.example.com", "gitlab.com", "codeberg.org", "counter.example.org"}
    allowed_hosts.add("example.github.io")
    for page in sorted(files(out, ".html")):
        text = (out / page).read_text("utf-8")
        parser = lxml.html.HTMLParser()
        document = lxml.html.document_fromstring(text.encode(), parser=parser)
        assert not parser.error_log, f"{page}: {parser.error_log}"
        assert text.startswith("<!doctype html>\n<html lang=")
        assert '<meta charset="utf-8">' in text and 'name="viewport"' in text
        assert document.xpath("//script|//iframe|//object|//embed|//form|//link[@rel='stylesheet']") == []
        assert len(document.xpath("//style")) == 1
        for element in document.iter():
            assert not [a for a in element.attrib if a.lower().startswith("on")], f"{page}: {element.attrib}"
        for link in links(document):
            parts = urlsplit(link)
            if parts.scheme:
                assert parts.scheme in ("http", "https"), f"{page}: {link}"
                assert parts.netloc in allowed_hosts or link.startswith(BASE + "/"), f"{page}: {link}"
                continue
            assert not parts.path.endswith(".md"), f"{page}: link to Markdown {link}"
            target = ((out / page).parent / parts.path).resolve()
            assert target.is_file() and target.is_relative_to(out), f"{page}: broken link {link}"

    page = lxml.html.parse(str(out / "pages/kzg/p9/1029403.html")).getroot()
    assert page.get("lang") == "zh-Hans" and page.findtext(".//title") == "王毅抵达莫斯科 第3篇"
    assert page.xpath("//a[text()='首页']/@href") == ["../../../index.html"] * 2  # top and foot
    assert page.xpath("//a[text()='频道p9']/@href") == ["../../../indexes/kzg-p9.html"] * 2
    assert page.xpath("//img[@alt='本文二维码']/@src") == ["1029403.png"]
    assert page.xpath("//img/@src")[-1] == f"{COUNTER}/v/kzg/p9/1029403.gif"  # the counter stays as in the Markdown
    assert page.xpath("//table//td/text()") == ["法国", "3"]
    assert page.xpath("//s/text()") == ["旧说法"]  # GitHub's strikethrough
    assert f"{BASE}/pages/kzg/p9/1029403.md" in page.xpath("//a/@href")  # the share URL: what the QR code holds
    assert article(3).url in page.xpath("//a/@href")
    # Its own address on the HTML site (mirror.site_url), for search engines and readers who share it.
    assert page.xpath("//link[@rel='canonical']/@href") == [f"{SITE}pages/kzg/p9/1029403.html"]
    home = lxml.html.parse(str(out / "index.html")).getroot()
    assert home.xpath("//link[@rel='canonical']/@href") == [f"{SITE}index.html"]
    assert home.xpath("//a[text()='RSS 订阅']/@href") == ["feed.xml"]
    assert home.xpath("//link[@rel='alternate']/@href") == ["feed.xml"]
    assert all(
        h.endswith(".html") or "?t=" in h for h in home.xpath("//a/@href") if h.startswith(("pages/", "indexes/"))
    )
    assert any(h.startswith("pages/kzg/p9/1029403.html?t=") for h in home.xpath("//a/@href"))

    hostile = (out / "pages/kzg/p1/1029404.html").read_text("utf-8")  # the site's language, whatever its title
    assert '<html lang="zh-Hans">' in hostile
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile  # shown as text, as GitHub would


def test_feed_lists_the_newest_articles_newest_first_and_parses_cleanly(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, feed_size=3)
    build(config, store)
    data = (config.output_dir / "feed.xml").read_bytes()
    feed = feedparser.parse(data)

    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10" and feed.feed.title == "测试镜像"
    assert [e.title for e in feed.entries] == ["空正文", "Ferry workers vote to end strike", "王毅抵达莫斯科 第3篇"]
    third = feed.entries[2]
    # The HTML site is on: the page a browser shows, on the HTML site (not under base_url, a blob/main address).
    assert third.link == f"{SITE}pages/kzg/p9/1029403.html"
    assert [link.href for link in feed.feed.links if link.rel == "alternate"] == [f"{SITE}index.html"]
    assert third.id == f"{BASE}/pages/kzg/p9/1029403.md"
    assert third.summary == "正文第一段，第3篇，见原报道。"  # the first paragraph with text, as text
    assert third.published == "2026-01-01T11:00:00Z" and third.updated == "2026-01-01T11:03:00Z"
    assert third.author == "闻天清"
    # The feed's time is the newest article's, never the clock's.
    assert feed.feed.updated == (START + timedelta(hours=5, minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Markup in a body is text in the feed, escaped.
    assert '<summary type="text">&lt;script&gt;alert(1)&lt;/script&gt;</summary>' in data.decode()
    assert b"<script" not in data

    # Without the HTML site the links go to the Markdown pages; the same store gives the same bytes.
    plain = make_config(tmp_path / "plain", html=False, feed_size=3)
    build(plain, store)
    again = feedparser.parse((plain.output_dir / "feed.xml").read_bytes())
    assert again.bozo == 0 and again.entries[2].link == f"{BASE}/pages/kzg/p9/1029403.md"
    assert [e.id for e in again.entries] == [e.id for e in feed.entries]
    assert "](feed.xml)" in (plain.output_dir / "README.md").read_text()
    assert not files(plain.output_dir, ".html")

    # The HTML site on but its address unknown: Markdown pages, which base_url shows rendered.
    unknown = make_config(tmp_path / "unknown", html=True, feed_size=3, site_url=None)
    build(unknown, store)
    feed = feedparser.parse((unknown.output_dir / "feed.xml").read_bytes())
    assert feed.entries[2].link == f"{BASE}/pages/kzg/p9/1029403.md"
    assert [link.href for link in feed.feed.links if link.rel == "alternate"] == [f"{BASE}/README.md"]
    assert files(unknown.output_dir, ".html")


def test_an_empty_mirror_has_a_valid_feed(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    with Store(tmp_path / "empty.db") as empty:
        build(config, empty)
    feed = feedparser.parse((config.output_dir / "feed.xml").read_bytes())
    assert feed.bozo == 0 and feed.entries == [] and feed.feed.updated == "1970-01-01T00:00:00Z"


def test_first_paragraph_skips_images_and_headings() -> None:
    assert (
        first_paragraph("![a](x.png)\n\n## 标题\n\n第一段 **加粗** `代码`\n续行。\n\n第二段。")
        == "第一段 加粗 代码 续行。"
    )
    assert first_paragraph("\n\n".join(["![a](x.png)"] * 20 + ["远处的段落。"])) == "远处的段落。"
    assert first_paragraph("") == ""


def test_no_change_rebuild_writes_nothing_and_a_change_rewrites_only_its_html(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    build(config, store)
    before = snapshot(config.output_dir)
    second = build(config, store)
    assert second.written == [] and second.removed == []
    assert snapshot(config.output_dir) == before

    store.save_article(article(3, markdown="改过的正文。"))
    third = build(config, store)
    assert "pages/kzg/p9/1029403.html" in third.written
    assert "pages/kzg/p9/1029402.html" not in third.written
    assert "改过的正文。" in (config.output_dir / "pages/kzg/p9/1029403.html").read_text()

    # An HTML page deleted or edited by hand comes back.
    page = config.output_dir / "pages/kzg/p9/1029402.html"
    page.write_text("defaced")
    (config.output_dir / "indexes/kzg-p9.html").unlink()
    fourth = build(config, store)
    assert set(fourth.written) == {"pages/kzg/p9/1029402.html", "indexes/kzg-p9.html"}
    assert page.read_text().startswith("<!doctype html>")


def test_turning_html_off_removes_only_the_html_the_build_made(tmp_path: Path, store: Store) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("the operator's own page\n")
    build(make_config(tmp_path, html=False), store)
    assert (out / "index.html").read_text() == "the operator's own page\n"  # not the build's: left alone

    build(make_config(tmp_path, html=True), store)
    assert (out / "index.html").read_text().startswith("<!doctype html>")  # html on: the build owns it
    made = files(out, ".html")
    result = build(make_config(tmp_path, html=False), store)
    assert made and set(result.removed) == made
    assert files(out, ".html") == set() and (out / "README.md").is_file() and (out / "feed.xml").is_file()
    assert files(out, ".md") and files(out, ".png")


@pytest.fixture
def served(tmp_path: Path, store: Store) -> Iterator[tuple[str, Path]]:
    config = make_config(tmp_path)
    build(config, store)
    out = config.output_dir
    (out / ".git").mkdir()
    (out / ".git" / "config").write_text("[remote]\n")
    (tmp_path / "secret.txt").write_text("outside the mirror\n")
    (out / "pages" / "escape.txt").symlink_to(tmp_path / "secret.txt")
    server = preview_server(out, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", out
    finally:
        server.shutdown()
        server.server_close()


def raw_get(base: str, target: str) -> bytes:
    """A request line sent as written: an HTTP client would tidy the ../ away."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(f"GET {target} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n".encode())
        return b"".join(iter(lambda: conn.recv(65536), b""))


def test_serve_answers_pages_and_refuses_anything_outside(served: tuple[str, Path]) -> None:
    base, out = served
    with httpx.Client(base_url=base) as client:
        home = client.get("/")
        assert home.status_code == 200 and home.headers["content-type"] == "text/html; charset=utf-8"
        assert home.content == (out / "index.html").read_bytes()
        page = client.get("/pages/kzg/p9/1029403.html?t=abc")
        assert page.status_code == 200 and "王毅抵达莫斯科 第3篇" in page.text
        assert client.get("/pages/kzg/p9/1029403.png").headers["content-type"] == "image/png"
        assert client.get("/pages/kzg/p9/1029403.md").headers["content-type"] == "text/plain; charset=utf-8"
        assert client.get("/feed.xml").status_code == 200
        for path in ("/.git/config", "/pages/escape.txt", "/pages/", "/pages", "/nothing.html"):
            assert client.get(path).status_code == 404, path
        assert client.post("/index.html").status_code == 501
        assert client.put("/index.html", content=b"x").status_code == 501
    for target in (
        "/../secret.txt",
        "/pages/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%5csecret.txt",
    ):
        answer = raw_get(base, target)
        assert answer.startswith(b"HTTP/1.0 404"), (target, answer[:40])
        assert b"outside the mirror" not in answer
    assert (out / "index.html").read_text().startswith("<!doctype html>")  # nothing written


def test_serve_command_shows_the_markdown_home_without_the_html_site(
    tmp_path: Path, store: Store, serve_config: Callable[[Path], AbstractContextManager[str]]
) -> None:
    config = make_config(tmp_path, html=False)
    build(config, store)
    path = tmp_path / "newsmirror.toml"
    path.write_text(f'[mirror]\noutput = "out"\nbase_url = "{BASE}"\n')
    with serve_config(path) as url:
        home = httpx.get(url, timeout=5)
        assert home.status_code == 200 and home.text == (config.output_dir / "README.md").read_text()


def test_same_store_builds_the_same_html_and_feed_anywhere(tmp_path: Path, store: Store) -> None:
    a, b = make_config(tmp_path / "a"), make_config(tmp_path / "b")
    build(a, store)
    build(b, store)
    for suffix in (".html", ".xml"):
        names = files(a.output_dir, suffix)
        assert names and names == files(b.output_dir, suffix)
        for name in names:
            assert (a.output_dir / name).read_bytes() == (b.output_dir / name).read_bytes(), name


def test_feed_text_from_the_store_cannot_break_the_xml(tmp_path: Path) -> None:
    config = make_config(tmp_path, html=False)
    with Store(tmp_path / "odd.db") as odd:
        odd.save_article(
            article(
                1,
                title="A & B <i>x</i> ]]> \x0b\x1f end",
                author='"Q" & <a>',
                markdown="First & <b>bold</b> \x0c para.\n\nSecond.",
            )
        )
        build(config, odd)
    data = (config.output_dir / "feed.xml").read_bytes()
    lxml.etree.fromstring(data)  # well-formed XML: raises otherwise
    feed = feedparser.parse(data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    entry = feed.entries[0]
    assert entry.title == "A & B <i>x</i> ]]>  end"
    assert entry.author == '"Q" & <a>'
    assert entry.summary == "First & <b>bold</b> para."

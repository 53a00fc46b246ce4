"""Feed and listing parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsmirror.feeds import FeedError, parse_feed, parse_listing
from newsmirror.models import article_id

RSS2 = """<?xml version="1.0" encoding="{enc}"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>看世界</title>
<item><title>王毅抵达莫斯科（更新）</title><link>/news/gb/2026/11/20/1029400.html</link>
<pubDate>Fri, 20 Nov 2026 10:00:00 +0800</pubDate><author>闻天清</author>
<content:encoded><![CDATA[<p>全文内容</p>]]></content:encoded></item>
<item><title>中文路径</title><link>https://news.example.com/新闻/国际/报道.html</link></item>
<item><title>duplicate</title><link>/news/gb/2026/11/20/1029400.html#comments</link></item>
<item><title>no link</title></item>
<item><title>script link</title><link>javascript:alert(1)</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>World</title>
<entry><title type="html">Talks &amp;amp; more</title><link rel="alternate" href="articles/7.html"/>
<updated>2026-11-21T08:30:00Z</updated><content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry>
</feed>"""

RSS1 = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="http://e.com/"><title>t</title><link>http://e.com/</link><description>d</description></channel>
<item rdf:about="http://e.com/a/12345.html"><title>RSS one</title><link>http://e.com/a/12345.html</link></item>
</rdf:RDF>"""


def test_rss2_items_links_dates_content() -> None:
    feed = parse_feed(RSS2.format(enc="utf-8").encode(), "https://www.example.com/news/gb/p9.xml")
    assert feed.warning == ""
    first, second = feed.items  # duplicate, link-less and javascript: items are dropped
    assert first.title == "王毅抵达莫斯科（更新）"
    assert first.link == "https://www.example.com/news/gb/2026/11/20/1029400.html"
    assert first.published == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert first.author == "闻天清"
    assert first.content == "<p>全文内容</p>"
    assert second.link == "https://news.example.com/%E6%96%B0%E9%97%BB/%E5%9B%BD%E9%99%85/%E6%8A%A5%E9%81%93.html"
    assert article_id(first.link) == "1029400"


def test_gbk_feed_mislabelled_utf8() -> None:
    data = RSS2.format(enc="utf-8").encode("gbk")
    feed = parse_feed(data, "https://www.example.com/p9.xml", "application/rss+xml; charset=utf-8")
    assert feed.items[0].title == "王毅抵达莫斯科（更新）"


def test_gbk_feed_declared_gbk() -> None:
    feed = parse_feed(RSS2.format(enc="gbk").encode("gbk"), "https://www.example.com/p9.xml")
    assert feed.items[0].title == "王毅抵达莫斯科（更新）"


def test_atom_and_rss1() -> None:
    atom = parse_feed(ATOM.encode(), "https://en.example.org/world/feed.atom")
    assert atom.items[0].link == "https://en.example.org/world/articles/7.html"
    assert atom.items[0].title == "Talks & more"
    assert atom.items[0].published == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    rss1 = parse_feed(RSS1.encode(), "http://e.com/rss")
    assert [i.link for i in rss1.items] == ["http://e.com/a/12345.html"]


def test_feed_hash_follows_content_not_title() -> None:
    one = parse_feed(RSS2.format(enc="utf-8").encode(), "https://e.com/f").items[0]
    retitled = parse_feed(RSS2.format(enc="utf-8").replace("（更新）", "").encode(), "https://e.com/f").items[0]
    changed = parse_feed(RSS2.format(enc="utf-8").replace("全文内容", "改过的内容").encode(), "https://e.com/f").items[
        0
    ]
    assert one.feed_hash == retitled.feed_hash != changed.feed_hash


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html><head><title>502</title></head><body>Bad gateway</body></html>", "got an HTML page"),
        (b"", "not a feed"),
        (b"\x00\x01binary", "not a feed"),
    ],
)
def test_non_feeds_are_errors(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parse_feed(body, "https://e.com/feed.xml")


def test_truncated_feed_keeps_readable_items_with_warning() -> None:
    data = RSS2.format(enc="utf-8").encode()
    feed = parse_feed(data[: data.index(b"<item><title>duplicate")], "https://e.com/f.xml")
    assert [i.title for i in feed.items] == ["王毅抵达莫斯科（更新）", "中文路径"]
    assert "malformed feed" in feed.warning


LISTING = """<html><body><nav><a href="/">首页</a></nav>
<ul class="news-list"><li><a href="/china/2026/11/1001.html">第一篇</a></li>
<li><a href="//cdn.example.com/china/1002.html"> 第二篇 </a></li><li><a href="/china/2026/11/1001.html">dup</a></li>
<li><a href="mailto:x@example.com">mail</a></li></ul></body></html>"""


def test_listing_page_links() -> None:
    feed = parse_listing(LISTING.encode(), "https://www.example.com/china/", "ul.news-list a")
    assert [(i.title, i.link) for i in feed.items] == [
        ("第一篇", "https://www.example.com/china/2026/11/1001.html"),
        ("第二篇", "https://cdn.example.com/china/1002.html"),
    ]
    with pytest.raises(FeedError, match="no links matching"):
        parse_listing(LISTING.encode(), "https://www.example.com/china/", "div.missing a")


def test_a_feed_the_feed_parser_crashes_on_is_a_feed_error() -> None:
    # An unclosed CDATA inside <link> sends feedparser to its loose parser, which
    # raised KeyError('links'): one clear FeedError, not an unexpected crash.
    feed = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>t</title><item><title></title><link><![CDATA[</link>"
        "<content:encoded><![CDATA[]]></content:encoded></item>"
        "<item><title><svg onload=alert(1)></title><link></link><content:encoded></content:encoded></item>"
        "<item><title></title><link></link><content:encoded></content:encoded></item></channel></rss>"
    )
    with pytest.raises(FeedError, match="malformed feed"):
        parse_feed(feed.encode(), "https://news.example/feed.xml")

"""Hostile inputs for extraction and feed parsing, as hypothesis strategies, and the one
property both must keep: a result or their own one-line error, never anything else.
Used by tests/test_fuzz.py (a few seconds) and bench/fuzz.py (as long as it is asked)."""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.html
from hypothesis import strategies as st

from newsmirror.errors import ExtractionError, FeedError
from newsmirror.extract import SiteRules, extract_article, extract_fragment
from newsmirror.feeds import parse_feed

# What must never come out: characters lxml refuses, and live script.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ACTIVE_TAGS = {"script", "iframe", "object", "embed", "svg", "style", "form", "base", "meta", "link"}


def live_script(html: str) -> bool:
    """Does this HTML carry anything a browser would run (not text that merely reads like it)?"""
    if not html.strip():
        return False
    for element in lxml.html.fragment_fromstring(html, create_parent="div").iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in _ACTIVE_TAGS:
            return True
        for name, value in element.attrib.items():
            if name.lower().startswith("on") or re.sub(r"\s", "", value).lower().startswith(("javascript:", "data:")):
                return True
    return False


# Any code point, surrogates and controls included; and the ones that broke things.
chars = st.characters(codec=None, exclude_categories=())
nasty = st.sampled_from(
    ["\x00", "\x01", "\x0c", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\ufffe", "\uffff", "\ufdd0", "\U0010ffff"]
)
pieces = st.sampled_from(
    [
        "<p>", "</p>", "<a href=", "java&#1&#2script:alert(1)", "<a href='\x0cx'>", "&#xFFFE;", "&#xD800;", "&#0;",
        "&#99999999999;", "&#128;", "&amp;", "&", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>",
        "<![CDATA[", "]]>", "<!--", "-->", "<?xml version='1.0'?>", "<title>", "</title>", "<h1>", "<div>",
        "</div>", "<table><tr><td>", "<noscript><img src=x></noscript>", '<meta charset="gbk">', "<br>",
        "<svg onload=alert(1)>", "<iframe src=javascript:alert(1)>", "\u202e", "\u3000", "新闻报道", "。",
        '<a href="http://news.example/x">x</a>', "<", ">", '"', "'", "=",
    ]
)  # fmt: skip
text = st.lists(st.one_of(chars, nasty, pieces, st.text(max_size=20)), max_size=60).map("".join)
body = "<p>" + "这是一篇正常的新闻文章，内容足够长，足以被当作正文提取出来。" * 2 + "</p>"
pages = st.one_of(
    text,
    st.tuples(text, text, text).map(
        lambda t: f"<html><head><title>{t[0]}</title></head><body><article><h1>{t[1]}</h1>{body}{t[2]}</article>"
    ),
)


def _item(parts: tuple[str, str, str, bool]) -> str:
    title, link, content, cdata = parts
    wrapped = f"<![CDATA[{content}]]>" if cdata else content
    return f"<item><title>{title}</title><link>{link}</link><content:encoded>{wrapped}</content:encoded></item>"


feeds = st.one_of(
    text,
    st.lists(st.tuples(text, text, text, st.booleans()).map(_item), max_size=4).map(
        lambda items: (
            '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>t</title>{''.join(items)}</channel></rss>"
        )
    ),
)
encodings = st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "gb18030", "big5"])


def _encode(value: str, encoding: str) -> bytes:
    return value.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace")


def check_page(page: str, rules: bool) -> None:
    """Extraction of any page: an article with clean text, or an ExtractionError."""
    try:
        result = extract_article(page, "https://news.example/1.html", SiteRules(content="article") if rules else None)
    except ExtractionError:
        return
    for value in (result.title, result.author, result.markdown, result.html, result.text):
        assert not NOT_TEXT.search(value), value
    assert not live_script(result.html), result.html


def check_fragment(fragment: str) -> None:
    try:
        result = extract_fragment(fragment, "https://news.example/1.html")
    except ExtractionError:
        return
    assert not NOT_TEXT.search(result.markdown + result.html), result.html
    assert not live_script(result.html), result.html


def check_feed(feed: str, encoding: str) -> None:
    """Feed parsing of any bytes: items with clean text, or a FeedError."""
    try:
        parsed = parse_feed(_encode(feed, encoding), "https://news.example/feed.xml")
    except FeedError:
        return
    for item in [*parsed.items, *parsed.unlinked]:
        for value in (item.title, item.link, item.content, item.summary, item.author):
            assert not NOT_TEXT.search(value), value


# (strategy, property) pairs, for the test and the benchmark alike.
TARGETS: dict[str, tuple[st.SearchStrategy, Callable[..., None]]] = {
    "extract page (generic)": (st.tuples(pages, st.just(False)), lambda args: check_page(*args)),
    "extract page (site rules)": (st.tuples(pages, st.just(True)), lambda args: check_page(*args)),
    "extract feed content": (text, check_fragment),
    "parse feed": (st.tuples(feeds, encodings), lambda args: check_feed(*args)),
}

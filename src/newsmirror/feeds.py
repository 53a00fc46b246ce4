"""Feed bytes → items, with feedparser; listing pages → the same items, with lxml."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
from lxml.cssselect import CSSSelector

from newsmirror import charset
from newsmirror.errors import FeedError
from newsmirror.models import canonical_url, sha1_hex


@dataclass(slots=True)
class FeedItem:
    title: str
    link: str  # absolute, canonical
    published: datetime | None = None
    author: str = ""
    # The feed's full article (content:encoded, Atom content) when it has one.
    content: str = ""
    summary: str = ""
    updated: str = ""

    @property
    def feed_hash(self) -> str:
        """What the feed says about the item, beyond its title: when this
        changes, the article is fetched again."""
        return sha1_hex("\x1f".join((self.content, self.summary, self.updated)))


@dataclass(slots=True)
class ParsedFeed:
    items: list[FeedItem]
    # A non-fatal problem (a feed that is malformed but still yielded items).
    warning: str = ""
    title: str = ""  # the feed's own title, when it has one


_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")


def _time(parsed: object) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def _title(entry: feedparser.FeedParserDict) -> str:
    title = entry.get("title", "")
    if "html" in entry.get("title_detail", {}).get("type", "") and ("<" in title or "&" in title):
        title = lxml.html.fromstring(f"<p>{title}</p>").text_content()
    return " ".join(title.split())


def _new_link(href: str, base: str, seen: set[str]) -> str:
    """The canonical absolute form of an http(s) link not seen before, else ""."""
    href = href.strip()
    if not href:
        return ""
    link = urljoin(base, href)
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    link = canonical_url(link)
    if link in seen:
        return ""
    seen.add(link)
    return link


def parse_feed(data: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0 or Atom. Relative links are resolved against the
    feed URL. Raises ``FeedError`` when the response holds no feed."""
    text = charset.decode(data, content_type)
    # Hand feedparser UTF-8 and say so: it would otherwise believe the
    # feed's own (often wrong) labels over the text we decoded with care.
    utf8 = _XML_DECL_ENCODING.sub(r'\1 encoding="utf-8"', text, count=1).encode("utf-8")
    headers = {"content-type": "application/xml; charset=utf-8", "content-location": url}
    parsed = feedparser.parse(utf8, response_headers=headers)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.entries:
        if not parsed.get("version") and not parsed.feed.get("title"):
            kind = "an HTML page" if "<html" in text[:2048].lower() else "not a feed"
            raise FeedError(f"not an RSS or Atom feed (got {kind}{f': {problem}' if problem else ''})")
        if problem is not None:
            raise FeedError(f"malformed feed: {problem}")
    items: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (alt.get("href") for alt in entry.get("links", []) if alt.get("rel") == "alternate"), ""
        )
        if not link:
            continue
        link = _new_link(link, url, seen)
        if not link:
            continue
        contents = entry.get("content") or []
        items.append(
            FeedItem(
                title=_title(entry) or link,
                link=link,
                published=_time(entry.get("published_parsed") or entry.get("updated_parsed")),
                author=entry.get("author", ""),
                content=max((c.get("value", "") for c in contents), key=len, default=""),
                summary=entry.get("summary", ""),
                # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning.
                updated=dict.get(entry, "updated", ""),
            )
        )
    warning = f"malformed feed, used the {len(items)} items that could be read: {problem}" if problem else ""
    return ParsedFeed(items, warning, " ".join(str(parsed.feed.get("title", "")).split()))


def parse_listing(data: bytes, url: str, selector: str, content_type: str = "") -> ParsedFeed:
    """Items from a listing page: each link matched by ``selector``, in page order."""
    text = charset.decode(data, content_type)
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise FeedError(f"cannot parse the listing page: {exc}") from None
    items: list[FeedItem] = []
    seen: set[str] = set()
    for element in CSSSelector(selector)(root):
        anchors = [element] if element.tag == "a" else element.iter("a")
        for anchor in anchors:
            link = _new_link(anchor.get("href") or "", url, seen)
            if not link:
                continue
            items.append(FeedItem(title=" ".join(anchor.text_content().split()) or link, link=link))
    if not items:
        raise FeedError(f"the listing page has no links matching {selector!r}")
    return ParsedFeed(items)

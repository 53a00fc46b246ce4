"""Feed bytes → items, with feedparser; listing pages → the same items, with lxml."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
from lxml.cssselect import CSSSelector

from newsmirror import charset
from newsmirror.errors import FeedError
from newsmirror.extract.dom import parse_fragment, parse_html
from newsmirror.models import article_id, canonical_url, sha1_hex
from newsmirror.words import counted


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
    # An entry without a link has no page: its id comes from its guid or its content,
    # and ``link`` is the feed's address (where its text came from).
    entry_id: str = ""

    @property
    def key(self) -> str:
        """The article's id: from its link, or for an entry without one, its ``entry_id``."""
        return self.entry_id or article_id(self.link)

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
    # Entries without a link (nor a guid that is one): usable only from the feed's content.
    unlinked: list[FeedItem] = field(default_factory=list)


_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")


def _time(parsed: object) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def _text(value: object) -> str:
    """A string feedparser made (it decodes entities and character references): what is not text goes."""
    return charset.clean_text(value if isinstance(value, str) else "")


def _title(entry: feedparser.FeedParserDict) -> str:
    title = _text(entry.get("title"))
    if "html" in entry.get("title_detail", {}).get("type", "") and ("<" in title or "&" in title):
        title = parse_fragment(f"<p>{title}</p>").text_content()
    return " ".join(title.split())


def _unlinked_item(entry: feedparser.FeedParserDict, feed_url: str, content: str, summary: str) -> FeedItem:
    """An entry without a link: its id from its guid, or else from its text."""
    body = content or summary
    basis = _text(entry.get("id")) or body
    title = _title(entry) or " ".join(parse_fragment(body or "<p></p>").text_content().split())[:60]
    return FeedItem(
        title=title or "(untitled)",
        link=canonical_url(feed_url),
        published=_time(entry.get("published_parsed") or entry.get("updated_parsed")),
        author=_text(entry.get("author")),
        content=body,
        summary=summary,
        updated=_text(dict.get(entry, "updated")),
        entry_id=f"entry-{sha1_hex(basis)[:12]}",
    )


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
    # Character references to what is not text (&#1;, &#xD800;) out before feedparser
    # turns them into characters (it fails on some: a lone surrogate).
    text = charset.clean_markup(charset.decode(data, content_type))
    # Hand feedparser UTF-8 and say so: it would otherwise believe the
    # feed's own (often wrong) labels over the text we decoded with care.
    utf8 = _XML_DECL_ENCODING.sub(r'\1 encoding="utf-8"', text, count=1).encode("utf-8")
    headers = {"content-type": "application/xml; charset=utf-8", "content-location": url}
    try:
        parsed = feedparser.parse(utf8, response_headers=headers)
    except (KeyError, IndexError, AttributeError, TypeError) as exc:
        # feedparser's loose parser, its fallback for malformed XML, crashes on some
        # (an unclosed CDATA inside <link>): such bytes are no feed we can read.
        raise FeedError(f"malformed feed: the feed parser failed on it ({type(exc).__name__}: {exc})") from None
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.entries:
        if not parsed.get("version") and not parsed.feed.get("title"):
            kind = "an HTML page" if "<html" in text[:2048].lower() else "not a feed"
            raise FeedError(f"not an RSS or Atom feed (got {kind}{f': {problem}' if problem else ''})")
        if problem is not None:
            raise FeedError(f"malformed feed: {problem}")
    items: list[FeedItem] = []
    unlinked: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        contents = entry.get("content") or []
        content = _text(max((c.get("value", "") for c in contents), key=len, default=""))
        summary = _text(entry.get("summary"))
        href = _text(entry.get("link")) or next(
            (_text(alt.get("href")) for alt in entry.get("links", []) if alt.get("rel") == "alternate"), ""
        )
        # An RSS guid is the item's permanent link unless it says otherwise.
        guid = _text(entry.get("id"))
        if not href and entry.get("guidislink", True) and guid.startswith(("http://", "https://")):
            href = guid
        if not href:
            unlinked.append(_unlinked_item(entry, url, content, summary))
            continue
        link = _new_link(href, url, seen)
        if not link:
            continue
        items.append(
            FeedItem(
                title=_title(entry) or link,
                link=link,
                published=_time(entry.get("published_parsed") or entry.get("updated_parsed")),
                author=_text(entry.get("author")),
                content=content,
                summary=summary,
                # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning.
                updated=_text(dict.get(entry, "updated")),
            )
        )
    warning = f"malformed feed, used the {counted(len(items), 'item')} that could be read: {problem}" if problem else ""
    return ParsedFeed(items, warning, " ".join(_text(parsed.feed.get("title")).split()), unlinked)


def parse_listing(data: bytes, url: str, selector: str, content_type: str = "") -> ParsedFeed:
    """Items from a listing page: each link matched by ``selector``, in page order."""
    text = charset.decode(data, content_type)
    try:
        root = parse_html(text)
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

"""Find a site's feeds, for `newsmirror add`: so adding a site does not mean reading its HTML.

From one page of the site: the feeds its ``<link rel="alternate">`` tags name, then
the paths where feeds commonly live (``/feed``, ``/rss.xml``…), each fetched
through the configured HTTP client (its proxy, limits and fences) and kept only
if it parses as a feed with items. A site with no feed gets a listing-page
proposal instead: the page itself, with a CSS selector for its article links
guessed from the page's structure — to confirm with `newsmirror extract`.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html

from newsmirror import charset
from newsmirror.feeds import FeedError, parse_feed, parse_listing
from newsmirror.http import FetchError, HttpClient
from newsmirror.words import counted

_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
# Where feeds commonly live (WordPress, Blogger, Ghost, Hugo, Jekyll, Drupal, news CMSs), tried from
# the page's folder and from the top of the site.
COMMON_PATHS = (
    "feed",
    "feed/",
    "rss",
    "rss/",
    "rss.xml",
    "feed.xml",
    "atom.xml",
    "index.xml",
    "index.rss",
    "rss/index.xml",
    "feeds/posts/default",
    "?feed=rss2",
)
# Path segments that say "feed", not what the feed is about: a channel id is never made of them.
_GENERIC = {"feed", "feeds", "rss", "atom", "index", "default", "posts", "xml", "rss2", "news", "www"}
_UNSAFE = re.compile(r"[^a-z0-9]+")
# An article link usually has a number or a long slug in its path.
_ARTICLE_LIKE = re.compile(r"\d{3,}|[a-z0-9]+-[a-z0-9]+-[a-z0-9]+")
_MIN_LINKS = 3  # fewer links than this under one selector is not a listing


@dataclass(frozen=True, slots=True)
class FoundFeed:
    url: str
    title: str
    items: int


@dataclass(frozen=True, slots=True)
class ListingProposal:
    url: str
    links: str  # the CSS selector of the article links
    samples: tuple[str, ...]  # the first few links it matches


@dataclass(slots=True)
class Discovery:
    page: str  # the page looked at, after redirects
    site_name: str
    feeds: list[FoundFeed] = field(default_factory=list)
    listing: ListingProposal | None = None
    # Feed addresses tried and why each was not kept, for --dry-run and error messages.
    rejected: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        """What was found, for the operator."""
        lines = [f"looked at {self.page} ({self.site_name})"]
        lines += [f"  feed: {f.url} — {f.title or 'untitled'}, {counted(f.items, 'item')}" for f in self.feeds]
        lines += [f"  not a feed: {reason}" for reason in self.rejected]
        if self.listing:
            lines.append(f"  no feed; a listing page: {self.listing.url}, links = {self.listing.links!r}, e.g.:")
            lines += [f"    {sample}" for sample in self.listing.samples]
        return lines


class DiscoveryError(Exception):
    """The page cannot be read at all; one line naming it."""


async def discover(url: str, http: HttpClient) -> Discovery:
    """Look at ``url`` and find its feeds (or a listing proposal)."""
    try:
        response = await http.get(url)
    except FetchError as exc:
        raise DiscoveryError(str(exc)) from None
    # The address may be a feed itself.
    try:
        feed = parse_feed(response.content, response.url, response.content_type)
        if feed.items:
            return Discovery(response.url, feed.title or _host_name(response.url), [_found(response.url, feed)])
    except FeedError:
        pass
    text = charset.decode(response.content, response.content_type)
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise DiscoveryError(f"{response.url}: not an HTML page ({exc})") from None
    found = Discovery(response.url, _site_name(root, response.url))
    announced = _alternate_feeds(root, response.url)
    found.feeds = await _check_feeds(http, announced, found.rejected)
    if not found.feeds:
        found.feeds = await _check_feeds(http, _common_feed_urls(response.url), found.rejected, quiet=True)
    if not found.feeds:
        found.listing = propose_listing(response.content, response.url, response.content_type, root)
    return found


def _found(url: str, feed: object) -> FoundFeed:
    return FoundFeed(url, getattr(feed, "title", "") or "", len(getattr(feed, "items", [])))


def _alternate_feeds(root: lxml.html.HtmlElement, base: str) -> dict[str, str]:
    """URL → title of every feed the page announces, in page order."""
    feeds: dict[str, str] = {}
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in _FEED_TYPES and href:
            feeds.setdefault(urljoin(base, href), " ".join((link.get("title") or "").split()))
    return feeds


def _common_feed_urls(page: str) -> dict[str, str]:
    parts = urlsplit(page)
    top = f"{parts.scheme}://{parts.netloc}/"
    folder = urljoin(page, ".")
    urls: dict[str, str] = {}
    for base in dict.fromkeys((folder, top)):
        for path in COMMON_PATHS:
            urls.setdefault(urljoin(base, path), "")
    return urls


async def _check_feeds(
    http: HttpClient, candidates: dict[str, str], rejected: list[str], *, quiet: bool = False
) -> list[FoundFeed]:
    """Fetch every candidate at once; keep those that parse as feeds with items (once each, by final URL)."""

    async def check(url: str) -> FoundFeed | None:
        try:
            response = await http.get(url)
            feed = parse_feed(response.content, response.url, response.content_type)
        except (FetchError, FeedError) as exc:
            if not quiet:
                rejected.append(f"{url}: {exc}".replace(f"{url}: {url}: ", f"{url}: "))
            return None
        if not feed.items:
            rejected.append(f"{url}: a feed with no items")
            return None
        return FoundFeed(response.url, candidates[url] or feed.title, len(feed.items))

    results = await asyncio.gather(*(check(url) for url in candidates))
    unique: dict[str, FoundFeed] = {}
    for result in results:
        if result is not None:
            unique.setdefault(result.url, result)
    return list(unique.values())


def propose_listing(
    data: bytes, url: str, content_type: str, root: lxml.html.HtmlElement | None = None
) -> ListingProposal | None:
    """Guess the CSS selector of a listing page's article links: the links of one
    container (its id or class), on this site, with headline-length text, most of
    them shaped like article addresses — the group that looks most like a list of
    articles wins. None when no group has a few such links."""
    if root is None:
        root = lxml.html.document_fromstring(charset.decode(data, content_type))
    host = urlsplit(url).hostname
    groups: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for anchor in root.iter("a"):
        href = urljoin(url, (anchor.get("href") or "").strip())
        text = " ".join(anchor.text_content().split())
        if urlsplit(href).hostname != host or len(text) < 6 or href.rstrip("/") == url.rstrip("/"):
            continue
        if any(a.tag in ("nav", "header", "footer") for a in anchor.iterancestors()):
            continue
        selector = _container_selector(anchor)
        if selector:
            groups[selector].setdefault(href, text)
    best: tuple[float, str] | None = None
    for selector, links in groups.items():
        if len(links) < _MIN_LINKS:
            continue
        article_like = sum(1 for href in links if _ARTICLE_LIKE.search(urlsplit(href).path.lower()))
        average_text = sum(min(len(t), 40) for t in links.values()) / len(links)
        score = len(links) * average_text * (0.2 + article_like / len(links))
        if best is None or score > best[0]:
            best = (score, selector)
    if best is None:
        return None
    try:
        items = parse_listing(data, url, best[1], content_type).items
    except FeedError:
        return None
    return ListingProposal(url, best[1], tuple(item.link for item in items[:3]))


def _container_selector(anchor: lxml.html.HtmlElement) -> str:
    """``ul.news-list a``: the nearest ancestor with an id or a class, within four levels."""
    for depth, element in enumerate(anchor.iterancestors()):
        if depth >= 4 or element.tag in ("body", "html"):
            break
        if element.get("id") and re.fullmatch(r"[A-Za-z][\w-]*", element.get("id", "")):
            return f"{element.tag}#{element.get('id')} a"
        classes = [c for c in (element.get("class") or "").split() if re.fullmatch(r"[A-Za-z][\w-]*", c)]
        if classes:
            return f"{element.tag}.{classes[0]} a"
    return ""


def _site_name(root: lxml.html.HtmlElement, url: str) -> str:
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() == "og:site_name" and meta.get("content"):
            return " ".join(meta.get("content", "").split())
    title = root.find(".//title")
    if title is not None and title.text_content().strip():
        # "Section - Site", "Headline | Site": the site's name comes last.
        parts = [p.strip() for p in re.split(r"\s[-|–—_·]\s|_", title.text_content()) if p.strip()]
        return parts[-1] if parts else _host_name(url)
    return _host_name(url)


def _host_name(url: str) -> str:
    return (urlsplit(url).hostname or "site").removeprefix("www.")


def site_id_for(url: str, taken: set[str]) -> str:
    """A site id from the host: www.kzg.io → kzg (an address such as 127.0.0.1 gives "site")."""
    host = _host_name(url)
    if re.fullmatch(r"[\d.]+|\[?[0-9a-f:]+\]?", host):
        return unique_id("site", taken)
    labels = [label for label in host.split(".") if label not in _GENERIC]
    base = _UNSAFE.sub("-", (labels[0] if labels else host).lower()).strip("-")[:40] or "site"
    return unique_id(base, taken)


def channel_id_for(feed_url: str, title: str, taken: set[str]) -> str:
    """A channel id from the feed's path (``/rss/world.xml`` → world), else its ASCII title, else ``news``."""
    parts = urlsplit(feed_url)
    segments = [s.rsplit(".", 1)[0].lower() for s in parts.path.split("/") if s]
    segments += [v.lower() for v in re.split(r"[=&]", parts.query) if v]
    words = [_UNSAFE.sub("-", s).strip("-") for s in reversed(segments)]
    meaningful = [w for w in words if w and w not in _GENERIC and not w.isdigit()]
    ascii_title = _UNSAFE.sub("-", title.lower()).strip("-") if title.isascii() else ""
    base = (meaningful[0] if meaningful else ascii_title or "news")[:40].strip("-") or "news"
    return unique_id(base, taken)


def unique_id(base: str, taken: set[str]) -> str:
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate

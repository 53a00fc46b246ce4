"""Plain data passed between the stages of the pipeline."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit


@dataclass(frozen=True, slots=True)
class ArticleKey:
    site: str
    channel: str
    id: str


@dataclass(slots=True)
class Article:
    site: str
    channel: str
    id: str
    url: str
    title: str
    markdown: str
    html: str
    published: datetime
    fetched: datetime
    author: str = ""
    lead_image: str = ""
    # Hash of the article as stored (title + Markdown): changes mean "updated".
    content_hash: str = ""
    # Hash of what the feed said about the item, to notice a changed feed entry.
    feed_hash: str = ""
    # When its text last changed (its earlier versions are kept as revisions); None: never.
    updated: datetime | None = None
    # When its page was first seen gone, once it is marked deleted at the source; None: not deleted.
    deleted: datetime | None = None

    @property
    def key(self) -> ArticleKey:
        return ArticleKey(self.site, self.channel, self.id)

    def __post_init__(self) -> None:
        if not self.content_hash:
            self.content_hash = sha1_hex(self.title + "\n" + self.markdown)


@dataclass(slots=True)
class FeedState:
    """What we remember about a channel's feed between runs."""

    site: str
    channel: str
    url: str
    etag: str = ""
    last_modified: str = ""
    checked_at: datetime | None = None
    ok: bool = True
    error: str = ""
    # Kept by the store as checks are saved (see Store.save_feed_state); read-only here.
    last_success: datetime | None = None
    failures: int = 0  # failed checks in a row since the last success
    last_error: str = ""  # kept after the feed recovers
    last_error_at: datetime | None = None
    # The schedule (see schedule.py): when the feed is polled next, and since when
    # every poll has failed (None while it answers).
    next_due: datetime | None = None
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One entry of the run log: a sync and what it did."""

    id: int
    command: str
    started: datetime
    finished: datetime | None  # None: still going, or killed
    summary: RunSummary | None


@dataclass(slots=True)
class RunSummary:
    feeds_ok: int = 0
    feeds_unchanged: int = 0
    feeds_failed: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    # Configured feeds not polled: not due yet, or being polled by a worker.
    feeds_not_due: int = 0
    rechecked: int = 0  # stored articles fetched again to catch edits and deletions
    deleted: int = 0  # articles marked deleted at their source by this run
    images: int = 0  # images shrunk and stored
    shrink_seconds: float = 0.0  # the time at least one of them was being shrunk
    remade: int = 0  # stored articles whose Markdown the current converter made again (from their HTML)
    errors: list[str] = field(default_factory=list)
    # One line per feed that has failed every poll for over a day.
    failing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.feeds_failed == 0 and self.failed == 0


# How an article's Markdown shows an image: ![alt](url), the URL without spaces or ")". Extraction
# writes it; sync finds the images to fetch by it and render points it at the mirror's copies.
IMAGE_LINK = re.compile(r"!\[(?P<alt>[^\]\n]*)\]\((?P<url>https?://[^)\s]+)\)")


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|spm|from)$")


def canonical_url(url: str) -> str:
    """A stable form of an article URL: no fragment, no tracking parameters,
    lowercase scheme and host, non-ASCII characters percent-encoded."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    # Quote what is not already quoted, so 中文 paths and %E4%B8%AD give one form.
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~") or "/"
    host = parts.hostname.encode("idna").decode("ascii") if parts.hostname else ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


_NUMERIC_ID = re.compile(r"^\d{4,20}$")
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")


def article_id(url: str) -> str:
    """A file-name-safe id for an article, derived from its canonical URL.

    News sites number their articles (…/2023/02/20/1029400.html), and that
    number is what readers and the old mirror know, so it is kept; anything else
    becomes a short ASCII slug plus a hash of the URL. The result only ever
    holds [a-z0-9-], so no feed can choose a path outside the output tree.
    """
    canonical = canonical_url(url)
    parts = urlsplit(canonical)
    segments = [s for s in unquote(parts.path).split("/") if s]
    stem = segments[-1].rsplit(".", 1)[0] if segments else ""
    if _NUMERIC_ID.match(stem) and not parts.query:
        return stem
    slug = _SLUG_UNSAFE.sub("-", stem.lower()).strip("-")[:40].strip("-")
    digest = sha1_hex(canonical)[:10]
    return f"{slug}-{digest}" if slug else digest

"""What a correct mirror of the demo sites holds, so tests assert from data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newsmirror.demosite.content import Item, Site
from newsmirror.demosite.render import TRACKER_PATH
from newsmirror.models import canonical_url


@dataclass(frozen=True, slots=True)
class ExpectedArticle:
    site: str
    channel: str
    url: str  # canonical (newsmirror.models.canonical_url), as the store keeps it
    title: str
    published: datetime
    text: str  # a paragraph of the body, as plain text, that a correct mirror holds
    images: tuple[str, ...]  # absolute URLs of the article's images
    author: str = ""


@dataclass(frozen=True, slots=True)
class Expected:
    # Per (site, channel): the articles that should be stored, newest first.
    # The malformed feed's channel is present with an empty list.
    articles: dict[tuple[str, str], list[ExpectedArticle]]
    skipped: list[ExpectedArticle]  # video items: in the feed, skipped by title
    not_found: list[str]  # URLs linked from a feed that answer 404
    slow: list[str]  # URLs that answer after DemoSite.slow_delay (also in `articles`)
    malformed: list[tuple[str, str]]  # (site, channel) whose feed is not a feed
    update_marked: list[str]  # URLs whose title carries an update marker
    chinese_path: list[str]  # URLs with Chinese characters in their path
    listing: list[tuple[str, str]]  # (site, channel) read from a listing page, not a feed
    feeds: dict[tuple[str, str], str]  # (site, channel) → feed or listing URL
    gbk_site: str  # served as GBK while the header says UTF-8
    feed_content_site: str  # takes the body from the feed's content:encoded
    generic_site: str  # has no extraction rules
    # Per site: strings that only appear in junk (hidden spans, promos, footers,
    # trackers, scripts) and must be absent from every stored article.
    boilerplate: dict[str, list[str]]
    tracker: str  # the tracking pixel's path; no stored article may reference it

    def all_articles(self) -> list[ExpectedArticle]:
        return [a for articles in self.articles.values() for a in articles]

    def article(self, url: str) -> ExpectedArticle:
        for article in self.all_articles() + self.skipped:
            if article.url == canonical_url(url):
                return article
        raise KeyError(url)


def _expected_article(item: Item, site: Site, base: str) -> ExpectedArticle:
    return ExpectedArticle(
        site=item.site,
        channel=item.channel,
        url=canonical_url(base + item.path),
        title=item.title,
        published=item.date,
        text=item.text_sample,
        images=tuple(base + site.image_dir + file for file in item.images),
        author=item.author,
    )


def build_expected(sites: list[Site], items: dict[str, list[Item]], base: str) -> Expected:
    articles: dict[tuple[str, str], list[ExpectedArticle]] = {}
    skipped, not_found, slow, update_marked, chinese = [], [], [], [], []
    for site in sites:
        for channel in site.channels:
            stored = articles.setdefault((site.id, channel.id), [])
            if channel.kind == "malformed":
                continue
            for item in items[site.id]:
                if item.channel != channel.id:
                    continue
                expected = _expected_article(item, site, base)
                if item.missing:
                    not_found.append(expected.url)
                    continue
                if any(word in item.title for word in site.skip_titles_matching):
                    skipped.append(expected)
                    continue
                stored.append(expected)
                if item.slow:
                    slow.append(expected.url)
                if any(marker in item.title for marker in site.update_markers):
                    update_marked.append(expected.url)
                if any(ord(ch) > 127 for ch in item.path):
                    chinese.append(expected.url)
    return Expected(
        articles=articles,
        skipped=skipped,
        not_found=not_found,
        slow=slow,
        malformed=[(s.id, c.id) for s in sites for c in s.channels if c.kind == "malformed"],
        update_marked=update_marked,
        chinese_path=chinese,
        listing=[(s.id, c.id) for s in sites for c in s.channels if c.kind == "listing"],
        feeds={(s.id, c.id): canonical_url(base + c.path) for s in sites for c in s.channels},
        gbk_site=next(s.id for s in sites if s.charset == "gbk"),
        feed_content_site=next(s.id for s in sites if s.body_from_feed),
        generic_site=next(s.id for s in sites if not s.content and not s.body_from_feed),
        boilerplate={s.id: [*s.boilerplate, "pixel.gif", "<script", "javascript:"] for s in sites},
        tracker=TRACKER_PATH,
    )

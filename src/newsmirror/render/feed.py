"""The mirror's Atom feed (``layout.FEED``), the newest ``mirror.feed_size`` articles.

Every entry links to the article's page in the mirror: its HTML page under
``mirror.site_url`` when the HTML site is on and that address is known (a feed
reader opens links in a browser), otherwise its Markdown page under
``mirror.base_url`` (what GitHub and its peers render — an ``.html`` file under
a GitHub ``blob/main`` address would show as source). The entry's id is the
page's Markdown address, so turning the HTML site on or off does not make every
entry new. Dates come from
the store, never from the clock: the same store gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from newsmirror import layout
from newsmirror.config import MirrorConfig
from newsmirror.render.channels import ChannelView
from newsmirror.render.html_site import first_paragraph
from newsmirror.render.labels import labels_for
from newsmirror.render.templating import environment
from newsmirror.store import ArticleHead, Store

# Before the first article: a fixed date keeps an empty feed valid and deterministic.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    title: str
    id: str
    link: str
    published: str
    updated: str
    author: str
    channel: str
    summary: str
    language: str


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def newest_heads(views: list[ChannelView], size: int) -> list[tuple[ArticleHead, ChannelView]]:
    """The ``size`` newest kept articles across every channel, newest first (ties in a fixed order)."""
    heads = [(head, view) for view in views for head in view.heads]
    heads.sort(key=lambda hv: (hv[0].published, hv[0].key.site, hv[0].key.channel, hv[0].key.id), reverse=True)
    return heads[:size]


def page_link(mirror: MirrorConfig, md_path: str) -> str:
    """Where a reader opens a page of the mirror: its HTML page on the HTML site, else its Markdown page."""
    if mirror.html and mirror.site_url:
        return layout.url(mirror.site_url, layout.html_path(md_path))
    return layout.url(mirror.base_url, md_path)


def render_feed(store: Store, views: list[ChannelView], mirror: MirrorConfig) -> str:
    """The Atom XML of feed.xml; it reads the ``mirror.feed_size`` newest articles' bodies for their summaries."""
    entries: list[FeedEntry] = []
    for head, view in newest_heads(views, mirror.feed_size):
        article = store.article(head.key)
        if article is None:  # deleted since the heads were read
            continue
        path = layout.page_path(head.key)
        entries.append(
            FeedEntry(
                title=head.title or labels_for(view.site.language).untitled,
                id=layout.share_url(mirror.base_url, head.key),
                link=page_link(mirror, path),
                published=rfc3339(head.published),
                # An article's page changes when it is fetched again.
                updated=rfc3339(max(head.published, head.fetched)),
                author=head.author,
                channel=f"{view.site.name} · {view.name}",
                summary=first_paragraph(article.markdown),
                language=view.site.language,
            )
        )
    updated = max((e.updated for e in entries), default=rfc3339(_EPOCH))
    text = (
        environment()
        .get_template("feed.xml.j2")
        .render(
            title=mirror.title,
            language=mirror.language,
            # The id stays the same when the HTML site is turned on or off; the link is what a browser can show.
            id=layout.url(mirror.base_url, layout.HOME),
            home=page_link(mirror, layout.HOME),
            updated=updated,
            entries=entries,
        )
    )
    return text.rstrip() + "\n"

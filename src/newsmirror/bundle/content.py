"""What an offline copy holds: the kept articles (or those fetched since a moment), their images, the
channel indexes, the most-read list and a home page — read from the store, rendered as the mirror renders them.

Every format (ZIM, EPUB, single-file HTML) takes its pages from here, so an offline copy says what the
mirror says. Offline copies carry no view-counter image and no cache-busting stamps: a reader without a
network must never be made to fetch anything.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from newsmirror import layout
from newsmirror.config import Config
from newsmirror.models import IMAGE_LINK, Article, ArticleKey
from newsmirror.render.channels import ChannelView, kept_channels
from newsmirror.render.home import render_home
from newsmirror.render.hot import HotEntry, hot_entries, hot_since, render_hot
from newsmirror.render.image_copies import stored_image_files
from newsmirror.render.indexes import render_indexes
from newsmirror.render.labels import labels_for
from newsmirror.render.pages import render_page
from newsmirror.render.templating import render_template
from newsmirror.store import Store

# Media types of the image files sync keeps (sniffed from their first bytes).
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


@dataclass(slots=True)
class OfflineArticle:
    article: Article
    view: ChannelView
    images: dict[str, str]  # original URL → stored file name, for the images the store holds

    @property
    def key(self) -> ArticleKey:
        return self.article.key


@dataclass(slots=True)
class OfflineMirror:
    """The part of the mirror an offline copy carries, and the means to render it."""

    config: Config
    store: Store
    views: list[ChannelView]
    images: dict[ArticleKey, dict[str, str]]
    hot: list[HotEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def updated(self) -> datetime | None:
        """When the newest article in the copy was fetched: the copy's date, never the clock's."""
        return max((h.fetched for v in self.views for h in v.heads), default=None)

    @property
    def article_count(self) -> int:
        return sum(len(v.heads) for v in self.views)

    def fingerprint(self) -> str:
        """Everything the copy is made from, known without reading a body: its bytes follow from it."""
        parts = [self.config.mirror.model_dump_json(), *(repr(e) for e in self.hot)]
        for view in self.views:
            parts.append(f"{view.slug} {view.site.name} {view.name}")
            for h in view.heads:
                files = " ".join(f"{u}={n}" for u, n in self.images.get(h.key, {}).items())
                parts.append(
                    f"{layout.page_path(h.key)} {h.content_hash} {h.title} {h.author} {h.published} {h.fetched} {files}"
                )
        return "\n".join(parts)

    def articles(self, view: ChannelView | None = None) -> Iterator[OfflineArticle]:
        """The copy's articles, channel by channel, newest first, read one at a time."""
        for v in [view] if view else self.views:
            for head in v.heads:
                article = self.store.article(head.key)
                if article is not None:  # None: deleted since the heads were read
                    yield OfflineArticle(article, v, self.images.get(head.key, {}))

    def image_files(self) -> Iterator[tuple[str, bytes]]:
        """(file name, bytes) of every image the copy's articles show, each once, sorted by name."""
        urls: dict[str, str] = {}
        for view in self.views:
            for head in view.heads:
                for url, name in self.images.get(head.key, {}).items():
                    urls.setdefault(name, url)
        for name, url in sorted(urls.items()):
            data = self.store.image_data(url)
            if data is not None:
                yield name, data

    # The pages, as Markdown at their place in the mirror's tree (links between them are relative).

    def site_page(self, item: OfflineArticle) -> str:
        """The article's page as the mirror shows it, without QR code or counter (pages/<site>/<channel>/<id>.md)."""
        root = layout.root(layout.page_path(item.article.key))
        refs = {name: f"{root}{layout.image_path(name)}" for name in item.images.values()}
        article = replace(item.article, markdown=_offline_images(item.article.markdown, item.images, refs))
        return render_page(article, item.view, self.config.mirror, {}, qr=False)

    def lists(self) -> dict[str, str]:
        """Home, most read and every channel index, by path."""
        mirror = self.config.mirror
        pages: dict[str, str] = {}
        for view in self.views:
            pages.update(render_indexes(view, mirror))
        pages[layout.HOT] = render_hot(self.hot, mirror)
        pages[layout.HOME] = render_home(self.config, self.views, self.hot, defaultdict(str), self.updated)
        return pages

    def standalone(self, item: OfflineArticle, image_ref: dict[str, str]) -> str:
        """The article alone, to be read outside the mirror (EPUB chapter, single file): no links to
        other pages; ``image_ref`` maps each stored file name to what the page shows it by."""
        article = item.article
        body = _offline_images(article.markdown.strip(), item.images, image_ref)
        labels = labels_for(item.view.site.language)
        return render_template(
            "offline.md.j2",
            L=labels,
            article=article,
            site_name=item.view.site.name,
            channel=item.view,
            body=body or labels.empty_body,
            share_url=layout.share_url(self.config.mirror.base_url, article.key),
        )


def _offline_images(markdown: str, files: dict[str, str], image_ref: dict[str, str]) -> str:
    """Each image the copy holds points at its copy; one it does not hold becomes a plain link, so an
    offline page never tries to load a picture from the network."""

    def local(match: re.Match[str]) -> str:
        name = files.get(match["url"])
        if name and name in image_ref:
            return f"![{match['alt']}]({image_ref[name]})"
        return f"[{match['alt'] or '图片'}（原图，需联网）]({match['url']})"

    return IMAGE_LINK.sub(local, markdown)


def offline_mirror(config: Config, store: Store, since: datetime | None = None) -> OfflineMirror:
    """The kept articles of every channel (``since``: only those fetched at or after it)."""
    mirror = config.mirror.model_copy(update={"counter_url": None, "cache_bust": False})
    config = config.model_copy(update={"mirror": mirror})
    errors: list[str] = []
    views = kept_channels(config, store, errors)
    if since is not None:
        for view in views:
            view.heads = [h for h in view.heads if h.fetched >= since]
    views = [v for v in views if v.heads]
    images = stored_image_files(store, errors) if mirror.images == "copy" else {}
    copy = OfflineMirror(config, store, views, images, errors=errors)
    if copy.updated:
        since_day = hot_since(copy.updated.date(), mirror.hot_window_days)
        copy.hot = hot_entries(store, since_day, mirror.hot_size, views)
    return copy

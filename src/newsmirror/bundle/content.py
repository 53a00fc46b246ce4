"""What an offline copy holds: the kept articles (or those fetched since a moment), their images, the
channel indexes, the most-read list and a home page — read from the store, rendered as the mirror renders them.

Every format (ZIM, EPUB, single-file HTML) takes its pages from here, so an offline copy says what the
mirror says. Offline copies carry no view-counter image and no cache-busting stamps: a reader without a
network must never be made to fetch anything.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from html import escape
from urllib.parse import urlsplit

from jinja2 import Template

from newsmirror import layout
from newsmirror.config import Config
from newsmirror.layout import html_path
from newsmirror.models import IMAGE_LINK, Article, ArticleKey
from newsmirror.render.archive import archive_words, site_language
from newsmirror.render.channels import ChannelView, kept_channels
from newsmirror.render.home import render_home
from newsmirror.render.hot import HotEntry, hot_entries, hot_since, render_hot
from newsmirror.render.html_site import markdown_parser
from newsmirror.render.image_copies import stored_image_files
from newsmirror.render.indexes import render_indexes
from newsmirror.render.labels import labels_for
from newsmirror.render.templating import environment
from newsmirror.render.variants import Variant, convert_markdown, convert_text
from newsmirror.store import Store

# Media types of the image files sync keeps (sniffed from their first bytes).
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
# How ``body_html`` names a held image (a scheme of its own: no article can make one); each format
# replaces it with its own reference.
IMAGE_REF = "offline-image:"
_IMAGE_SRC = re.compile(f'src="{IMAGE_REF}([0-9A-Za-z._-]+)"')
# offline_article.html.j2's marks: a part only one format shows, and where the body goes. An article's own
# text cannot make them: its HTML comes from Markdown with raw HTML shown as text.
_FORMAT_PART = re.compile(r"<!--(zim|book)-->(.*?)<!--/\1-->", re.DOTALL)
_BODY = "<!--body-->"


@dataclass(slots=True)
class OfflineArticle:
    article: Article
    view: ChannelView
    images: dict[str, str]  # original URL → stored file name, for the images the store holds
    # Its frame in each format (``OfflineMirror.article_html``): rendered once, when first asked for.
    frames: dict[bool, tuple[str, str]] | None = field(default=None, repr=False)

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
    variant: Variant | None = None  # a copy in the other script (mirror.variants); None: the mirror's own

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
        if self.variant:
            parts.append(f"{self.variant!r} {self.variant.fingerprint()}")
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
            # A channel's newest articles in one query (the heads are its newest, less those left out by
            # ``since``); one kept on beyond them (deleted at its source) is read on its own.
            newest = {a.key: a for a in self.store.articles(v.site.id, v.channel.id, len(v.heads))}
            for head in v.heads:
                article = newest.get(head.key) or self.store.article(head.key)
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

    # The pages. An article's body is rendered from Markdown once, and every format (ZIM page, EPUB
    # chapter, single file) puts it in its own frame, with its own way of pointing at the images.

    def body_html(self, item: OfflineArticle) -> str:
        """The article's text as HTML, its held images as ``IMAGE_REF`` + file name (``image_refs`` makes them
        what a format shows them by)."""
        refs = {name: f"{IMAGE_REF}{name}" for name in item.images.values()}
        body = _offline_images(item.article.markdown.strip(), item.images, refs)
        body = self.convert(body, item.key.site, markdown=True)
        return markdown_parser().render(body or self.convert(labels_for(item.view.site.language).empty_body))

    def article_html(self, item: OfflineArticle, body: str, *, nav: bool) -> str:
        """The article as an HTML fragment around ``body``: with the mirror's navigation and mirror list
        (``nav``: a page of the ZIM file, at its place in the tree) or on its own (an EPUB chapter, a single file)."""
        if item.frames is None:
            item.frames = self.article_frames(item)
        head, tail = item.frames[nav]
        return head + body + tail

    def article_frames(self, item: OfflineArticle) -> dict[bool, tuple[str, str]]:
        """What goes before and after the article's body, with navigation (True: a ZIM page) and without
        (False): the template is rendered once for both, its format-only parts then cut out."""
        article, view = item.article, item.view
        root = layout.root(layout.page_path(article.key))
        site = article.key.site
        frame = _article_template().render(
            L=labels_for(view.site.language),
            words=archive_words(site_language(view.site)),
            t=lambda text: self.convert(text, site),
            title=article.title or labels_for(view.site.language).untitled,
            article=article,
            site_name=view.site.name,
            channel_name=view.name,
            nav={
                "home": html_path(f"{root}{layout.HOME}"),
                "channel": html_path(f"{root}{view.index_path()}"),
                "hot": html_path(f"{root}{layout.HOT}"),
            },
            mirrors=self.config.mirror.mirrors,
            share_url=layout.share_url(self.base_url, article.key),
            original_linked=urlsplit(article.url).scheme in ("http", "https"),
        )
        zim = _FORMAT_PART.sub(lambda m: m[2] if m[1] == "zim" else "", frame).split(_BODY)
        book = _FORMAT_PART.sub(lambda m: m[2] if m[1] == "book" else "", frame).split(_BODY)
        return {True: (zim[0], zim[1]), False: (book[0], book[1])}

    def lists(self) -> dict[str, str]:
        """Home, most read and every channel index, by path, as Markdown."""
        mirror = self.config.mirror
        views, hot = self.views, self.hot
        if self.variant:
            views = [
                ChannelView(v.site, v.channel, [replace(h, title=self.convert(h.title, v.site.id)) for h in v.heads])
                for v in views
            ]
            hot = [replace(e, title=self.convert(e.title, e.key.site)) for e in hot]
        pages: dict[str, str] = {}
        for view in views:
            pages.update(render_indexes(view, mirror))
        pages[layout.HOT] = render_hot(hot, mirror)
        pages[layout.HOME] = render_home(self.config, views, hot, defaultdict(str), self.updated)
        return {path: self.convert(text, markdown=True) for path, text in pages.items()}

    def convert(self, text: str, site: str | None = None, *, markdown: bool = False) -> str:
        """Text in the copy's script (``site``: with that site's conversion); unchanged in the mirror's own."""
        if self.variant is None or not text:
            return text
        conversion = self.variant.conversion(site)
        return convert_markdown(text, conversion) if markdown else convert_text(text, conversion)

    @property
    def base_url(self) -> str:
        """Where the copy's pages are online: the share links point there."""
        base = self.config.mirror.base_url
        return layout.url(base, self.variant.folder) if self.variant else base


def image_refs(html: str, ref: Callable[[str], str | None]) -> str:
    """``body_html``'s images pointed at ``ref(file name)``."""
    return _IMAGE_SRC.sub(lambda m: f'src="{escape(ref(m[1]) or "")}"', html)


@cache
def _article_template() -> Template:
    # Rendered for every article of every format: looked up once.
    return environment().get_template("offline_article.html.j2")


def _offline_images(markdown: str, files: dict[str, str], image_ref: dict[str, str]) -> str:
    """Each image the copy holds points at its copy; one it does not hold becomes a plain link, so an
    offline page never tries to load a picture from the network."""

    def local(match: re.Match[str]) -> str:
        name = files.get(match["url"])
        if name and name in image_ref:
            return f"![{match['alt']}]({image_ref[name]})"
        return f"[{match['alt'] or '图片'}（原图，需联网）]({match['url']})"

    return IMAGE_LINK.sub(local, markdown)


def offline_mirror(
    config: Config, store: Store, since: datetime | None = None, variant: Variant | None = None
) -> OfflineMirror:
    """The kept articles of every channel (``since``: only those fetched at or after it); ``variant``: the
    copy in the other script."""
    mirror = config.mirror.model_copy(update={"counter_url": None, "cache_bust": False})
    config = config.model_copy(update={"mirror": mirror})
    errors: list[str] = []
    views = kept_channels(config, store, errors)
    if since is not None:
        for view in views:
            view.heads = [h for h in view.heads if h.fetched >= since]
    views = [v for v in views if v.heads]
    images = stored_image_files(store, errors) if mirror.images == "copy" else {}
    copy = OfflineMirror(config, store, views, images, errors=errors, variant=variant)
    if copy.updated:
        since_day = hot_since(copy.updated.date(), mirror.hot_window_days)
        copy.hot = hot_entries(store, since_day, mirror.hot_size, views)
    return copy

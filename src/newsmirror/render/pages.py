"""Article pages (where they go: ``layout.page_path``)."""

from __future__ import annotations

from collections.abc import Sequence

from newsmirror import layout
from newsmirror.config import MirrorConfig
from newsmirror.models import Article, sha1_hex
from newsmirror.render.archive import archive_words, key_line, site_language
from newsmirror.render.channels import ChannelView
from newsmirror.render.image_copies import images_fingerprint, localize_images
from newsmirror.render.labels import labels_for
from newsmirror.render.templating import render_template
from newsmirror.store import ArticleHead


def settings_fingerprint(mirror: MirrorConfig, code: str) -> str:
    """Everything besides the article that shapes every page."""
    links = [(m.name, m.url) for m in mirror.mirrors]
    return sha1_hex(repr((code, mirror.base_url, mirror.counter_url, links, mirror.images, mirror.asset_base_url)))


def channel_inputs(settings: str, view: ChannelView) -> str:
    """What every page of a channel is made from besides its article (``page_inputs``'s first argument)."""
    fields = (settings, view.site.name, view.site.language, view.name, site_language(view.site))
    return "\x1f".join(fields)


def page_inputs(channel: str, head: ArticleHead, images: dict[str, str]) -> str:
    """A fingerprint of all a page is made from, known without reading the article's body
    (``channel``: ``channel_inputs`` of its channel; ``images``: those of its images the mirror holds,
    URL → file name)."""
    fields = (
        channel,
        head.url,
        head.title,
        head.author,
        head.published.isoformat(),
        head.content_hash,
        images_fingerprint(images) if images else "",
        head.updated.isoformat() if head.updated else "",
        head.deleted.isoformat() if head.deleted else "",
    )
    return sha1_hex("\x1f".join(fields))


def render_page(
    article: Article,
    view: ChannelView,
    mirror: MirrorConfig,
    images: dict[str, str],
    *,
    qr: bool = True,
    twins: Sequence[tuple[str, str]] = (),
    tree: str = "",
    fingerprint: str = "",
) -> str:
    """The page's Markdown; ``qr=False`` leaves out the QR code image (offline copies do not carry them).
    ``tree`` is the folder of a copy in the other script (its share URL and QR code point there; images
    stay at the top of the tree), ``twins`` the links to the page in the other script."""
    key = article.key
    root = layout.root(layout.page_path(key))
    path = layout.in_tree(tree, layout.page_path(key))
    assets = layout.asset_prefix(path, mirror.asset_base_url)  # images stay at the top of the tree
    qr_src = (
        f"{assets}{layout.in_tree(tree, layout.qr_path(key))}"
        if mirror.asset_base_url
        else layout.sibling_link(layout.qr_path(key))
    )
    labels = labels_for(view.site.language)
    missing = labels.missing_image if mirror.images == "copy" else None
    base_url = layout.url(mirror.base_url, tree) if tree else mirror.base_url
    return render_template(
        "page.md.j2",
        L=labels,
        article=article,
        site_name=view.site.name,
        channel=view,
        root=root,
        body=localize_images(article.markdown.strip(), images, assets, missing) or labels.empty_body,
        share_url=layout.share_url(base_url, key),
        twins=twins,
        qr_name=qr_src if qr else "",
        mirrors=mirror.mirrors,
        counter=layout.counter_url(mirror.counter_url, key) if mirror.counter_url else None,
        words=archive_words(site_language(view.site)),
        history_name=layout.sibling_link(layout.history_path(key)),
        key_line=key_line(fingerprint, site_language(view.site), layout.root(path)),
    )

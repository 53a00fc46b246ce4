"""Article pages: pages/<site>/<channel>/<id>.md."""

from __future__ import annotations

from newsmirror.config import MirrorConfig
from newsmirror.models import Article, ArticleKey, sha1_hex
from newsmirror.render.channels import ChannelView
from newsmirror.render.image_copies import images_fingerprint, localize_images
from newsmirror.render.templating import render_template
from newsmirror.store import ArticleHead

# From pages/<site>/<channel>/ back to the top of the tree.
ROOT = "../../../"


def page_path(key: ArticleKey) -> str:
    return f"{key.path}.md"


def qr_path(key: ArticleKey) -> str:
    return f"{key.path}.png"


def share_url(mirror: MirrorConfig, key: ArticleKey) -> str:
    """The page's address in the mirror: what the share text and the QR code carry."""
    return f"{mirror.base_url}/{page_path(key)}"


def counter_image(mirror: MirrorConfig, key: ArticleKey) -> str | None:
    if not mirror.counter_url:
        return None
    return f"{mirror.counter_url.rstrip('/')}/v/{key.site}/{key.channel}/{key.id}.gif"


def settings_fingerprint(mirror: MirrorConfig, code: str) -> str:
    """Everything besides the article that shapes every page."""
    links = [(m.name, m.url) for m in mirror.mirrors]
    return sha1_hex(repr((code, mirror.base_url, mirror.counter_url, links, mirror.images)))


def page_inputs(settings: str, view: ChannelView, head: ArticleHead, images: dict[str, str]) -> str:
    """A fingerprint of all a page is made from, known without reading the article's body
    (``images``: those of its images the mirror holds, URL → file name)."""
    fields = (
        settings,
        view.site.name,
        view.name,
        head.url,
        head.title,
        head.author,
        head.published.isoformat(),
        head.content_hash,
        images_fingerprint(images),
    )
    return sha1_hex("\x1f".join(fields))


def render_page(
    article: Article, view: ChannelView, mirror: MirrorConfig, images: dict[str, str], *, qr: bool = True
) -> str:
    """The page's Markdown; ``qr=False`` leaves out the QR code image (offline copies do not carry them)."""
    return render_template(
        "page.md.j2",
        article=article,
        site_name=view.site.name,
        channel=view,
        root=ROOT,
        body=localize_images(article.markdown.strip(), images, ROOT) or "（正文为空）",
        share_url=share_url(mirror, article.key),
        qr_name=f"{article.id}.png" if qr else "",
        mirrors=mirror.mirrors,
        counter=counter_image(mirror, article.key),
    )

"""Article images copied into the mirror (``layout.image_path``), and pages that show them from there.

With ``mirror.images = "copy"`` every image the store holds for a kept page is
written once under its content hash, and the page's Markdown points at it by a
relative path (which works for the HTML siblings too: they sit beside the
Markdown). An image the store does not hold keeps its original URL.
"""

from __future__ import annotations

import re

from newsmirror.layout import image_path
from newsmirror.models import IMAGE_LINK, ArticleKey
from newsmirror.render.templating import md
from newsmirror.store import Store

# What sync stores (SHA-1 hex and a sniffed extension); anything else in the
# store (hand-edited or hostile) is refused, never used as a file name.
_SAFE_NAME = re.compile(r"^[0-9a-f]{40}\.(?:png|jpg|gif|webp)$")


def stored_image_files(store: Store, errors: list[str]) -> dict[ArticleKey, dict[str, str]]:
    """Per article, the images the store holds: original URL → file name, in URL order."""
    files = store.article_image_files()
    unsafe = {(url, name) for images in files.values() for url, name in images.items() if not _SAFE_NAME.match(name)}
    for url, name in sorted(unsafe):
        errors.append(f"image {url}: stored name {name!r} is not a safe file name; the page keeps the original URL")
    if unsafe:
        files = {key: {u: n for u, n in images.items() if (u, n) not in unsafe} for key, images in files.items()}
    return files


def images_fingerprint(files: dict[str, str]) -> str:
    """What a page's images add to its inputs: which of them are in the mirror, under which name.
    (``files`` comes from the store in URL order, so no sorting is needed here.)"""
    return "\x1e".join(f"{url} {name}" for url, name in files.items())


def localize_images(markdown: str, files: dict[str, str], prefix: str, missing: str | None = None) -> str:
    """The Markdown with each image the mirror holds pointing at its copy (``prefix`` leads to the
    tree's top: a relative path, or ``mirror.asset_base_url``).

    ``missing`` (copy mode) is how an image the mirror does not hold is shown instead, its ``{alt}``
    text filled in (e.g. "（图：{alt}）"): its original address is behind the firewall, and a broken
    image is a blank gap. An image without alt text, or whose alt text the page already shows as a
    caption, is left out. Without ``missing`` (link mode) such images keep their original URL."""
    if not files and missing is None:
        return markdown

    def local(match: re.Match[str]) -> str:
        name = files.get(match["url"])
        if name:
            return f"![{match['alt']}]({prefix}{image_path(name)})"
        if missing is None:
            return match[0]
        alt = match["alt"].strip()
        if not alt or alt in markdown[: match.start()] or alt in markdown[match.end() :]:
            return ""
        return missing.format(alt=md(alt))

    return IMAGE_LINK.sub(local, markdown)

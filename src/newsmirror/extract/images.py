"""Images of an article body: real addresses behind lazy loaders, no placeholders, pixels, ads or doubles."""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from newsmirror.extract.dom import absolute_url, drop, parse_fragment

_LAZY_SRC_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-actualsrc", "data-url", "data-echo", "data-lazy")
# Stand-ins shown until a script loads the real image: data: URIs and small
# named files (grey.gif, blank.png, sr-loader.png; not "pixel-phone.jpg").
_PLACEHOLDER_SRC = re.compile(
    r"^(data:|about:)|(^|/)[\w-]*(blank|spacer|placeholder|transparent|loader|loading|lazy|grey|gray|pixel)"
    r"[\w-]*\.(gif|png|svg)(\?|$)",
    re.I,
)
# Not an address: a template or JSON some lazy loaders keep in data-src.
_NOT_A_URL = re.compile(r"[\s{}\"<>]")
_SIZE_STYLE = re.compile(r"(?<![-\w])(width|height)\s*:\s*(\d+(?:\.\d+)?)px", re.I)
# Ad servers' addresses: ads.example.net, /adserver/, doubleclick, /banners/.
_AD_URL = re.compile(
    r"^https?://(ads?|adserver|banners?)\.|[/.](adserver|adclick|doubleclick|adservice|banners?)[/.?_-]"
    r"|/(ads?|advert\w*)/|[?&](zoneid|adid|bannerid)=",
    re.I,
)
# A caption longer than this is article text, not a caption.
_CAPTION_LIMIT = 400
_FIRST_SENTENCE = re.compile(r"(?<=[。！？])|(?<=[.!?])\s|[（(]")


def is_placeholder(src: str) -> bool:
    """Whether an image address is a lazy loader's stand-in, not a picture."""
    return bool(_PLACEHOLDER_SRC.search(src) or _NOT_A_URL.search(src))


def resolve_noscript(root: HtmlElement) -> None:
    """Lazy-loading pages put the real <img> in <noscript>: use it, drop the placeholder."""
    for noscript in list(root.iter("noscript")):
        inner = noscript.text or ""
        images = []
        if "<img" in inner:
            try:
                images = [e for e in parse_fragment(inner).iter("img")]
            except (etree.ParserError, ValueError):
                images = []
        else:
            images = list(noscript.iter("img"))
        if images:
            previous = noscript.getprevious()
            if previous is not None and previous.tag == "img":
                drop(previous)
            for img in images:
                noscript.addprevious(img)
                img.tail = None
        drop(noscript)


def clean_images(root: HtmlElement, base_url: str) -> None:
    """Every image gets its real, absolute address, once; ads, pixels and stand-ins go."""
    seen: set[str] = set()
    for img in list(root.iter("img")):
        _resolve_image(img)
        src = absolute_url(img.get("src") or "", base_url)
        # An image shown twice (a lazy copy, a "pin it" overlay) is shown once.
        link = next(img.iterancestors("a"), None)
        if link is not None and _AD_URL.search(link.get("href") or ""):
            drop(link)  # an advertisement: the picture and its link
        elif not src or src in seen or _is_tracking_pixel(img) or _AD_URL.search(src):
            drop(img)
        else:
            img.set("src", src)
            seen.add(src)
            _undouble_caption(img)


def _best_from_srcset(srcset: str) -> str:
    """The largest candidate of a srcset (by its w or x descriptor)."""
    best, best_size = "", -1.0
    for candidate in srcset.split(","):
        parts = candidate.strip().split()
        if not parts:
            continue
        size = 1.0
        if len(parts) > 1:
            try:
                size = float(parts[1][:-1])
            except ValueError:
                size = 1.0
        if size > best_size:
            best, best_size = parts[0], size
    return best


def _resolve_image(img: HtmlElement) -> None:
    """Give a lazy-loaded image its real address in ``src``."""
    # A lazy-loading attribute names the real image; src is then a placeholder
    # or a low-resolution preview.
    for attr in _LAZY_SRC_ATTRS:
        value = img.get(attr, "").strip()
        if value and not _NOT_A_URL.search(value):
            img.set("src", value)
            return
    src = (img.get("src") or "").strip()
    if not src or _PLACEHOLDER_SRC.search(src) or _NOT_A_URL.search(src):
        srcset = img.get("data-srcset") or img.get("srcset")
        best = _best_from_srcset(srcset) if srcset else ""
        if best and not _NOT_A_URL.search(best):
            img.set("src", best)
        else:
            img.attrib.pop("src", None)  # only a stand-in: no image


def _undouble_caption(img: HtmlElement) -> None:
    """An alt text that repeats the caption beside the image is dropped: the
    caption is shown once. Repeating means the alt is the caption's whole
    first sentence ("签署仪式现场" beside "签署仪式现场。（图片来源：…）"),
    not merely its opening words ("A ferry" beside "A ferry leaves the pier")."""
    alt = _plain(img.get("alt") or "")
    if not alt:
        return
    holder = next((a for a in img.iterancestors() if a.tag in ("figure", "p", "div", "li", "td")), None)
    if holder is None:
        return
    beside = holder.text_content().strip()
    # Only a caption-sized holder: in a whole article the words may recur by chance.
    if len(beside) <= _CAPTION_LIMIT and alt in (_plain(beside), _plain(_FIRST_SENTENCE.split(beside, 1)[0])):
        img.set("alt", "")


def _plain(text: str) -> str:
    return "".join(text.split()).rstrip("。.!?！？")


def _is_tracking_pixel(img: HtmlElement) -> bool:
    sizes = []
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().removesuffix("px")
        if value.replace(".", "", 1).isdigit():
            sizes.append(float(value))
    sizes += [float(v) for _, v in _SIZE_STYLE.findall(img.get("style") or "")]
    return any(size <= 1 for size in sizes)

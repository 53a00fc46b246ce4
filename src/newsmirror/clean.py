"""Sanitising an article body: boilerplate out, URLs absolute, only safe HTML left.

Works on an lxml tree (the article body cut out of a page) in two passes:
first the structural clean-up that needs the DOM (hidden elements, site
``remove`` selectors, blocks matching the site's boilerplate phrases, lazy
images, tracking pixels, relative URLs), then nh3 as the sanitiser that
decides what HTML may survive at all (no script, style, event handler or
``javascript:`` URL; unknown tags such as ``<ok>`` unwrapped, their text kept).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import nh3
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement, fragment_fromstring, tostring

# What may survive sanitising. Everything else is unwrapped (text kept)
# unless it is in _DROP_WITH_CONTENT.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "del", "dd", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "time", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Removed with everything inside them: code, embedded content, forms, and
# page furniture that never belongs in an article body.
_DROP_WITH_CONTENT = (
    "script", "style", "template", "iframe", "frame", "frameset", "object", "embed", "applet", "svg",
    "math", "canvas", "video", "audio", "source", "track", "map", "form", "input", "button", "select",
    "textarea", "label", "nav", "aside", "footer", "header", "dialog", "link", "meta", "title", "head",
)  # fmt: skip
_BLOCK_TAGS = (
    "p", "div", "section", "article", "li", "ul", "ol", "dl", "dd", "dt", "blockquote", "table", "tr", "td",
    "center", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "pre", "font",
)  # fmt: skip
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
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
_SAFE_SCHEMES = {"http", "https", "mailto"}

# Boilerplate every news site carries, dropped even without site rules: a
# block (paragraph, div, list item) whose text is short and holds one of these.
GENERIC_BOILERPLATE = (
    "本文短网址", "本文網址", "版权所有", "版權所有", "转载请注明", "轉載請註明", "未经授权不得", "未經授權不得",
    "未经授权，不得", "未經授權，不得",
    "诚征荣誉会员", "誠徵榮譽會員", "订阅电子报", "訂閱電子報", "责任编辑", "責任編輯", "分享到", "点击订阅",
    "All rights reserved", "Sign up for our newsletter", "Subscribe to our newsletter",
    "Share this article", "Share on Facebook", "Share on Twitter", "Related articles",
    "Read more:", "Copyright ©", "© Copyright",
)  # fmt: skip
_GENERIC_BOILERPLATE = re.compile(
    "|".join(re.escape(p) for p in GENERIC_BOILERPLATE) + r"|^\s*(©|\(c\)|copyright\b)|©\s*\d{4}", re.I
)
# Short blocks that open like these are promotion or credits, not article text.
_PROMO_OPENINGS = (
    "related:", "related articles", "related stories", "read more", "read also", "also read", "see more", "see also:",
    "more:", "don't miss", "do not miss", "recommended:", "most read", "trending:", "follow us", "follow @",
    "subscribe to", "sign up for", "you may also like", "you might also like", "filed under",
    "join us", "support us",
    "watch:", "image credit", "image copyright", "image caption", "photo credit", "credit:",
    "相关阅读", "相關閱讀", "延伸阅读", "延伸閱讀", "推荐阅读", "推薦閱讀", "相关新闻", "相關新聞",
    "更多新闻", "更多新聞", "点击阅读", "點擊閱讀", "关注我们", "關注我們", "扫码关注", "掃碼關注",
)  # fmt: skip
# (An opening quotation mark means speech: '"Read more," she said' stays.)
_PROMO_LINE = re.compile(
    r"^[^\w\"“'‘「『]{0,3}(" + "|".join(re.escape(p) for p in _PROMO_OPENINGS) + ")"
    # "Follow Newsbeat on Instagram", "Pick Six Newsletter"
    r"|^follow [\w@ ]{1,30} on (twitter|x|facebook|instagram|youtube|telegram)|^[\w' ]{1,40} newsletter$",
    re.I,
)
_PROMO_LIMIT = 200
# Class or id of page widgets that sit inside article text: share bars,
# hover cards, newsletter boxes, related links, ads.
_WIDGET = re.compile(
    r"(^|[\s_-])(share|sharing|social|related|newsletter|subscribe|promo|advert|ads?|sponsor(ed)?|tooltip|popover"
    r"|rollover|hovercard|popup|comments?|outbrain|taboola)([\s_-]|$)",
    re.I,
)
_WIDGET_SHARE = 0.3
_APPEAL_LINK = re.compile(r"subscri|membership|donat|newsletter|sign-?up|/join\b|/support-us", re.I)
_MAYBE_BOILERPLATE = re.compile("|".join(re.escape(p) for p in GENERIC_BOILERPLATE) + "|©|copyright", re.I)
_NO_SPACE = re.compile(r"\s+")
# A generic phrase only condemns a block of at most this many characters:
# a real paragraph that happens to quote "all rights reserved" is kept.
_GENERIC_BLOCK_LIMIT = 300


@lru_cache(maxsize=512)
def selector(css: str) -> CSSSelector:
    """A compiled CSS selector (cached: sites reuse theirs for every article)."""
    return CSSSelector(css)


def drop(element: HtmlElement) -> None:
    """Remove an element but keep the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


# Containers only: an inline link with class "related-link" is part of its sentence.
_HAS_CLASS_OR_ID = etree.XPath(
    ".//*[@class or @id][not(self::a or self::em or self::strong or self::b or self::i or self::u or self::img)]"
)
# Elements that may be hidden, picked in C; _is_hidden has the final word.
_MAYBE_HIDDEN = etree.XPath(".//*[@hidden or @aria-hidden or @style]")


def _is_hidden(element: HtmlElement) -> bool:
    if element.get("hidden") is not None or (
        element.get("aria-hidden") == "true" and not element.text_content().strip()
    ):
        return True
    style = element.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


_CONTAINERS = ("section", "article", "main", "center", "details", "summary", "hgroup", "address")


def _unwrap_layout_tables(root: HtmlElement) -> None:
    """Tables used for layout (one column, or cells holding paragraphs) become
    plain blocks; only data tables stay tables."""
    for table in reversed(list(root.iter("table"))):
        rows = [r for r in table.iter("tr") if _owner_table(r) is table]
        cells = [c for r in rows for c in r if c.tag in ("td", "th")]
        one_column = all(sum(1 for c in r if c.tag in ("td", "th")) <= 1 for r in rows)
        holds_blocks = any(c.find(".//p") is not None or c.find(".//div") is not None for c in cells)
        if one_column or holds_blocks:
            for element in [table, *(e for e in table.iter("tbody", "thead", "tfoot", "tr", "td", "th", "caption")
                                      if _owner_table(e) is table)]:  # fmt: skip
                element.tag = "div"
                element.attrib.clear()


def _owner_table(element: HtmlElement) -> HtmlElement | None:
    return next(element.iterancestors("table"), None)


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


def is_placeholder(src: str) -> bool:
    """Whether an image address is a lazy loader's stand-in, not a picture."""
    return bool(_PLACEHOLDER_SRC.search(src) or _NOT_A_URL.search(src))


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


_CAPTION_LIMIT = 400
_FIRST_SENTENCE = re.compile(r"(?<=[。！？])|(?<=[.!?])\s|[（(]")


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


# Ad servers' addresses: ads.example.net, /adserver/, doubleclick, /banners/.
_AD_URL = re.compile(
    r"^https?://(ads?|adserver|banners?)\.|[/.](adserver|adclick|doubleclick|adservice|banners?)[/.?_-]"
    r"|/(ads?|advert\w*)/|[?&](zoneid|adid|bannerid)=",
    re.I,
)


def _is_tracking_pixel(img: HtmlElement) -> bool:
    sizes = []
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().removesuffix("px")
        if value.replace(".", "", 1).isdigit():
            sizes.append(float(value))
    sizes += [float(v) for _, v in _SIZE_STYLE.findall(img.get("style") or "")]
    return any(size <= 1 for size in sizes)


def _resolve_noscript(root: HtmlElement) -> None:
    """Lazy-loading pages put the real <img> in <noscript>: use it, drop the placeholder."""
    for noscript in list(root.iter("noscript")):
        inner = noscript.text or ""
        images = []
        if "<img" in inner:
            try:
                images = [e for e in fragment_fromstring(inner, create_parent="div").iter("img")]
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


def _text(element: HtmlElement) -> str:
    return element.text_content()


def _drop_blocks(
    root: HtmlElement, matches: Callable[[str], bool], limit: int | None, maybe: Callable[[str], bool] | None = None
) -> None:
    """Drop the innermost blocks whose text ``matches`` (and has at most ``limit`` characters).

    ``maybe`` is a looser test of the whole body's text (default: ``matches``).
    """
    if not (maybe or matches)(_text(root)):
        # Nothing anywhere to look for (the common case): skip the per-block walk.
        return
    blocks = [e for e in root.iter(*_BLOCK_TAGS) if e is not root]
    # Innermost first: a block is dropped only if none of its sub-blocks matches.
    for block in reversed(blocks):
        if block.getparent() is None:
            continue
        text = _text(block)
        if not matches(text):
            continue
        if any(matches(_text(sub)) for sub in block.iter(*_BLOCK_TAGS) if sub is not block):
            continue
        if limit is not None and len(text.strip()) > limit:
            continue
        drop(block)


def _drop_blocks_matching(root: HtmlElement, phrases: Iterable[str], limit: int | None) -> None:
    phrases = [p for p in phrases if p]
    if phrases:
        _drop_blocks(root, lambda text: any(p in text for p in phrases), limit)


def _is_link_list(element: HtmlElement) -> bool:
    """A list whose every item is nothing but a link: "related", "read more", "most read"."""
    items = [li for li in element if li.tag == "li"]
    if len(items) < 2:
        return False
    for li in items:
        text = _NO_SPACE.sub("", _text(li))
        linked = "".join(_NO_SPACE.sub("", _text(a)) for a in li.iter("a"))
        if not text or linked != text:
            return False
    return True


def _absolute(url: str, base_url: str) -> str | None:
    url = url.strip()
    if not url or url.startswith("#"):
        return None
    absolute = urljoin(base_url, url) if base_url else url
    scheme = urlsplit(absolute).scheme.lower()
    # Without a base (a saved page with no known address) a relative URL
    # stays relative: it has no scheme, so it cannot be javascript: either.
    return absolute if scheme in _SAFE_SCHEMES or (not scheme and not base_url) else None


def prepare(
    root: HtmlElement,
    base_url: str,
    remove: Iterable[str] = (),
    drop_blocks_matching: Iterable[str] = (),
    generic: bool = True,
) -> None:
    """Clean an article body tree in place (before sanitising)."""
    for comment in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        drop(comment)
    _resolve_noscript(root)
    # A form that holds most of the text wraps the page (ASP.NET pages put
    # everything in one); real forms (search, login, newsletter) are small.
    total = len(_text(root))
    for form in root.iter("form"):
        if total and len(_text(form)) > total / 2:
            form.tag = "div"
    for element in list(root.iter(*_DROP_WITH_CONTENT)):
        if element is not root:
            drop(element)
    for element in _MAYBE_HIDDEN(root):
        if element is not root and element.getparent() is not None and _is_hidden(element):
            drop(element)
    # Block containers become <div>s, which survive sanitising: text the page
    # keeps in bare <div>s must not run together.
    for element in root.iter(*_CONTAINERS):
        element.tag = "div"
        element.attrib.pop("align", None)
    _unwrap_layout_tables(root)
    for css in remove:
        for element in selector(css)(root):
            if element is not root:
                drop(element)
    _drop_blocks_matching(root, drop_blocks_matching, None)
    if generic:
        _drop_blocks(
            root,
            lambda text: bool(_GENERIC_BOILERPLATE.search(text)),
            _GENERIC_BLOCK_LIMIT,
            lambda text: bool(_MAYBE_BOILERPLATE.search(text)),
        )
        for element in list(root.iter("ul", "ol")):
            if element.getparent() is not None and _is_link_list(element):
                drop(element)
        _drop_blocks(root, lambda text: bool(_PROMO_LINE.match(text.strip())), _PROMO_LIMIT, lambda text: True)
        # A short block that links to a subscription, membership or donation
        # page is an appeal, whatever its words.
        for link in list(root.iter("a")):
            if _APPEAL_LINK.search(link.get("href") or ""):
                block = next((a for a in link.iterancestors(*_BLOCK_TAGS) if a is not root), None)
                if block is not None and len(_text(block).strip()) <= _PROMO_LIMIT:
                    drop(block)
        total = len(_text(root))
        for element in _HAS_CLASS_OR_ID(root):
            place = f"{element.get('class', '')} {element.get('id', '')}"
            if element.getparent() is None or not _WIDGET.search(place):
                continue
            # Widgets are small; a wrapper of the article that happens to carry
            # such a class ("post social-enabled") is not one.
            size = len(_text(element))
            if size < total * _WIDGET_SHARE:
                drop(element)
    seen: set[str] = set()
    for img in list(root.iter("img")):
        _resolve_image(img)
        src = _absolute(img.get("src") or "", base_url)
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
    for figure in list(root.iter("figure")):
        if figure.find(".//img") is None and figure.find(".//table") is None:
            drop(figure)  # its image is gone: a caption of nothing
    for link in list(root.iter("a")):
        href = link.get("href")
        if href is not None and href.strip().lower().startswith("javascript:"):
            drop(link)  # a script control ("view large", "print", "share"), not text
            continue
        if href is not None:
            absolute = _absolute(href, base_url)
            if absolute:
                link.set("href", absolute)
            else:
                del link.attrib["href"]


def sanitise(html: str) -> str:
    """The final word on what HTML survives: nh3 with a short allow-list."""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=set(_DROP_WITH_CONTENT) - ALLOWED_TAGS - {"head", "title", "meta", "link"} | {"script"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=_SAFE_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )
    return _tidy(cleaned)


_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A line break inside running text that came from the page's source layout;
# between two CJK characters it must vanish, not turn into a space.
_BROKEN_CJK = re.compile(
    rf"(?<=[{_CJK}])((?:[ \t\r\n]|</?(?:a|b|strong|em|i|u|span|mark|small|sub|sup)\b[^>]*>)+?)(?=[{_CJK}])"
)
_INLINE_TAG = re.compile(r"</?[a-z][^>]*>")


def _join_cjk(match: re.Match[str]) -> str:
    gap = match.group(1)
    if "\n" not in gap:
        return gap
    return "".join(_INLINE_TAG.findall(gap))


_EMPTY_BLOCK = re.compile(
    r"<(p|div|span|li|blockquote|h[1-6]|figure|figcaption|strong|em|b|i|a)>(\s|&nbsp;|<br>)*</\1>"
)
_PRE = re.compile(r"(<pre>.*?</pre>)", re.S)
# One line per block in the stored HTML, for people reading it.
_BLOCK_END = re.compile(r"(</(?:p|div|h[1-6]|ul|ol|li|blockquote|table|tr|figure|pre|dl|dd|dt)>|<hr>)\s*")
_LAYOUT_BREAK = re.compile(r"[ \t\r]*\n[ \t\r\n]*")


def _tidy(html: str) -> str:
    previous = None
    while previous != html:
        previous = html
        html = _EMPTY_BLOCK.sub("", html)
    html = _BROKEN_CJK.sub(_join_cjk, html)
    # Other line breaks from the source layout are plain spaces (except in <pre>).
    parts = _PRE.split(html)
    for i in range(0, len(parts), 2):
        parts[i] = _BLOCK_END.sub("\\1\n", _LAYOUT_BREAK.sub(" ", parts[i]))
    return "".join(parts).strip()


def clean_tree(
    root: HtmlElement,
    base_url: str,
    remove: Iterable[str] = (),
    drop_blocks_matching: Iterable[str] = (),
    generic: bool = True,
) -> str:
    """Clean an article body element: returns safe HTML of its content."""
    prepare(root, base_url, remove, drop_blocks_matching, generic)
    inner = (root.text or "") + "".join(tostring(child, encoding="unicode") for child in root)
    return sanitise(inner)


def clean_html(
    fragment: str,
    base_url: str,
    remove: Iterable[str] = (),
    drop_blocks_matching: Iterable[str] = (),
    generic: bool = True,
) -> str:
    """Clean an HTML fragment (e.g. a feed's full article content)."""
    if not fragment.strip():
        return ""
    root = fragment_fromstring(fragment, create_parent="div")
    return clean_tree(root, base_url, remove, drop_blocks_matching, generic)

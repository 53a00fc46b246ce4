"""Sanitising an article body: boilerplate out, URLs absolute, only safe HTML left.

Works on an lxml tree (the article body cut out of a page) in two passes:
first the structural clean-up that needs the DOM (``clean_tree``'s steps: hidden
elements, site ``remove`` selectors, blocks matching the site's boilerplate
phrases, lazy images, tracking pixels, relative URLs), then nh3 as the
sanitiser that decides what HTML may survive at all (no script, style, event
handler or ``javascript:`` URL; unknown tags such as ``<ok>`` unwrapped,
their text kept).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import nh3
from lxml import etree
from lxml.html import HtmlElement, tostring

from newsmirror.extract import portal
from newsmirror.extract.dom import BLOCK_TAGS, NO_SPACE, SAFE_SCHEMES, absolute_url, drop, selector
from newsmirror.extract.images import clean_images, resolve_noscript

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
# Boilerplate every news site carries, dropped even without site rules: a
# block (paragraph, div, list item) whose text is short and holds one of these.
GENERIC_BOILERPLATE = (
    "本文短网址", "本文網址", "版权所有", "版權所有", "转载请注明", "轉載請註明", "未经授权不得", "未經授權不得",
    "未经授权，不得", "未經授權，不得",
    "诚征荣誉会员", "誠徵榮譽會員", "订阅电子报", "訂閱電子報", "责任编辑", "責任編輯", "分享到", "点击订阅",
    "免责声明", "免責聲明", "反侵权公告", "反侵權公告", "著作权声明", "著作權聲明", "版权声明", "版權聲明",
    "传输内容声明", "【打印】", "【关闭】", "【關閉】", "打印本稿", "打印本文", "关闭窗口", "關閉窗口", "返回页首",
    "返回顶部", "发表评论", "發表評論", "发送给朋友", "查看评论", "上一篇", "下一篇", "上一页", "下一页",
    "当前位置：", "當前位置：", "您的位置：", "您现在的位置", "相关报道", "相關報導", "相关内容", "相關內容",
    "相关链接", "相關鏈接", "相关文章", "相關文章", "招商信息",
    "All rights reserved", "Sign up for our newsletter", "Subscribe to our newsletter",
    "Share this article", "Share on Facebook", "Share on Twitter", "Related articles",
    "Read more:", "Copyright ©", "© Copyright",
)  # fmt: skip
# Removed with everything inside them: code, embedded content, forms, and
# page furniture that never belongs in an article body.
_DROP_WITH_CONTENT = (
    "script", "style", "template", "iframe", "frame", "frameset", "object", "embed", "applet", "svg",
    "math", "canvas", "video", "audio", "source", "track", "map", "form", "input", "button", "select",
    "textarea", "label", "nav", "aside", "footer", "header", "dialog", "link", "meta", "title", "head",
)  # fmt: skip
# Block containers that become <div>s, which survive sanitising.
_CONTAINERS = ("section", "article", "main", "center", "details", "summary", "hgroup", "address")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BOILERPLATE_LOWER = tuple(phrase.lower() for phrase in GENERIC_BOILERPLATE)
_COPYRIGHT_LINE = re.compile(r"^\s*(©|\(c\)|copyright\b)|©\s*\d{4}")  # on lower-cased text
# A generic phrase only condemns a block of at most this many characters:
# a real paragraph that happens to quote "all rights reserved" is kept.
_GENERIC_BLOCK_LIMIT = 300
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
# Characters that re.IGNORECASE matches to ASCII letters but str.lower() does not lower to them.
_OTHER_FOLDS = re.compile("[\u017f\u0130\u0131\u212a]")
# What video players (Video.js and the like) leave as text where the player was: their
# dialog texts, and, once one of those shows a player was there, its short control labels.
_PLAYER_PHRASES = (
    "this is a modal window", "beginning of dialog window", "end of dialog window", "this modal can be closed",
    "descriptions off, selected", "captions off, selected", "subtitles off, selected", "captions settings",
    "subtitles settings", "close modal dialog",
)  # fmt: skip
_PLAYER_LABELS = frozenset({
    "chapters", "descriptions", "captions", "subtitles", "audio track", "playback rate", "current time",
    "duration", "remaining time", "stream type live", "play", "pause", "mute", "unmute", "fullscreen",
    "picture-in-picture", "seek to live, currently behind live", "text", "font size", "reset", "done",
})  # fmt: skip
_PLAYER_LIMIT = 200
# MathJax's source scripts; MathML's TeX annotation.
_TEX_ENCODING = re.compile(r"tex", re.I)
# A block of this many links and no other text is a link list.
_LINK_BLOCK_LINKS = 3
# Class or id of page widgets that sit inside article text: share bars,
# hover cards, newsletter boxes, related links, ads.
_WIDGET = re.compile(
    r"(^|[\s_-])(share|sharing|social|related|newsletter|subscribe|promo|advert|ads?|sponsor(ed)?|tooltip|popover"
    r"|rollover|hovercard|popup|comments?|outbrain|taboola)([\s_-]|$)",
    re.I,
)
_WIDGET_SHARE = 0.3
_APPEAL_LINK = re.compile(r"subscri|membership|donat|newsletter|sign-?up|/join\b|/support-us", re.I)
# Containers only: an inline link with class "related-link" is part of its sentence.
_HAS_CLASS_OR_ID = etree.XPath(
    ".//*[@class or @id][not(self::a or self::em or self::strong or self::b or self::i or self::u or self::img)]"
)
# Elements that may be hidden, picked in C; _is_hidden has the final word.
_MAYBE_HIDDEN = etree.XPath(".//*[@hidden or @aria-hidden or @style]")
_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A line break inside running text that came from the page's source layout;
# between two CJK characters it must vanish, not turn into a space.
_BROKEN_CJK = re.compile(
    rf"(?<=[{_CJK}])((?:[ \t\r\n]|</?(?:a|b|strong|em|i|u|span|mark|small|sub|sup)\b[^>]*>)+?)(?=[{_CJK}])"
)
_INLINE_TAG = re.compile(r"</?[a-z][^>]*>")
_EMPTY_BLOCK = re.compile(
    r"<(p|div|span|li|blockquote|h[1-6]|figure|figcaption|strong|em|b|i|a)>(\s|&nbsp;|<br>)*</\1>"
)
_PRE = re.compile(r"(<pre>.*?</pre>)", re.S)
# One line per block in the stored HTML, for people reading it.
_BLOCK_END = re.compile(r"(</(?:p|div|h[1-6]|ul|ol|li|blockquote|table|tr|figure|pre|dl|dd|dt)>|<hr>)\s*")
_LAYOUT_BREAK = re.compile(r"[ \t\r]*\n[ \t\r\n]*")


def clean_tree(
    root: HtmlElement,
    base_url: str,
    remove: Iterable[str] = (),
    drop_blocks_matching: Iterable[str] = (),
    generic: bool = True,
) -> str:
    """Clean an article body element: returns safe HTML of its content.

    First the steps on the tree, in this order; ``generic=False`` leaves out the passes for pages
    without site rules (the site's own ``remove`` and ``drop_blocks_matching`` still apply)."""
    keep_math(root)
    _drop_non_content(root)
    _plain_containers(root)
    portal.join_broken_lines(root)
    _unwrap_layout_tables(root)
    _apply_site_rules(root, remove, drop_blocks_matching)
    if generic:
        _drop_boilerplate(root)
        portal.cut_tail(root)
        portal.drop_navigation_rows(root)
        portal.drop_edge_credits(root)
        _drop_link_lists(root)
        _drop_promotion(root)
        _drop_player_labels(root)
        _drop_appeals(root)
        _drop_widgets(root)
    clean_images(root, base_url)
    _drop_empty_figures(root)
    _resolve_links(root, base_url)
    inner = (root.text or "") + "".join(tostring(child, encoding="unicode") for child in root)
    return sanitise(inner)


def sanitise(html: str) -> str:
    """The final word on what HTML survives: nh3 with a short allow-list."""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=set(_DROP_WITH_CONTENT) - ALLOWED_TAGS - {"head", "title", "meta", "link"} | {"script"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=SAFE_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )
    return _tidy(cleaned)


# ---------------------------------------------------------------- the steps of clean_tree


def keep_math(root: HtmlElement) -> None:
    """Formulas keep their source: a MathML <math> (removed with its content, as
    no sanitised page may keep it) and MathJax's ``<script type="math/tex">``
    become their TeX as text, in its sentence (its annotation, else its alt
    text, else the formula's own text)."""
    for element in list(root.iter("math", "script")):
        if element.tag == "script":
            if not (element.get("type") or "").lower().startswith("math/"):
                continue
            tex = element.text or ""
        else:
            annotation = next(
                (a for a in element.iter("annotation") if _TEX_ENCODING.search(a.get("encoding", ""))), None
            )
            tex = (
                (annotation.text if annotation is not None else "") or element.get("alttext") or element.text_content()
            )
        parent = element.getparent()
        if parent is None:
            continue
        formula = parent.makeelement("span", {})
        formula.text = " ".join(tex.split())
        formula.tail = element.tail
        parent.replace(element, formula)


def _drop_non_content(root: HtmlElement) -> None:
    """Comments, code, embedded content, forms and hidden elements go; lazy
    images in <noscript> come out of it."""
    for comment in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        drop(comment)
    resolve_noscript(root)
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


def _is_hidden(element: HtmlElement) -> bool:
    if element.get("hidden") is not None or (
        element.get("aria-hidden") == "true" and not element.text_content().strip()
    ):
        return True
    style = element.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _plain_containers(root: HtmlElement) -> None:
    """Block containers become <div>s, which survive sanitising: text the
    page keeps in bare <div>s must not run together."""
    for element in root.iter(*_CONTAINERS):
        element.tag = "div"
        element.attrib.pop("align", None)


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


def _apply_site_rules(root: HtmlElement, remove: Iterable[str], drop_blocks_matching: Iterable[str]) -> None:
    """A site's ``remove`` selectors and ``drop_blocks_matching`` phrases."""
    for css in remove:
        for element in selector(css)(root):
            if element is not root:
                drop(element)
    phrases = [p for p in drop_blocks_matching if p]
    if phrases:
        _drop_blocks(root, lambda text: any(p in text for p in phrases), None)


def _drop_boilerplate(root: HtmlElement) -> None:
    """Short blocks holding a phrase of GENERIC_BOILERPLATE or a copyright line."""
    # The phrases the body holds at all are found once; each block is then
    # tested for those few (one regex of every phrase per block cost more than
    # the rest of cleaning).
    everything = _text(root).lower()
    present = [phrase for phrase in _BOILERPLATE_LOWER if phrase in everything]
    copyright = any(mark in everything for mark in ("©", "(c)", "copyright"))
    if not present and not copyright:
        return

    def matches(text: str) -> bool:
        low = text.lower()
        return any(phrase in low for phrase in present) or (copyright and bool(_COPYRIGHT_LINE.search(low)))

    _drop_blocks(root, matches, _GENERIC_BLOCK_LIMIT, lambda text: True)


def _drop_link_lists(root: HtmlElement) -> None:
    """Lists, rows and tables of nothing but links: navigation, "related", "most read"."""
    for element in list(root.iter("ul", "ol")):
        if element.getparent() is not None and _is_link_list(element):
            drop(element)
    for element in list(root.iter("table", "tr", "div", "p", "td")):
        if element is not root and root in element.iterancestors() and _is_link_block(element):
            drop(element)


def _is_link_block(element: HtmlElement) -> bool:
    links = element.findall(".//a")
    if len(links) < _LINK_BLOCK_LINKS:
        return False
    text = NO_SPACE.sub("", _text(element))
    return bool(text) and sum(len(NO_SPACE.sub("", _text(a))) for a in links) >= len(text)


def _is_link_list(element: HtmlElement) -> bool:
    """A list whose every item is nothing but a link: "related", "read more", "most read"."""
    items = [li for li in element if li.tag == "li"]
    if len(items) < 2:
        return False
    for li in items:
        text = NO_SPACE.sub("", _text(li))
        linked = "".join(NO_SPACE.sub("", _text(a)) for a in li.iter("a"))
        if not text or linked != text:
            return False
    return True


def _drop_promotion(root: HtmlElement) -> None:
    _drop_blocks(root, lambda text: bool(_PROMO_LINE.match(text.strip())), _PROMO_LIMIT, _may_promote)


def _may_promote(text: str) -> bool:
    """Whether a block of ``text`` could match _PROMO_LINE: it holds an opening, "follow" or
    "newsletter" (lower-cased; characters that case-insensitive matching folds otherwise
    than str.lower, such as the long s, leave the answer to the blocks)."""
    low = text.lower()
    return (
        _OTHER_FOLDS.search(text) is not None
        or any(opening in low for opening in _PROMO_OPENINGS)
        or "follow " in low
        or "newsletter" in low
    )


def _drop_player_labels(root: HtmlElement) -> None:
    def is_label(text: str) -> bool:
        low = text.strip().lower()
        return low in _PLAYER_LABELS or any(phrase in low for phrase in _PLAYER_PHRASES)

    _drop_blocks(root, is_label, _PLAYER_LIMIT, lambda text: any(phrase in text.lower() for phrase in _PLAYER_PHRASES))


def _drop_appeals(root: HtmlElement) -> None:
    """A short block that links to a subscription, membership or donation
    page is an appeal, whatever its words."""
    for link in list(root.iter("a")):
        if _APPEAL_LINK.search(link.get("href") or ""):
            block = next((a for a in link.iterancestors(*BLOCK_TAGS) if a is not root), None)
            if block is not None and len(_text(block).strip()) <= _PROMO_LIMIT:
                drop(block)


def _drop_widgets(root: HtmlElement) -> None:
    """Small containers whose class or id names a widget (share, related, ads...)."""
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


def _drop_empty_figures(root: HtmlElement) -> None:
    for figure in list(root.iter("figure")):
        if figure.find(".//img") is None and figure.find(".//table") is None:
            drop(figure)  # its image is gone: a caption of nothing


def _resolve_links(root: HtmlElement, base_url: str) -> None:
    """Links become absolute; script controls and unsafe addresses lose their link."""
    for link in list(root.iter("a")):
        href = link.get("href")
        if href is not None and href.strip().lower().startswith("javascript:"):
            drop(link)  # a script control ("view large", "print", "share"), not text
            continue
        if href is not None:
            absolute = absolute_url(href, base_url)
            if absolute:
                link.set("href", absolute)
            else:
                del link.attrib["href"]


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
    blocks = [e for e in root.iter(*BLOCK_TAGS) if e is not root]
    # Innermost first: a block is dropped only if none of its sub-blocks
    # matches; a matching sub-block that stays marks its ancestors.
    holds_match: set[HtmlElement] = set()
    for block in reversed(blocks):
        if block.getparent() is None:
            continue
        text = _text(block)
        if not matches(text):
            continue
        if block in holds_match or (limit is not None and len(text.strip()) > limit):
            for ancestor in block.iterancestors():
                if ancestor in holds_match:
                    break
                holds_match.add(ancestor)
            continue
        drop(block)


# ---------------------------------------------------------------- the HTML text after nh3


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


def _join_cjk(match: re.Match[str]) -> str:
    gap = match.group(1)
    if "\n" not in gap:
        return gap
    return "".join(_INLINE_TAG.findall(gap))

"""The article body of a page without site rules, picked by evidence.

trafilatura, asked for text only, decides which text is the article (its
precise mode; its fallback extractors when the text is short or the page's
own article markup or JSON-LD promises more); each of its blocks is then
matched back to the page's own element, which brings back the links,
images, emphasis and embedded quotes that text-only extraction loses.
"""

from __future__ import annotations

import itertools
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from html import escape
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from newsmirror.extract import portal
from newsmirror.extract.density import article_core
from newsmirror.extract.dom import NO_SPACE, TEXT_BLOCKS, copy_element, drop, parse_fragment, text_key
from newsmirror.extract.images import is_placeholder
from newsmirror.extract.metadata import Metadata

# trafilatura decides which text is the article; asked for text only (no
# images or links) it is markedly more precise, so images and links are
# restored afterwards from the page's own elements (see restore_from_page).
TRAFILATURA_OPTIONS: dict[str, Any] = {"favor_precision": True, "include_tables": True}
# trafilatura's fast mode (no second-opinion extractors) is taken when its
# text holds at least this share of what the page's own markup promises.
_FAST_ENOUGH = 0.7
# A result this short (characters, without spaces) is suspect on its own: a
# second opinion costs little on the few pages where it happens.
_SHORT_ARTICLE = 500
# Chinese says as much in about a third of the characters: a Chinese text is short,
# for the slower second pass, under this many.
_SHORT_CHINESE = 170
_ARTICLE_BODY_MARKUP = etree.XPath('//*[@itemprop="articleBody"]')
_HAS_BLOCKS = etree.XPath("boolean(.//p or .//div or .//ul or .//ol or .//table or .//blockquote)")
_HAS_BLOCK_CHILDREN = etree.XPath("boolean(./p or ./div or ./ul or ./ol or ./table or ./blockquote)")
# Images smaller than this (by their width/height attributes) are icons, not content.
_MIN_IMAGE_SIZE = 100
_THUMBNAIL_SIZE = 300
# Thumbnails by their address: ".../square_gallery_thumb.jpg", "...-200x200.jpg".
_THUMBNAIL = re.compile(r"thumb|(?<![\dx])(\d{2,4})x(\d{2,4})(?![\dx])", re.I)
# Two consecutive blocks of the article lie at most this many blocks, images
# and divs apart on the page; further apart, the page between them is other matter.
_NEAR = 60
# The lead image lies at most this many elements before the first block.
_NEAR_LEAD = 15
# Pieces must cover this share of the page block they are put back into.
_PIECES_COVER = 0.6
# The density method's core replaces trafilatura's text when it holds this
# many times more text and most of trafilatura's (bodies its precision drops),
# or, when trafilatura found a short text only, this many times more.
_CORE_RECALL = 3.0
_CORE_RECALL_SHORT = 2.0
# ...and at least this share of trafilatura's text lies in the core.
_CORE_PRECISION = 0.6
# Chinese text (judged on its first characters), for which punctuation density is made.
_CJK_TEXT = re.compile(r"[\u4e00-\u9fff]{4}")
_CJK_SAMPLE = 200
# A table or list of trafilatura's with this many cells, this share of its text
# in cells that are links on the page, is navigation or related links.
_LINK_TABLE_CELLS = 3
_LINK_TABLE_SHARE = 0.8
# A later half of a split story holds a paragraph this long, and at most this share of links.
_HALF_PARAGRAPH = 80
_HALF_LINK_SHARE = 0.3
_IMAGE_FILE = re.compile(r"\.(jpe?g|png|gif|webp|avif)(\?|$)", re.I)


def generic_body(root: HtmlElement, url: str, meta: Metadata) -> HtmlElement | None:
    """The article body of a page without site rules, picked by evidence.

    trafilatura (fast mode) proposes; when that is short, or the page's own
    article markup or JSON-LD says the article is clearly longer, trafilatura
    runs again with its fallback extractors (readability, jusText) and the
    longer result wins; failing that, the page's markup or JSON-LD body is used.
    """
    # trafilatura works on its own copy of the parsed page.
    body = _body_by_evidence(root, url, meta)
    if body is not None:
        portal.drop_teasers(body, root)
        portal.keep_first_post(body)
    return body


def _body_by_evidence(root: HtmlElement, url: str, meta: Metadata) -> HtmlElement | None:
    body = _trafilatura_body(root, url, fast=True)
    found = len(text_key(body)) if body is not None else 0
    expected = _expected_length(root, meta)
    short = _SHORT_CHINESE if body is not None and _is_chinese(text_key(body)) else _SHORT_ARTICLE
    if body is None or found < _FAST_ENOUGH * expected or found < short:
        second = _trafilatura_body(root, url, fast=False)
        if second is not None and len(text_key(second)) > found:
            body, found = second, len(text_key(second))
    if body is not None and found >= _FAST_ENOUGH * expected:
        core = _density_core(root, body, found)
        if core is not None:
            return core
        _drop_link_tables(body, root)
        restore_from_page(body, root)
        return body
    # trafilatura found nothing, or far less than the page promises: the
    # page's own article markup, else its JSON-LD articleBody, is the body.
    marked = [e for e in _ARTICLE_BODY_MARKUP(root) if len(text_key(e)) >= max(found, 1)]
    if marked:
        return copy_element(max(marked, key=lambda e: len(text_key(e))))
    if len(NO_SPACE.sub("", meta.body_text)) > found:
        paragraphs = "".join(f"<p>{escape(line)}</p>" for line in meta.body_text.splitlines() if line.strip())
        return parse_fragment(paragraphs)
    if body is not None:
        restore_from_page(body, root)
    return body


def _drop_link_tables(body: HtmlElement, root: HtmlElement) -> None:
    """trafilatura keeps the tables and lists of old portals (navigation rows,
    related headlines) as text; on the page their cells are links."""
    tables = [block for block in body if block.tag in ("table", "ul", "ol")]
    if not tables:
        return
    links = {key for key in (text_key(a) for a in root.iter("a")) if len(key) >= 2}
    for table in tables:
        cells = [key for key in (text_key(c) for c in table.iter("td", "th", "li")) if key]
        linked = sum(len(key) for key in cells if key in links)
        if len(cells) >= _LINK_TABLE_CELLS and linked >= _LINK_TABLE_SHARE * len(text_key(table)):
            drop(table)


def _inside_share(body: HtmlElement, core_key: str) -> float:
    """The share of the body's text that lies in blocks of the core's text."""
    sizes = [(len(key), key in core_key) for key in (text_key(block) for block in body) if key]
    total = sum(size for size, _ in sizes)
    return sum(size for size, inside in sizes if inside) / total if total else 0.0


def _density_core(root: HtmlElement, body: HtmlElement, found: int) -> HtmlElement | None:
    """The density method's article core, when the evidence says it holds the
    article that trafilatura's precision cut short: far more text, and the
    text trafilatura found (or only a short text). Punctuation density is a
    measure made for Chinese: on other pages only the short case applies."""
    key = text_key(body)
    chinese = _is_chinese(key)
    if found >= _SHORT_ARTICLE and not chinese:
        return None
    # The core is part of the page: a page without that much text has no such core.
    needed = _CORE_RECALL_SHORT if found < _SHORT_ARTICLE else _CORE_RECALL
    if len(text_key(root)) < needed * found:
        return None
    core = article_core(root)
    if core is None:
        return None
    element, density = core
    if found < _SHORT_ARTICLE and density.plain >= _CORE_RECALL_SHORT * found:
        return copy_element(element)
    if density.plain >= _CORE_RECALL * found and _inside_share(body, text_key(element)) >= _CORE_PRECISION:
        return copy_element(element)
    return None


def _is_chinese(key: str) -> bool:
    return bool(_CJK_TEXT.search(key[:_CJK_SAMPLE]))


@cache
def _import_trafilatura_quietly() -> None:
    with warnings.catch_warnings():
        # Its downloader probes urllib3's optional SOCKS support at import and warns that PySocks is
        # missing, a line in the operator's log about something newsmirror never uses.
        warnings.filterwarnings("ignore", message="SOCKS support in urllib3")
        import trafilatura  # noqa: F401


def _trafilatura_body(page: HtmlElement, url: str, fast: bool) -> HtmlElement | None:
    _import_trafilatura_quietly()  # at first use: it is slow to import, and most commands never need it
    import trafilatura
    from trafilatura.htmlprocessing import convert_to_html

    doc = trafilatura.bare_extraction(
        page, url=url or None, fast=fast, include_comments=False, with_metadata=False, **TRAFILATURA_OPTIONS
    )
    if doc is None or isinstance(doc, dict) or doc.body is None:  # a dict only with as_dict=True
        return None
    html_root = convert_to_html(doc.body)
    body = html_root.find("body")
    return parse_fragment(etree.tostring(body, encoding="unicode"))


def _expected_length(root: HtmlElement, meta: Metadata) -> int:
    """How long the page itself says its article is: JSON-LD articleBody or
    the element it marks up as the article body (schema.org microdata)."""
    lengths = [len(NO_SPACE.sub("", meta.body_text))]
    for element in _ARTICLE_BODY_MARKUP(root):
        lengths.append(len(text_key(element)))
    return max(lengths)


# ---------------------------------------------------------------- restoring the page's own HTML


@dataclass
class _PageIndex:
    """The page's text blocks by their text, its content images, and document order."""

    by_text: dict[str, HtmlElement] = field(default_factory=dict)
    repeats: dict[str, list[HtmlElement]] = field(default_factory=dict)  # texts the page holds more than once
    images: list[HtmlElement] = field(default_factory=list)
    # Document order of the elements that matter (iterating them alone is far
    # cheaper than numbering every element of the page).
    order: dict[HtmlElement, int] = field(default_factory=dict)


def restore_from_page(body: HtmlElement, root: HtmlElement) -> None:
    """Put back the links, images and quotes trafilatura's text leaves out.

    Each block of trafilatura's output is matched to the page element with
    the same text; a matched block takes that element's own HTML (links,
    inline images, emphasis), and content images and quotes that sit on the
    page between two matched blocks are inserted between them.
    """
    index = _index_page(root)
    matched, pieces = _match_blocks(body, root, index)
    matched = _gather_pieces(pieces, matched)
    _append_split_halves(body, matched)
    inserts = index.images + _dropped_quotes(root, matched)
    if not matched or not inserts:
        return
    used: set[HtmlElement] = set()
    _put_back_lead_image(body, matched[0][1], index, used)
    _put_back_between(body, matched, inserts, index.order, used)


def _index_page(root: HtmlElement) -> _PageIndex:
    index = _PageIndex()
    for i, element in enumerate(root.iter(*TEXT_BLOCKS, "img", "div")):
        index.order[element] = i
        if element.tag == "div":
            continue
        if element.tag == "img":
            if _content_image(element):
                index.images.append(element)
            continue
        key = text_key(element)
        if len(key) >= 2:
            if key in index.by_text:
                index.repeats.setdefault(key, [index.by_text[key]]).append(element)
            else:
                index.by_text[key] = element
    return index


def _match_blocks(
    body: HtmlElement, root: HtmlElement, index: _PageIndex
) -> tuple[list[tuple[HtmlElement, HtmlElement]], dict[HtmlElement, list[HtmlElement]]]:
    """Pair each block of trafilatura's output with its page element; whole
    blocks take the element's HTML at once, pieces are returned by element."""
    matched: list[tuple[HtmlElement, HtmlElement]] = []
    last = -1
    # trafilatura splits a page block at line breaks and inline widgets; its
    # pieces are gathered back into the block they came from.
    pieces: dict[HtmlElement, list[HtmlElement]] = {}
    containers: dict[str, HtmlElement] | None = None
    for block in list(body.iter(*TEXT_BLOCKS)):
        key = text_key(block)
        original = index.by_text.get(key)
        if key in index.repeats:
            # A text the page repeats (a teaser, a summary): the copy that
            # follows the last block matched is the article's.
            original = next((e for e in index.repeats[key] if index.order[e] > last), original)
        if original is not None:
            last = max(last, index.order[original])
        if original is None and block.tag == "p" and len(key) >= 2:
            if containers is None:
                containers = {**{text_key(d): d for d in root.iter("div")}, **index.by_text}
            original = _innermost_holding(key, containers)
            if original is not None and not _HAS_BLOCK_CHILDREN(original):
                pieces.setdefault(original, []).append(block)
                matched.append((block, original))
            continue
        if original is None or (original.tag != block.tag and block.tag not in ("p",)):
            continue
        matched.append((block, original))
        if original.tag != block.tag and _HAS_BLOCKS(original):
            continue  # a <p> cannot take a quote's or list item's paragraphs
        _take_content(block, original)
    return matched, pieces


def _append_split_halves(body: HtmlElement, matched: list[tuple[HtmlElement, HtmlElement]]) -> None:
    """A story split over sibling containers of one kind (the same tag and class)
    with ads between them, of which trafilatura kept the first: the later ones
    that hold a paragraph of text and few links come too."""
    if not matched:
        return
    last = matched[-1][1]
    container = next((a for a in last.iterancestors("div", "section", "article") if a.get("class")), None)
    if container is None:
        return
    holding = {ancestor for _, original in matched for ancestor in original.iterancestors()}
    for sibling in container.itersiblings(container.tag):
        if sibling.get("class") != container.get("class") or sibling in holding:
            continue
        text = len(text_key(sibling))
        links = sum(len(text_key(a)) for a in sibling.iter("a"))
        long_paragraph = any(len(text_key(p)) >= _HALF_PARAGRAPH for p in sibling.iter("p"))
        if long_paragraph and links <= _HALF_LINK_SHARE * text:
            body.append(copy_element(sibling))


def _gather_pieces(
    pieces: dict[HtmlElement, list[HtmlElement]], matched: list[tuple[HtmlElement, HtmlElement]]
) -> list[tuple[HtmlElement, HtmlElement]]:
    """Pieces that cover most of their page block become that block, once;
    pieces that do not stay trafilatura's text and are no anchors."""
    for original, parts in pieces.items():
        covered = sum(len(text_key(part)) for part in parts)
        if covered >= _PIECES_COVER * len(text_key(original)):
            _take_content(parts[0], original)
            for part in parts[1:]:
                drop(part)
            matched = [(b, o) for b, o in matched if b not in parts[1:]]
        else:
            matched = [(b, o) for b, o in matched if b not in parts]
    return matched


def _dropped_quotes(root: HtmlElement, matched: list[tuple[HtmlElement, HtmlElement]]) -> list[HtmlElement]:
    """Quotes trafilatura dropped (embedded posts are its usual victims): they
    come back like images when they sit between two blocks of the article."""
    originals = {original for _, original in matched}
    return [
        q
        for q in root.iter("blockquote")
        if q not in originals and not any(e in originals for e in q.iterdescendants(*TEXT_BLOCKS))
    ]


def _put_back_between(
    body: HtmlElement,
    matched: list[tuple[HtmlElement, HtmlElement]],
    inserts: list[HtmlElement],
    order: dict[HtmlElement, int],
    used: set[HtmlElement],
) -> None:
    """Images and quotes that sit on the page between two matched blocks go between them."""
    for (block, original), (_, next_original) in itertools.pairwise(matched):
        low, high = order[original], order[next_original]
        if high - low > _NEAR:
            continue  # the two blocks are far apart on the page: what lies between is not the article's
        between = sorted(
            (item for item in inserts if low < order.get(item, -1) < high),
            key=lambda item: order[item],
        )
        anchor = block
        # Whatever follows a list item goes after the whole list.
        while anchor.getparent() is not None and anchor.getparent() is not body:
            anchor = anchor.getparent()
        for item in between:
            if any(a in (original, next_original) for a in item.iterancestors()):
                continue
            unit = _image_unit(item) if item.tag == "img" else item
            if unit in used:
                continue
            used.add(unit)
            if unit.tag == "blockquote" and text_key(unit) in text_key(body):
                continue  # a pull quote repeating the article's own words
            clone = copy_element(unit)
            anchor.addnext(clone)
            anchor = clone


def _put_back_lead_image(body: HtmlElement, first: HtmlElement, index: _PageIndex, used: set[HtmlElement]) -> None:
    """The article's opening picture sits just before its first block, in the
    same container (not a logo: logos link home, or are small)."""
    start = index.order[first]
    before = [img for img in index.images if start - _NEAR_LEAD <= index.order[img] < start]
    if not before:
        return
    img = before[-1]
    container = next((a for a in img.iterancestors("div", "section", "article", "main")), None)
    if container is None or container.tag == "body" or first not in container.iterdescendants():
        return
    link = next(img.iterancestors("a"), None)
    if link is not None and not _IMAGE_FILE.search(link.get("href") or ""):
        return
    unit = _image_unit(img)
    used.add(unit)
    body.insert(0, copy_element(unit))


def _innermost_holding(key: str, blocks: dict[str, HtmlElement]) -> HtmlElement | None:
    """The page block with the shortest text that contains ``key``."""
    best: str | None = None
    for text in blocks:
        if key in text and (best is None or len(text) < len(best)):
            best = text
    return blocks[best] if best is not None else None


def _take_content(block: HtmlElement, original: HtmlElement) -> None:
    """Give a block of trafilatura's output the page element's own HTML."""
    copy = copy_element(original)
    block[:] = list(copy)
    block.text = copy.text


def _content_image(img: HtmlElement) -> bool:
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < _MIN_IMAGE_SIZE:
            return False
    src = img.get("data-src") or img.get("data-original") or img.get("src") or img.get("data-srcset") or ""
    if is_placeholder(src) and not img.get("srcset"):
        return False
    thumbnail = _THUMBNAIL.search(src.split("?")[0])
    if thumbnail and (not thumbnail.group(1) or max(int(thumbnail[1]), int(thumbnail[2])) <= _THUMBNAIL_SIZE):
        return False
    return bool(src)


def _image_unit(img: HtmlElement) -> HtmlElement:
    """What to copy for an image: its <figure> (with caption) if it has one."""
    for ancestor in img.iterancestors():
        if ancestor.tag == "figure":
            return ancestor
        if ancestor.tag in ("p", "div", "section", "article", "body", "li"):
            break
    return img

"""Page → article: title, metadata and the cleaned body as HTML, Markdown and text.

With site rules the body is the element(s) the site's ``content`` selector
names. Without them the generic extractor combines the evidence a page
offers (``_generic_body``): trafilatura, asked for text only, decides which
text is the article (its precise mode; its fallback extractors when the text
is short or the page's own article markup or JSON-LD promises more); each of
its blocks is then matched back to the page's own element, which brings back
the links, images, emphasis and embedded quotes that text-only extraction
loses. Metadata comes from JSON-LD, OpenGraph and meta tags, the printed
byline, and htmldate as the last resort for the date. Either way the body
then goes through ``clean`` (boilerplate, sanitising) and ``markdown``.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from newsmirror import clean
from newsmirror.charset import decode
from newsmirror.markdown import OutboundLinks, to_markdown

if TYPE_CHECKING:
    from newsmirror.config import SiteConfig


@dataclass
class SiteRules:
    """A site's hand-written extraction rules."""

    content: str | None = None  # CSS selector of the article body; None → generic extraction
    remove: list[str] = field(default_factory=list)  # CSS selectors of elements to drop
    drop_blocks_matching: list[str] = field(default_factory=list)  # drop blocks whose text holds one of these

    @classmethod
    def from_site(cls, site: SiteConfig) -> SiteRules:
        return cls(site.content, list(site.remove), list(site.drop_blocks_matching))


@dataclass
class Extracted:
    title: str
    author: str
    published: datetime | None  # tz-aware UTC when known
    lead_image: str  # absolute URL or ""
    lead_caption: str
    html: str  # the sanitised article body, absolute URLs
    markdown: str  # the body as Markdown, without the title as a heading
    text: str  # plain text of the body

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "author": self.author,
            "published": self.published.isoformat() if self.published else None,
            "lead_image": self.lead_image,
            "lead_caption": self.lead_caption,
            "markdown": self.markdown,
            "html": self.html,
            "text": self.text,
        }


class ExtractionError(Exception):
    """No article could be found; the message says why, in one line."""


# ---------------------------------------------------------------- parsing


# Control characters (other than tab and line breaks) are not text, and lxml refuses them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Comments and processing instructions never matter; dropping them while
# parsing spares every later pass over the tree.
_PARSER = lxml.html.HTMLParser(collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True)


def parse_page(page: str) -> HtmlElement:
    # lxml refuses str input that carries an XML encoding declaration.
    if page.lstrip().startswith("<?xml"):
        page = re.sub(r"^\s*<\?xml[^>]*\?>", "", page)
    try:
        root = lxml.html.document_fromstring(page, parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"not an HTML page: {exc}") from None
    return root


# ---------------------------------------------------------------- metadata


def _json_ld(root: HtmlElement) -> list[dict[str, Any]]:
    """Every schema.org object on the page, @graph entries flattened."""
    objects: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            objects.append(node)
            if "@graph" in node:
                walk(node["@graph"])

    for script in root.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            walk(json.loads(script.text.strip().rstrip(";")))
        except ValueError:
            continue
    return objects


_ARTICLE_TYPES = re.compile(r"Article|BlogPosting|Report|NewsArticle|LiveBlogPosting|Posting", re.I)


def _articles(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for obj in objects:
        types = obj.get("@type")
        types = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and _ARTICLE_TYPES.search(t) for t in types):
            found.append(obj)
    return found


def _meta(root: HtmlElement) -> dict[str, str]:
    """<meta property/name=... content=...>, first one of each name wins."""
    metas: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if key and content and key not in metas:
            metas[key] = content
    return metas


def _name_of(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return _name_of(value.get("name", ""))
    if isinstance(value, list):
        names = [_name_of(v) for v in value]
        return ", ".join(n for n in names if n)
    return ""


def _image_of(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return _image_of(value.get("url") or value.get("contentUrl") or "")
    if isinstance(value, list) and value:
        return _image_of(value[0])
    return ""


def parse_date(value: str, zone: tzinfo = UTC) -> datetime | None:
    """An ISO-like date string → aware UTC datetime (naive times are in ``zone``)."""
    value = raw = (value or "").strip()
    if not value:
        return None
    value = re.sub(r"\s+", "T", value, count=1) if re.match(r"\d{4}-\d\d-\d\d\s+\d", value) else value
    value = value.replace("Z", "+00:00")
    value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        match = _TEXT_DATE.search(value)
        parsed = _datetime_of(match) if match else _rfc2822(raw)
        if parsed is None:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _rfc2822(value: str) -> datetime | None:
    """Mon, 09 Mar 2026 21:10:00 +0800, as some pages' meta tags carry it."""
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


# A date (and time) as pages print it: 2026-03-09 21:10, 2026/3/9, 2026年3月9日 21:10.
_TEXT_DATE = re.compile(
    r"((?:19|20)\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT　]*(\d{1,2})[:：](\d\d)(?:[:：](\d\d))?)?"
)
# A byline as pages print it: 作者：林远, 记者：王明, By Jane Doe.
_TEXT_AUTHOR = re.compile(r"(?:作者|撰稿|撰文|记者|記者)\s*[：:]\s*([\w·]{2,20})|^\s*By\s+([^\n,|·]{3,60})", re.I)
_AUTHOR_LINKS = etree.XPath('//*[@rel="author"]')
# Elements whose class or id says byline (author, date, source...).
_BYLINE_PLACE = re.compile(r"author|byline|info|meta|source|time|date|pub|writer", re.I)
# Naive times printed on a page are in its readers' time zone, which its language tells.
_LANGUAGE_ZONES = {
    "zh": timezone(timedelta(hours=8)),
    "ja": timezone(timedelta(hours=9)),
    "ko": timezone(timedelta(hours=9)),
}
_SCRIPTS = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
)


def _datetime_of(match: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _page_zone(root: HtmlElement) -> tzinfo:
    lang = (root.get("lang") or "").lower()[:2]
    if not lang:
        for meta in root.iter("meta"):
            if (meta.get("http-equiv") or "").lower() == "content-language":
                lang = (meta.get("content") or "").lower()[:2]
    if not lang:
        # No declared language: the title's script tells.
        title = root.find(".//title")
        text = title.text_content() if title is not None else ""
        lang = next((code for code, script in _SCRIPTS if script.search(text)), "")
    return _LANGUAGE_ZONES.get(lang, UTC)


def _byline(root: HtmlElement, zone: tzinfo) -> tuple[str, datetime | None]:
    """Author and date from the page's printed byline, for pages without metadata."""
    author, published = "", None
    for element in _AUTHOR_LINKS(root):
        author = author or _NO_SPACE.sub(" ", element.text_content()).strip()
    for element in root.iter("div", "p", "span", "section", "address", "td"):
        if published and author:
            break
        if not _BYLINE_PLACE.search((element.get("class") or "") + " " + (element.get("id") or "")):
            continue
        text = element.text_content()
        if len(text) > 200:
            continue
        if not author:
            match = _TEXT_AUTHOR.search(text)
            if match:
                author = (match.group(1) or match.group(2) or "").strip()
        if published is None:
            match = _TEXT_DATE.search(text)
            stamp = _datetime_of(match) if match else None
            if stamp is not None:
                published = stamp.replace(tzinfo=zone).astimezone(UTC)
    return author, published


@dataclass
class _Metadata:
    title: str = ""
    author: str = ""
    published: datetime | None = None
    lead_image: str = ""
    lead_caption: str = ""
    body_text: str = ""  # JSON-LD articleBody, when the page gives one


def _page_title(root: HtmlElement, metas: dict[str, str]) -> str:
    for key in ("og:title", "twitter:title"):
        if metas.get(key):
            return _without_site_name(metas[key], metas.get("og:site_name", ""))
    h1s = [h.text_content().strip() for h in root.iter("h1")]
    h1s = [h for h in h1s if h]
    if len(h1s) == 1:
        return h1s[0]
    title = root.find(".//title")
    text = title.text_content().strip() if title is not None else ""
    if not text:
        return h1s[0] if h1s else ""
    # "Headline - Site name": a part that is also a heading on the page wins,
    # else the longest part.
    parts = [p.strip() for p in _TITLE_SEPARATOR.split(text) if p.strip()]
    headings = {"".join(h.text_content().split()) for h in root.iter("h1", "h2")}
    for part in parts:
        if "".join(part.split()) in headings:
            return part
    return max(parts, key=len) if parts else text


def _without_site_name(title: str, site_name: str) -> str:
    """ "Headline | MoreBikes" → "Headline" when the page names its site."""
    parts = [p.strip() for p in _TITLE_SEPARATOR.split(title) if p.strip()]
    name = "".join(site_name.split()).lower()
    if name and len(parts) > 1:
        kept = [p for p in parts if "".join(p.split()).lower() != name]
        if kept and len(kept) < len(parts):
            return " - ".join(kept) if len(kept) > 1 else kept[0]
    return title


_TITLE_SEPARATOR = re.compile(r"\s+[-|–—_·»]\s+|\s*[|｜_]\s*|\s+-\s*|\s*——\s*")


def _metadata(root: HtmlElement, url: str) -> _Metadata:
    metas = _meta(root)
    articles = _articles(_json_ld(root))
    article = articles[0] if articles else {}
    meta = _Metadata()
    meta.title = _name_of(article.get("headline")) or _page_title(root, metas)
    meta.title = re.sub(r"\s+", " ", meta.title).strip()
    meta.author = _name_of(article.get("author")) or metas.get("author", "") or metas.get("article:author", "")
    if meta.author.startswith("http"):
        meta.author = ""
    zone = _page_zone(root)
    for candidate in (
        _name_of(article.get("datePublished")),
        metas.get("article:published_time", ""),
        metas.get("datepublished", ""),
        metas.get("pubdate", ""),
        metas.get("publishdate", ""),
        metas.get("date", ""),
        _name_of(article.get("dateCreated")),
    ):
        meta.published = parse_date(candidate, zone)
        if meta.published:
            break
    if meta.published is None:
        for time in root.iter("time"):
            meta.published = parse_date(time.get("datetime") or "", zone)
            if meta.published:
                break
    if meta.published is None or not meta.author:
        author, published = _byline(root, zone)
        meta.author = meta.author or author
        meta.published = meta.published or published
    image = _image_of(article.get("image")) or metas.get("og:image", "") or metas.get("twitter:image", "")
    meta.lead_image = urljoin(url, image) if image else ""
    meta.lead_caption = metas.get("og:image:alt", "") or metas.get("twitter:image:alt", "")
    bodies = [a.get("articleBody") for a in articles if isinstance(a.get("articleBody"), str)]
    meta.body_text = max(bodies, key=len) if bodies else ""
    return meta


def _canonical_url(root: HtmlElement) -> str:
    """The page's own idea of its address, for pages read from a file."""
    for link in root.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and (link.get("href") or "").startswith("http"):
            return link.get("href").strip()
    url = _meta(root).get("og:url", "")
    return url if url.startswith("http") else ""


def _htmldate(root: HtmlElement, url: str) -> datetime | None:
    """Last resort for the date: htmldate's heuristics over the page."""
    from htmldate import find_date

    try:
        found = find_date(root, url=url or None, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises assorted errors on odd pages; a missing date is fine
        return None
    return parse_date(found) if found else None


# ---------------------------------------------------------------- body


def _text_of(root: HtmlElement) -> str:
    """Plain text of a clean body (changes the tree): one line per block, no markup.

    It is the article's running text: images and their captions (kept in the
    HTML and Markdown) are left out here.
    """
    for figure in list(root.iter("figcaption", "figure")):
        clean.drop(figure)
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter(*clean._BLOCK_TAGS, "tr", "th", "td"):
        if block.tag in ("td", "th"):
            block.tail = "\t" + (block.tail or "")
        else:
            block.tail = "\n" + (block.tail or "")
            block.text = "\n" + (block.text or "")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in root.text_content().split("\n")]
    return "\n".join(line for line in lines if line)


def _remove_title(body: HtmlElement, title: str) -> None:
    """The title is shown once, by the page template: drop it from the body.

    A heading with the title's text goes, and so does an <h1> before any
    text (the page's headline, worded differently from its og:title); other
    <h1>s become <h2>s under the page's own title.
    """
    norm = "".join(title.split())
    for heading in body.iter("h1", "h2"):
        if norm and "".join(heading.text_content().split()) == norm:
            clean.drop(heading)
            break
    for element in body.iter(*_TEXT_BLOCKS):
        if element.tag == "h1":
            clean.drop(element)
        break
    for heading in body.iter("h1"):
        heading.tag = "h2"


# trafilatura decides which text is the article; asked for text only (no
# images or links) it is markedly more precise, so images and links are
# restored afterwards from the page's own elements (see _restore_from_page).
TRAFILATURA_OPTIONS: dict[str, Any] = {"favor_precision": True, "include_tables": True}

_TEXT_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt")
_NO_SPACE = re.compile(r"\s+")
# Images smaller than this (by their width/height attributes) are icons, not content.
_MIN_IMAGE_SIZE = 100
_THUMBNAIL_SIZE = 300


def _key(element: HtmlElement) -> str:
    """An element's text without any whitespace: what two copies of a block share."""
    return "".join(element.text_content().split())


def _trafilatura_body(page: HtmlElement, url: str, fast: bool) -> HtmlElement | None:
    import trafilatura
    from trafilatura.htmlprocessing import convert_to_html

    doc = trafilatura.bare_extraction(
        page, url=url or None, fast=fast, include_comments=False, with_metadata=False, **TRAFILATURA_OPTIONS
    )
    if doc is None or doc.body is None:
        return None
    html_root = convert_to_html(doc.body)
    body = html_root.find("body")
    return lxml.html.fragment_fromstring(etree.tostring(body, encoding="unicode"), create_parent="div")


_ARTICLE_BODY_MARKUP = etree.XPath('//*[@itemprop="articleBody"]')


def _expected_length(root: HtmlElement, meta: _Metadata) -> int:
    """How long the page itself says its article is: JSON-LD articleBody or
    the element it marks up as the article body (schema.org microdata)."""
    lengths = [len(_NO_SPACE.sub("", meta.body_text))]
    for element in _ARTICLE_BODY_MARKUP(root):
        lengths.append(len(_key(element)))
    return max(lengths)


# Thumbnails by their address: ".../square_gallery_thumb.jpg", "...-200x200.jpg".
_THUMBNAIL = re.compile(r"thumb|(?<![\dx])(\d{2,4})x(\d{2,4})(?![\dx])", re.I)


def _content_image(img: HtmlElement) -> bool:
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < _MIN_IMAGE_SIZE:
            return False
    src = img.get("data-src") or img.get("data-original") or img.get("src") or img.get("data-srcset") or ""
    if clean.is_placeholder(src) and not img.get("srcset"):
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


# Two consecutive blocks of the article lie at most this many blocks, images
# and divs apart on the page; further apart, the page between them is other matter.
_NEAR = 60
# Pieces must cover this share of the page block they are put back into.
_PIECES_COVER = 0.6
_HAS_BLOCK_CHILDREN = etree.XPath("boolean(./p or ./div or ./ul or ./ol or ./table or ./blockquote)")


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


_HAS_BLOCKS = etree.XPath("boolean(.//p or .//div or .//ul or .//ol or .//table or .//blockquote)")


def _restore_from_page(body: HtmlElement, root: HtmlElement) -> None:
    """Put back the links, images and quotes trafilatura's text leaves out.

    Each block of trafilatura's output is matched to the page element with
    the same text; a matched block takes that element's own HTML (links,
    inline images, emphasis), and content images and quotes that sit on the
    page between two matched blocks are inserted between them.
    """
    by_text: dict[str, HtmlElement] = {}
    repeats: dict[str, list[HtmlElement]] = {}  # texts the page holds more than once
    images: list[HtmlElement] = []
    # Document order of the elements that matter (iterating them alone is far
    # cheaper than numbering every element of the page).
    order: dict[HtmlElement, int] = {}
    for i, element in enumerate(root.iter(*_TEXT_BLOCKS, "img", "div")):
        order[element] = i
        if element.tag == "div":
            continue
        if element.tag == "img":
            if _content_image(element):
                images.append(element)
            continue
        key = _key(element)
        if len(key) >= 2:
            if key in by_text:
                repeats.setdefault(key, [by_text[key]]).append(element)
            else:
                by_text[key] = element
    matched: list[tuple[HtmlElement, HtmlElement]] = []
    last = -1
    # trafilatura splits a page block at line breaks and inline widgets; its
    # pieces are gathered back into the block they came from.
    pieces: dict[HtmlElement, list[HtmlElement]] = {}
    containers: dict[str, HtmlElement] | None = None
    for block in list(body.iter(*_TEXT_BLOCKS)):
        key = _key(block)
        original = by_text.get(key)
        if key in repeats:
            # A text the page repeats (a teaser, a summary): the copy that
            # follows the last block matched is the article's.
            original = next((e for e in repeats[key] if order[e] > last), original)
        if original is not None:
            last = max(last, order[original])
        if original is None and block.tag == "p" and len(key) >= 2:
            if containers is None:
                containers = {**{_key(d): d for d in root.iter("div")}, **by_text}
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
    for original, parts in pieces.items():
        covered = sum(len(_key(part)) for part in parts)
        if covered >= _PIECES_COVER * len(_key(original)):
            _take_content(parts[0], original)
            for part in parts[1:]:
                clean.drop(part)
            matched = [(b, o) for b, o in matched if b not in parts[1:]]
        else:
            matched = [(b, o) for b, o in matched if b not in parts]
    # Quotes trafilatura dropped (embedded posts are its usual victims) come
    # back like images when they sit between two blocks of the article.
    originals = {original for _, original in matched}
    quotes = [
        q
        for q in root.iter("blockquote")
        if q not in originals and not any(e in originals for e in q.iterdescendants(*_TEXT_BLOCKS))
    ]
    inserts = images + quotes
    if not matched or not inserts:
        return
    used: set[HtmlElement] = set()
    _put_back_lead_image(body, root, matched[0][1], images, order, used)
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
            if unit.tag == "blockquote" and _key(unit) in _key(body):
                continue  # a pull quote repeating the article's own words
            clone = copy_element(unit)
            anchor.addnext(clone)
            anchor = clone


def _put_back_lead_image(
    body: HtmlElement,
    root: HtmlElement,
    first: HtmlElement,
    images: list[HtmlElement],
    order: dict[HtmlElement, int],
    used: set[HtmlElement],
) -> None:
    """The article's opening picture sits just before its first block, in the
    same container (not a logo: logos link home, or are small)."""
    start = order[first]
    before = [img for img in images if start - _NEAR_LEAD <= order[img] < start]
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


_NEAR_LEAD = 15
_IMAGE_FILE = re.compile(r"\.(jpe?g|png|gif|webp|avif)(\?|$)", re.I)


def copy_element(element: HtmlElement) -> HtmlElement:
    from copy import deepcopy

    clone = deepcopy(element)
    clone.tail = None
    return clone


_FURNITURE = (
    "aside", "embed", "fencedframe", "footer", "iframe", "menu", "object", "script", "applet", "audio", "canvas",
    "map", "svg", "video", "area", "blink", "button", "datalist", "dialog", "frame", "frameset", "fieldset", "link",
    "input", "label", "legend", "marquee", "menuitem", "nav", "noindex", "optgroup", "option", "output", "param",
    "progress", "select", "style", "track", "textarea", "use",
)  # fmt: skip
# Less text than this is a menu or a teaser, not an article.
_MIN_GENERIC_TEXT = 20

# trafilatura's fast mode (no second-opinion extractors) is taken when its
# text holds at least this share of what the page's own markup promises.
_FAST_ENOUGH = 0.7
# A result this short (characters, without spaces) is suspect on its own: a
# second opinion costs little on the few pages where it happens.
_SHORT_ARTICLE = 500


def _generic_body(root: HtmlElement, url: str, meta: _Metadata) -> HtmlElement | None:
    """The article body of a page without site rules, picked by evidence.

    trafilatura (fast mode) proposes; when that is short, or the page's own
    article markup or JSON-LD says the article is clearly longer, trafilatura
    runs again with its fallback extractors (readability, jusText) and the
    longer result wins; failing that, the page's markup or JSON-LD body is used.
    """
    # trafilatura works on its own copy of the parsed page.
    body = _trafilatura_body(root, url, fast=True)
    found = len(_key(body)) if body is not None else 0
    expected = _expected_length(root, meta)
    if body is None or found < _FAST_ENOUGH * expected or found < _SHORT_ARTICLE:
        second = _trafilatura_body(root, url, fast=False)
        if second is not None and len(_key(second)) > found:
            body, found = second, len(_key(second))
    if body is not None and found >= _FAST_ENOUGH * expected:
        _restore_from_page(body, root)
        return body
    # trafilatura found nothing, or far less than the page promises: the
    # page's own article markup, else its JSON-LD articleBody, is the body.
    marked = [e for e in _ARTICLE_BODY_MARKUP(root) if len(_key(e)) >= max(found, 1)]
    if marked:
        return copy_element(max(marked, key=lambda e: len(_key(e))))
    if len(_NO_SPACE.sub("", meta.body_text)) > found:
        paragraphs = "".join(f"<p>{escape(line)}</p>" for line in meta.body_text.splitlines() if line.strip())
        return lxml.html.fragment_fromstring(paragraphs, create_parent="div")
    if body is not None:
        _restore_from_page(body, root)
    return body


def _lead_caption(root: HtmlElement, lead_image: str) -> str:
    """The caption of the lead image as the body shows it: its figcaption, or
    the short text that shares its paragraph (<p><img><br>caption</p>)."""
    if not lead_image:
        return ""
    for img in root.iter("img"):
        if img.get("src") != lead_image:
            continue
        figure = next(img.iterancestors("figure"), None)
        caption = figure.find(".//figcaption") if figure is not None else None
        holder = caption if caption is not None else img.getparent()
        if holder is None or holder is root:
            return ""
        text = " ".join(holder.text_content().split())
        return text if len(text) <= _CAPTION_LIMIT else ""
    return ""


_CAPTION_LIMIT = 300


def _finish(
    body: HtmlElement,
    url: str,
    rules: SiteRules,
    outbound_links: OutboundLinks,
    meta: _Metadata,
) -> Extracted:
    _remove_title(body, meta.title)
    # The common boilerplate goes everywhere; a site's rules add to it.
    html = clean.clean_tree(body, url, rules.remove, rules.drop_blocks_matching)
    markdown = to_markdown(html, url, outbound_links)
    tree = lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")
    lead_image = meta.lead_image
    if not lead_image:
        # No og:image or JSON-LD image: the body's first image leads.
        first = next(tree.iter("img"), None)
        lead_image = first.get("src", "") if first is not None else ""
    caption = _lead_caption(tree, lead_image) or meta.lead_caption
    return Extracted(
        title=meta.title,
        author=meta.author,
        published=meta.published,
        lead_image=lead_image,
        lead_caption=caption,
        html=html,
        markdown=markdown,
        text=_text_of(tree),
    )


def _selected_body(root: HtmlElement, content: str) -> HtmlElement:
    """The element(s) a site's content selector names; several matches
    (e.g. "div.story p") are the body together, in page order."""
    found = clean.selector(content)(root)
    if not found:
        raise ExtractionError(
            f"no element matches the site's content selector {content!r}; if the site changed its layout, "
            "save the page and try a new selector with 'newsmirror extract PAGE.html --site ID'"
        )
    if len(found) == 1:
        return found[0]
    matched = set(found)
    body = lxml.html.Element("div")
    for element in found:
        if not any(a in matched for a in element.iterancestors()):
            body.append(copy_element(element))
    return body


def extract_article(
    page: str, url: str, rules: SiteRules | None = None, outbound_links: OutboundLinks = "plain"
) -> Extracted:
    """Cut the article out of a decoded page. Raises ExtractionError when there is none."""
    rules = rules or SiteRules()
    page = _CONTROL.sub("", page or "")
    if not page.strip():
        raise ExtractionError("empty page")
    root = parse_page(page)
    url = url or _canonical_url(root)
    meta = _metadata(root, url)
    if meta.published is None:
        meta.published = _htmldate(root, url)
    # Page furniture that never holds article text (and that trafilatura and
    # clean would delete anyway): removing it now, once the metadata has been
    # read, spares every later pass over the tree.
    etree.strip_elements(root, "head", *_FURNITURE, with_tail=False)
    if rules.content:
        body = _selected_body(root, rules.content)
    else:
        body = _generic_body(root, url, meta)
        if body is None or len(_key(body)) < _MIN_GENERIC_TEXT:
            raise ExtractionError("no article text found on the page")
    result = _finish(body, url, rules, outbound_links, meta)
    if not result.text.strip() and not result.html:
        raise ExtractionError("the article body is empty after cleaning")
    return result


def extract_fragment(
    fragment: str, url: str, rules: SiteRules | None = None, outbound_links: OutboundLinks = "plain"
) -> Extracted:
    """Clean a feed's full-content fragment as an article body (title etc. left empty)."""
    rules = rules or SiteRules()
    fragment = _CONTROL.sub("", fragment or "")
    if not fragment.strip():
        raise ExtractionError("the feed item has no content")
    body = lxml.html.fragment_fromstring(fragment, create_parent="div")
    result = _finish(body, url, rules, outbound_links, _Metadata())
    if not result.text.strip() and not result.html:
        raise ExtractionError("the feed item's content is empty after cleaning")
    return result


# ---------------------------------------------------------------- files (for the `extract` command)

FORMATS = {"markdown": "md", "html": "html", "text": "txt", "json": "json"}


def read_page(path: Path) -> str:
    """A saved page (.html or .html.gz) → text, decoded like a fetched one."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return decode(data)


def page_stem(path: Path) -> str:
    """The page's name without .html/.htm/.gz: OUTDIR/<stem>.<ext>."""
    name = path.name.removesuffix(".gz")
    for suffix in (".html", ".htm", ".xhtml"):
        name = name.removesuffix(suffix)
    return name


def is_page_file(path: Path) -> bool:
    return path.is_file() and path.name.removesuffix(".gz").endswith((".html", ".htm", ".xhtml"))


def render(article: Extracted, fmt: str) -> str:
    """One extracted article in an output format of the `extract` command."""
    if fmt == "json":
        return json.dumps(article.as_json(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        return article.html + "\n"
    if fmt == "text":
        return article.text + "\n"
    heading = f"# {article.title}\n\n" if article.title else ""
    return heading + article.markdown

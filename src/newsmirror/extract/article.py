"""Page → article: from a decoded page to title, metadata and the body as HTML, Markdown and text.

With site rules the body is the element(s) the site's ``content`` selector
names; without them ``generic.generic_body`` picks it by evidence. Metadata
comes from ``metadata`` (and ``dates.htmldate`` as the last resort for the
date). Either way the body then goes through ``clean`` (boilerplate,
sanitising) and ``markdown``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from lxml import etree
from lxml.html import HtmlElement

from newsmirror.errors import ExtractionError
from newsmirror.extract import clean
from newsmirror.extract.dates import htmldate
from newsmirror.extract.dom import (
    BLOCK_TAGS,
    TEXT_BLOCKS,
    copy_element,
    drop,
    new_element,
    parse_fragment,
    parse_html,
    selector,
    text_key,
)
from newsmirror.extract.generic import generic_body
from newsmirror.extract.markdown import OutboundLinks, to_markdown
from newsmirror.extract.metadata import Metadata, canonical_url, page_metadata

if TYPE_CHECKING:
    from newsmirror.config import SiteConfig

# Page furniture that never holds article text (and that trafilatura and
# clean would delete anyway), removed once the metadata has been read.
_FURNITURE = (
    "aside", "embed", "fencedframe", "footer", "iframe", "menu", "object", "script", "applet", "audio", "canvas",
    "map", "svg", "video", "area", "blink", "button", "datalist", "dialog", "frame", "frameset", "fieldset", "link",
    "input", "label", "legend", "marquee", "menuitem", "nav", "noindex", "optgroup", "option", "output", "param",
    "progress", "select", "style", "track", "textarea", "use",
)  # fmt: skip
# Less text than this is a menu or a teaser, not an article, unless it is a
# sentence: a short article is still an article.
_MIN_GENERIC_TEXT = 20
_SENTENCE_END = re.compile(r"[。！？.!?]")
# A lead caption longer than this is article text, not a caption.
_CAPTION_LIMIT = 300
_LINE_SPACE = re.compile(r"[ \t\r\f\v]+")


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
    text: str  # plain text of the body
    url: str = ""  # the article's address (decides which links the Markdown keeps)
    outbound_links: OutboundLinks = "plain"

    @cached_property
    def markdown(self) -> str:
        """The body as Markdown, without the title as a heading; made when first asked for
        (converting is a good share of extraction's time, and text output never needs it)."""
        return to_markdown(self.html, self.url, self.outbound_links)

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


def parse_page(page: str) -> HtmlElement:
    """A decoded page → its tree; ExtractionError when it is not HTML."""
    try:
        return parse_html(page)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"not an HTML page: {exc}") from None


def extract_article(
    page: str, url: str, rules: SiteRules | None = None, outbound_links: OutboundLinks = "plain"
) -> Extracted:
    """Cut the article out of a decoded page. Raises ExtractionError when there is none."""
    rules = rules or SiteRules()
    page = page or ""
    if not page or page.isspace():  # (not page.strip(): that copies the whole page)
        raise ExtractionError("empty page")
    root = parse_page(page)
    url = url or canonical_url(root)
    meta = page_metadata(root, url)
    if meta.published is None:
        meta.published = htmldate(root, url)
    # Page furniture that never holds article text (and that trafilatura and
    # clean would delete anyway): removing it now, once the metadata has been
    # read, spares every later pass over the tree.
    clean.keep_math(root)  # before the page's scripts go: MathJax keeps its TeX in them
    etree.strip_elements(root, "head", *_FURNITURE, with_tail=False)
    if rules.content:
        body = _selected_body(root, rules.content)
    else:
        body = generic_body(root, url, meta)
        if body is None or not _is_article_text(text_key(body)):
            raise ExtractionError("no article text found on the page")
    return _finish(body, url, rules, outbound_links, meta, "the article body")


def extract_fragment(
    fragment: str, url: str, rules: SiteRules | None = None, outbound_links: OutboundLinks = "plain"
) -> Extracted:
    """Clean a feed's full-content fragment as an article body (title etc. left empty)."""
    if not (fragment or "").strip():
        raise ExtractionError("the feed item has no content")
    body = parse_fragment(fragment)
    return _finish(body, url, rules or SiteRules(), outbound_links, Metadata(), "the feed item's content")


def _is_article_text(text: str) -> bool:
    return len(text) >= _MIN_GENERIC_TEXT or bool(text and _SENTENCE_END.search(text))


def _selected_body(root: HtmlElement, content: str) -> HtmlElement:
    """The element(s) a site's content selector names; several matches
    (e.g. "div.story p") are the body together, in page order."""
    found = selector(content)(root)
    if not found:
        raise ExtractionError(
            f"no element matches the site's content selector {content!r}; if the site changed its layout, "
            "save the page and try a new selector with 'newsmirror extract PAGE.html --site ID'"
        )
    if len(found) == 1:
        return found[0]
    matched = set(found)
    body = new_element("div")
    for element in found:
        if not any(a in matched for a in element.iterancestors()):
            body.append(copy_element(element))
    return body


def _finish(
    body: HtmlElement,
    url: str,
    rules: SiteRules,
    outbound_links: OutboundLinks,
    meta: Metadata,
    what: str,
) -> Extracted:
    """The body cleaned, with its lead image, caption and text; ExtractionError when cleaning left
    nothing of ``what`` (how the message names the body)."""
    _remove_title(body, meta.title)
    # The common boilerplate goes everywhere; a site's rules add to it.
    html = clean.clean_tree(body, url, rules.remove, rules.drop_blocks_matching)
    tree = parse_fragment(html or "<p></p>")
    lead_image = meta.lead_image
    if not lead_image:
        # No og:image or JSON-LD image: the body's first image leads.
        first = next(tree.iter("img"), None)
        lead_image = first.get("src", "") if first is not None else ""
    caption = _lead_caption(tree, lead_image) or meta.lead_caption
    result = Extracted(
        title=meta.title,
        author=meta.author,
        published=meta.published,
        lead_image=lead_image,
        lead_caption=caption,
        html=html,
        text=_text_of(tree),
        url=url,
        outbound_links=outbound_links,
    )
    if not result.text.strip() and not result.html:
        raise ExtractionError(f"{what} is empty after cleaning")
    return result


def _remove_title(body: HtmlElement, title: str) -> None:
    """The title is shown once, by the page template: drop it from the body.

    A heading with the title's text goes, and so does an <h1> before any
    text (the page's headline, worded differently from its og:title); other
    <h1>s become <h2>s under the page's own title.
    """
    norm = "".join(title.split())
    for heading in body.iter("h1", "h2"):
        if norm and "".join(heading.text_content().split()) == norm:
            drop(heading)
            break
    for element in body.iter(*TEXT_BLOCKS):
        if element.tag == "h1":
            drop(element)
        break
    for heading in body.iter("h1"):
        heading.tag = "h2"


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


def _text_of(root: HtmlElement) -> str:
    """Plain text of a clean body (changes the tree): one line per block, no markup.

    It is the article's running text: images and their captions (kept in the
    HTML and Markdown) are left out here.
    """
    for figure in list(root.iter("figcaption", "figure")):
        drop(figure)
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter(*BLOCK_TAGS, "tr", "th", "td"):
        if block.tag in ("td", "th"):
            block.tail = "\t" + (block.tail or "")
        else:
            block.tail = "\n" + (block.tail or "")
            block.text = "\n" + (block.text or "")
    lines = [_LINE_SPACE.sub(" ", line).strip() for line in root.text_content().split("\n")]
    return "\n".join(line for line in lines if line)

"""Tree helpers every step of extraction shares: parsing, block tags, text keys, removal, copies."""

from __future__ import annotations

import re
import threading
from copy import deepcopy
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

from newsmirror.charset import clean_markup

# One parser per thread: extraction runs in a thread pool, and an lxml parser
# object must not be used by two threads at once.
_local = threading.local()
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Elements that make a block of their own (text in two of them never runs together).
BLOCK_TAGS = (
    "p", "div", "section", "article", "li", "ul", "ol", "dl", "dd", "dt", "blockquote", "table", "tr", "td",
    "center", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "pre", "font",
)  # fmt: skip
# The blocks that hold running text: what trafilatura's output is made of.
TEXT_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt")
NO_SPACE = re.compile(r"\s+")
# The only URL schemes links and images may keep.
SAFE_SCHEMES = {"http", "https", "mailto"}


class PageElement(HtmlElement):
    """An element of a page extraction parsed: lxml.html's, with a faster ``text_content``.

    lxml.html reads the text with an XPath (``string()``) set up at every call;
    libxml2's own text serialiser gives the same text (the text nodes below the
    element, in order) in half the time. Extraction, trafilatura and htmldate
    read the text of every block of the page, several times."""

    def text_content(self) -> str:
        return etree.tostring(self, method="text", encoding="unicode", with_tail=False)


def html_parser() -> lxml.html.HTMLParser:
    """This thread's HTML parser."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        # Comments and processing instructions never matter; dropping them while
        # parsing spares every later pass over the tree.
        parser = lxml.html.HTMLParser(collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True)
        # Every element a PageElement: lxml.html's own lookup picks a class per
        # tag (forms, inputs, labels) at every element access, a good share of
        # the time of every pass over the tree, for methods extraction never uses.
        parser.set_element_class_lookup(
            etree.ElementDefaultClassLookup(
                element=PageElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
            )
        )
        _local.parser = parser
    return parser


def parse_html(page: str) -> HtmlElement:
    """A decoded page → its lxml tree (raises lxml's ParserError or ValueError on non-HTML).

    Every HTML that extraction parses goes through here or ``parse_fragment``: what
    is not text, and character references to it (``java&#1&#2script:``), are taken
    out first, so no tree ever holds a character lxml would refuse to set later."""
    page = clean_markup(page)
    # lxml refuses str input that carries an XML encoding declaration.
    if page.lstrip().startswith("<?xml"):
        page = _XML_DECLARATION.sub("", page)
    return lxml.html.document_fromstring(page, parser=html_parser())


def parse_fragment(html: str) -> HtmlElement:
    """A piece of HTML → a ``<div>`` holding it, cleaned like ``parse_html``.

    As ``lxml.html.fragment_fromstring(html, create_parent="div")`` does, but the
    ``<div>`` is made by this parser: the pieces move into its document, and keep
    this parser's element classes (``html_parser``)."""
    parser = html_parser()
    pieces = lxml.html.fragments_fromstring(clean_markup(html), parser=parser)
    root = new_element("div")
    if pieces and isinstance(pieces[0], str):
        root.text = pieces.pop(0)
    root.extend(pieces)
    return root


def new_element(tag: str) -> HtmlElement:
    """A new, empty element of this thread's parser (see ``html_parser``)."""
    made: HtmlElement = html_parser().makeelement(tag)
    return made


def text_key(element: HtmlElement) -> str:
    """An element's text without any whitespace: what two copies of a block share."""
    return "".join(element.text_content().split())


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


def copy_element(element: HtmlElement) -> HtmlElement:
    """A detached deep copy of an element, without the text that follows it."""
    clone = deepcopy(element)
    clone.tail = None
    return clone


def absolute_url(url: str, base_url: str) -> str | None:
    """A link or image address made absolute; None when it is no address a reader may follow."""
    url = url.strip()
    if not url or url.startswith("#"):
        return None
    absolute = urljoin(base_url, url) if base_url else url
    scheme = urlsplit(absolute).scheme.lower()
    # Without a base (a saved page with no known address) a relative URL
    # stays relative: it has no scheme, so it cannot be javascript: either.
    return absolute if scheme in SAFE_SCHEMES or (not scheme and not base_url) else None

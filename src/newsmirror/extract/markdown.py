"""Clean article HTML → Markdown that GitHub renders well.

markdownify does the conversion; this module decides the policy: links
follow the mirror's outbound-link setting, images carry their captions,
nothing but Markdown is left, and whitespace is tidied without touching
Chinese punctuation or full-width spaces.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from bs4.element import Tag
from markdownify import MarkdownConverter

OutboundLinks = Literal["plain", "keep", "original"]


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def same_site(url: str, article_url: str) -> bool:
    """Whether a link points at the article's own site (subdomains count)."""
    host, own = _host(url), _host(article_url)
    if not host or not own:
        return False

    # Compare the last two labels (example.com), or three for hosts like example.co.uk.
    def base(h: str) -> str:
        labels = h.split(".")
        keep = 3 if len(labels) >= 3 and len(labels[-2]) <= 3 and len(labels[-1]) == 2 else 2
        return ".".join(labels[-keep:])

    return base(host) == base(own)


class _Tag(Tag):
    """bs4's Tag with a direct ``find_parent(name)``: markdownify asks it of every
    tag (is it inside a <pre>?), and bs4's general search, which builds a
    matcher per call, cost a quarter of the whole conversion."""

    def find_parent(self, name=None, attrs=None, **kwargs):  # type: ignore[no-untyped-def, override]
        if not isinstance(name, str) or attrs or kwargs:
            return super().find_parent(name, attrs or {}, **kwargs)
        parent = self.parent
        while parent is not None and parent.name != name:
            parent = parent.parent
        return parent


class _Converter(MarkdownConverter):
    def __init__(self, article_url: str, outbound_links: OutboundLinks, **options: Any) -> None:
        super().__init__(**options)
        self.article_url = article_url
        self.outbound_links = outbound_links

    def escape(self, text, parent_tags):  # type: ignore[no-untyped-def]
        # A "<" in text (e.g. <The Palace>, a Korean-style title) would read as
        # an HTML tag, which GitHub then hides; as an entity it shows as typed.
        return super().escape(text, parent_tags).replace("<", "&lt;")  # type: ignore[misc]  # not in its stubs

    def convert_a(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        href = el.get("href") or ""
        if not href or self.outbound_links == "plain" or "_noformat" in parent_tags:
            return text
        if self.outbound_links == "original" and not same_site(href, self.article_url):
            return text
        return super().convert_a(el, text, parent_tags)  # type: ignore[misc]  # not in its stubs

    def convert_img(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        src = el.get("src") or ""
        if not src:
            return ""
        alt = (el.get("alt") or "").replace("[", "").replace("]", "").strip()
        image = f"![{alt}]({src.replace(' ', '%20').replace(')', '%29')})"
        if "_inline" in parent_tags:  # in a heading or a table cell: stay on its line
            return image
        return f"\n\n{image}\n\n"

    def convert_figcaption(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        text = text.strip()
        return f"\n\n*{text}*\n\n" if text else ""

    def convert_figure(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        return f"\n\n{text.strip()}\n\n"


_BLANK_RUN = re.compile(r"\n[ \t]*(\n[ \t]*)+\n")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
# Two line breaks in a row (<br><br>, how many sites separate paragraphs)
# are a paragraph break.
_BREAK_RUN = re.compile(r"\\\n(?:[ \t]*\\\n)+")
# Spaces after a hard line break come from the source layout (<br>\n  text).
_BREAK_INDENT = re.compile(r"\\\n[ \t]+")
# A hard line break alone on its line, or closing a paragraph, breaks nothing.
_EMPTY_BREAK = re.compile(r"^[ \t]*\\\n", re.M)
_END_BREAK = re.compile(r"\\\n(?=\n|$)")
# Spaces that open a paragraph come from the source layout (list and code
# indentation never follows a blank line with fewer than four spaces).
_PARAGRAPH_INDENT = re.compile(r"(^|\n\n) {1,3}(?=\S)")
# markdownify strips paragraphs with str.strip(), which eats the full-width
# spaces that indent Chinese paragraphs; they travel as a stand-in instead.
_FULL_WIDTH_SPACE, _STAND_IN = "\u3000", "\ue000"


def to_markdown(html: str, article_url: str = "", outbound_links: OutboundLinks = "plain") -> str:
    """Convert sanitised article HTML to Markdown."""
    converter = _Converter(
        article_url,
        outbound_links,
        heading_style="ATX",
        bullets="-",
        strong_em_symbol="*",
        escape_underscores=True,
        escape_asterisks=True,
        newline_style="backslash",
        table_infer_header=True,
        bs4_options={"features": "lxml", "element_classes": {Tag: _Tag}},
    )
    markdown = converter.convert(html.replace(_FULL_WIDTH_SPACE, _STAND_IN))
    markdown = _TRAILING_SPACE.sub("\n", markdown)
    markdown = _BREAK_RUN.sub("\n\n", markdown)
    markdown = _BREAK_INDENT.sub("\\\n", markdown)
    markdown = _EMPTY_BREAK.sub("", markdown)
    markdown = _END_BREAK.sub("\n", markdown)
    markdown = (
        _PARAGRAPH_INDENT.sub(r"\1", _BLANK_RUN.sub("\n\n", markdown))
        .strip("\n\t ")
        .replace(_STAND_IN, _FULL_WIDTH_SPACE)
    )
    return markdown + "\n" if markdown.strip() else ""

"""Clean article HTML → Markdown that GitHub renders well.

markdownify does the conversion; this module decides the policy: links
follow the mirror's outbound-link setting, images carry their captions,
nothing but Markdown is left, and whitespace is tidied without touching
Chinese punctuation or full-width spaces.
"""

from __future__ import annotations

import re
import unicodedata
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
        return f"\n\n{_EM_OPEN}{text}{_EM_CLOSE}\n\n" if text else ""

    # Emphasis and line breaks are written as stand-ins and settled once the whole text is known
    # (settle_emphasis, _settle_breaks): whether `**` renders depends on the characters around it.
    def _emphasis(self, opening: str, closing: str, text: str, parent_tags: set[str]) -> str:
        return text if "_noformat" in parent_tags else f"{opening}{text}{closing}"

    def convert_b(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        return self._emphasis(_STRONG_OPEN, _STRONG_CLOSE, text, parent_tags)

    def convert_em(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        return self._emphasis(_EM_OPEN, _EM_CLOSE, text, parent_tags)

    convert_strong = convert_b
    convert_i = convert_em

    def convert_br(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        if "_inline" in parent_tags:  # a heading or a table cell holds one line
            return text + " " if text else " "
        return _BREAK + text

    def convert_table(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        # A table without a word in it (layout leftovers, emptied ad slots) renders as an empty grid.
        if not el.get_text().strip() and not el.find("img"):
            return ""
        return super().convert_table(el, text, parent_tags)  # type: ignore[misc]

    def convert_figure(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        return f"\n\n{text.strip()}\n\n"


_BLANK_RUN = re.compile(r"\n[ \t]*(\n[ \t]*)+\n")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
# Stand-ins (private-use characters) for <strong>/<b>, <em>/<i> and <br> while converting.
_STRONG_OPEN, _STRONG_CLOSE, _EM_OPEN, _EM_CLOSE, _BREAK = "\ue001\ue002\ue003\ue004\ue005"
_SPACES = " \t\n\u3000\ue000"
# Two line breaks in a row (<br><br>, how many sites separate paragraphs) are a paragraph break.
_BREAK_RUN = re.compile(f"{_BREAK}(?:[{_SPACES}]*{_BREAK})+[ \t\n]*")
# A line break that ends a block (a paragraph, a list item, a quote: nothing follows it on its
# line but spaces) or that starts one breaks nothing; GitHub would show its backslash.
_END_BREAK = re.compile(
    f"[ \t\u3000\ue000]*{_BREAK}[ \t\u3000\ue000]*"
    r"(?=$|\n[ \t]*(?:$|\n|[-*+][ \t]|\d+[.)][ \t]|>|#|\|))"
)
_START_BREAK = re.compile(f"(^|\n)([ \t]*(?:[-*+>]|\\d+\\.)?[ \t]*){_BREAK}[ \t]*")
# Spaces after a hard line break come from the source layout (<br>\n  text).
_BREAK_INDENT = re.compile(f"{_BREAK}[ \t]*\n?[ \t]*")
# The innermost emphasis: no other emphasis stand-in inside.
_INNERMOST = re.compile(f"([{_STRONG_OPEN}{_EM_OPEN}])([^{_STRONG_OPEN}-{_EM_CLOSE}]*)([{_STRONG_CLOSE}{_EM_CLOSE}])")
_DELIMITERS = {_STRONG_OPEN: "**", _EM_OPEN: "*"}
_LOST_STAND_IN = re.compile(f"[{_STRONG_OPEN}-{_EM_CLOSE}]")
# Characters never moved out of emphasis: they may be Markdown syntax (links, images, code,
# escapes, entities) whose meaning depends on where they stand.
_SYNTAX = set("[]()!<>`\\&*_~|#")
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
        # No attribute of sanitised HTML is a list of values (class, rel): bs4 need not look for them.
        bs4_options={"features": "lxml", "element_classes": {Tag: _Tag}, "multi_valued_attributes": None},
    )
    markdown = converter.convert(html.replace(_FULL_WIDTH_SPACE, _STAND_IN))
    markdown = _TRAILING_SPACE.sub("\n", markdown)
    markdown = _settle_breaks(settle_emphasis(markdown))
    markdown = (
        _PARAGRAPH_INDENT.sub(r"\1", _BLANK_RUN.sub("\n\n", markdown))
        .strip("\n\t ")
        .replace(_STAND_IN, _FULL_WIDTH_SPACE)
    )
    return markdown + "\n" if markdown.strip() else ""


def _settle_breaks(markdown: str) -> str:
    """Line-break stand-ins → CommonMark hard breaks (``\\`` at a line's end), only where they break a line."""
    if _BREAK not in markdown:
        return markdown
    markdown = _BREAK_RUN.sub("\n\n", markdown)
    markdown = _END_BREAK.sub("", markdown)
    markdown = _START_BREAK.sub(r"\1\2", markdown)
    return _BREAK_INDENT.sub("\\\n", markdown)


def _is_space(char: str) -> bool:
    return char in _SPACES or char == _BREAK or unicodedata.category(char) == "Zs"


def _is_punctuation(char: str, *, symbols: bool) -> bool:
    """CommonMark's punctuation: ASCII punctuation and Unicode P*; since spec 0.31 also S* (markdown-it-py),
    which GitHub's cmark-gfm does not count. Emphasis must render under both."""
    if char.isascii():
        return not char.isalnum() and not char.isspace() and char.isprintable()
    category = unicodedata.category(char)
    return category.startswith("P") or (symbols and category.startswith("S"))


def _punctuation_to_move(char: str) -> bool:
    """Punctuation at the edge of emphasis that can stand outside it without changing the text."""
    return char not in _SYNTAX and _is_punctuation(char, symbols=True)


def _flanks(edge: str, outside: str) -> bool:
    """Whether ``*`` can open or close emphasis between ``edge``, the emphasised text's first (last)
    character, and ``outside``, the one before (after) the delimiter: CommonMark's left-flanking rule
    for opening and its mirror, the right-flanking rule, for closing; under both definitions of punctuation."""
    if _is_space(edge):
        return False
    for symbols in (False, True):
        if _is_punctuation(edge, symbols=symbols) and not (
            _is_space(outside) or _is_punctuation(outside, symbols=symbols)
        ):
            return False
    return True


def _neighbour(char: str, side: str) -> str:
    """What the renderer will see in place of a stand-in next to a delimiter."""
    if not char:
        return "\n"
    if char == _BREAK:
        return "\n" if side == "before" else "\\"
    return "*" if char in _DELIMITERS or char in (_STRONG_CLOSE, _EM_CLOSE) else char


def settle_emphasis(markdown: str) -> str:
    """Emphasis stand-ins → ``**``/``*`` that GitHub renders as bold and italic, also next to CJK text.

    CommonMark only opens emphasis before a non-space and, when the next character is punctuation,
    only after a space or punctuation; the mirror of that rule for closing. ``**李金泽：**政府`` breaks
    it (``：`` before ``**``, ``政`` after), so do ``**　　标题**`` and ``文字**「引语」**文字``: the
    asterisks show as text. Here spaces (ideographic ones too) at either edge move outside the
    delimiters, and so does punctuation on a side where the delimiter would not render
    (``**李金泽**：政府``); emphasis left empty goes, adjacent runs of the same kind join, and
    emphasis that still could not render (e.g. a link right after a Chinese character) is dropped,
    keeping its text.
    """
    markdown = markdown.replace(_STRONG_CLOSE + _STRONG_OPEN, "").replace(_EM_CLOSE + _EM_OPEN, "")

    def settle(match: re.Match[str]) -> str:
        text, whole = match[2], match.string
        start, end = 0, len(text)
        while start < end and _is_space(text[start]):  # spaces inside the delimiters never render
            start += 1
        while end > start and _is_space(text[end - 1]):
            end -= 1
        if start < end and "\n\n" not in text:
            before = _neighbour((whole[: match.start()] + text[:start])[-1:], "before")
            if not _flanks(text[start], before):  # punctuation first, after a letter: it goes outside
                while start < end and _punctuation_to_move(text[start]):
                    start += 1
            after = _neighbour((text[end:] + whole[match.end() :])[:1], "after")
            if start < end and not _flanks(text[end - 1], after):
                while end > start and _punctuation_to_move(text[end - 1]):
                    end -= 1
        lead, inner, trail = text[:start], text[start:end], text[end:]
        if not inner or "\n\n" in inner:
            return text
        before = _neighbour((whole[: match.start()] + lead)[-1:], "before")
        after = _neighbour((trail + whole[match.end() :])[:1], "after")
        if not (_flanks(inner[0], before) and _flanks(inner[-1], after)):
            return text  # cannot render here: the text stays, not bold
        delimiter = _DELIMITERS[match[1]]
        return f"{lead}{delimiter}{inner}{delimiter}{trail}"

    while True:
        settled = _INNERMOST.sub(settle, markdown)
        if settled == markdown:
            break
        markdown = settled
    # Stand-ins whose pair was lost (never in markdownify's output, but never left as characters;
    # looked for first, as translating is a slow pass over the whole text).
    if _LOST_STAND_IN.search(markdown) is None:
        return markdown
    return markdown.translate(dict.fromkeys(map(ord, _STRONG_OPEN + _STRONG_CLOSE + _EM_OPEN + _EM_CLOSE)))

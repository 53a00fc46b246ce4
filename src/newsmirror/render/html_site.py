"""The static HTML site: an .html sibling of every Markdown file the build writes (``mirror.html``).

README.md becomes index.html and every other x.md becomes x.html in the same
folder, so every relative link (QR codes, images, other pages) still works;
only links between pages change from .md to .html. The Markdown is rendered
with markdown-it-py (CommonMark, tables, strikethrough) with raw HTML off, into
a page with a small inline stylesheet: no script, no font, nothing fetched from
elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsmirror import layout
from newsmirror.render.templating import environment, plain_text

# Blocks of an article read for its first paragraph before reading all of it.
_HEAD_BLOCKS = 8
# Han, kana, hangul and CJK punctuation: a title with any of them is taken for Chinese (offline copies
# that name no language; the build gives every page its site's).
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


# Pagefind indexes only what a data-pagefind-body element holds (and, once one page has one, no page
# without one: history pages and lists stay out of the results).
_SEARCH_BODY = ("<div data-pagefind-body>\n", "</div>\n")

# What a page of the site may load: its own images (and data: ones), its inline style; never a script.
CSP = "default-src 'none'; img-src * data:; style-src 'unsafe-inline'"


@cache
def markdown_parser() -> MarkdownIt:
    # CommonMark with GitHub's tables and strikethrough, as GitHub shows the pages; raw HTML in a page is
    # shown as text, never passed on.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _page_link(href: str) -> str:
    """A relative link to a Markdown page, pointed at its HTML sibling; any other link unchanged."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.endswith(".md") or href.startswith("/"):
        return href
    folder, _, name = parts.path.rpartition("/")
    name = layout.html_path(name)
    path = f"{folder}/{name}" if folder else name
    return path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _inline_text(token: Token) -> str:
    """The text a reader sees of an inline token (escapes undone, markup and images left out)."""
    out: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def page_language(title: str) -> str:
    return "zh" if _CJK.search(title) else "en"


def to_html(
    markdown: str,
    path: str,
    mirror_title: str,
    *,
    lang: str | None = None,
    feed: bool = True,
    csp: str | None = CSP,
    sizes: Mapping[str, tuple[int, int]] | None = None,
    asset_base_url: str | None = None,
    site_url: str | None = None,
    search: str | None = None,
    search_body: bool = False,
) -> str:
    """The HTML page of the managed Markdown file ``path`` holding ``markdown``.

    ``lang`` is the page's language (the build passes the site's; without it, the title suggests one);
    offline copies pass ``feed=False`` (there is no feed beside them) and their own ``csp`` (None: none).
    Every image of the mirror gets its ``width`` and ``height`` (``sizes``: file name → pixels), so the
    page does not jump as images arrive, and all but the first wait until they are scrolled near
    (``loading="lazy"``): on a slow line the text comes first. With ``site_url`` (where the HTML site
    is served) the page names its own address there as its canonical one.
    ``search`` is the search page's link, for a search box at the top (a plain form: no script).
    ``search_body`` marks an article page's own text (``article_body``) as what the search index holds;
    other pages are left as they are.
    """
    parser = markdown_parser()
    tokens = parser.parse(markdown)
    root = layout.root(path)
    title = ""
    images = 0
    for index, token in enumerate(tokens):
        if not title and token.type == "heading_open" and token.tag == "h1":
            title = _inline_text(tokens[index + 1])
        for child in token.children or []:
            if child.type == "link_open":
                child.attrSet("href", _page_link(str(child.attrGet("href") or "")))
            elif child.type == "image":
                src = layout.asset_path(str(child.attrGet("src") or ""), path, asset_base_url)
                child.attrSet("src", src)
                size = (
                    (sizes or {}).get(src.rsplit("/", 1)[-1]) if src.startswith(f"{root}{layout.IMAGES_DIR}/") else None
                )
                if size:
                    child.attrSet("width", str(size[0]))
                    child.attrSet("height", str(size[1]))
                if images:
                    child.attrSet("loading", "lazy")
                images += 1
    span = article_body(tokens, path) if search_body else None
    if span:
        start, end = span
        render = parser.renderer.render
        body = "".join(
            (
                render(tokens[:start], parser.options, {}),
                _SEARCH_BODY[0] + render(tokens[start:end], parser.options, {}) + _SEARCH_BODY[1],
                render(tokens[end:], parser.options, {}),
            )
        )
    else:
        body = parser.renderer.render(tokens, parser.options, {})
    return wrap_page(
        body,
        plain_text(title) or mirror_title,
        root=root,
        lang=lang or page_language(title),
        csp=csp,
        feed=layout.FEED if feed else None,
        feed_title=mirror_title,
        canonical=layout.url(site_url, layout.html_path(path)) if site_url else None,
        search=search,
    )


def wrap_page(
    body: str,
    title: str,
    *,
    root: str,
    lang: str,
    csp: str | None,
    feed: str | None = None,
    feed_title: str = "",
    canonical: str | None = None,
    search: str | None = None,
    stylesheet: str | None = None,
) -> str:
    """A page of HTML ``body`` with the site's head and stylesheet (``root`` leads to the top of the tree):
    inline, or linked from ``stylesheet`` (a path from the top of the tree holding ``STYLESHEET``)."""
    html = (
        environment()
        .get_template("page.html.j2")
        .render(
            lang=lang,
            title=title,
            root=root,
            feed=feed,
            csp=csp,
            canonical=canonical,
            search=search,
            feed_title=feed_title,
            body=body,
            stylesheet=stylesheet,
        )
    )
    return html.rstrip() + "\n"


def stylesheet() -> str:
    """The pages' stylesheet, for a copy whose pages link one file instead of each holding it."""
    return environment().get_template("page.css.j2").render()


def article_body(tokens: Sequence[Token], path: str) -> tuple[int, int] | None:
    """Where the article's own text is among an article page's tokens (``page.md.j2``): after the
    page's first rule, up to the rule before the share block — the block that gives the page's own
    address, which ends with its path. None on a page without both (lists, history pages)."""
    own = "/" + path
    rules = [i for i, token in enumerate(tokens) if token.type == "hr" and token.level == 0]
    shares = [
        i
        for i, token in enumerate(tokens)
        if token.type == "inline"
        and any(c.type == "link_open" and str(c.attrGet("href") or "").endswith(own) for c in token.children or [])
    ]
    if not rules or not shares:
        return None
    before_share = [i for i in rules if i < shares[-1]]
    if not before_share or before_share[-1] <= rules[0]:
        return None
    return rules[0] + 1, before_share[-1]


def first_paragraph(markdown: str) -> str:
    """The text of the first paragraph that has any (a paragraph of images alone is passed over)."""
    parser = markdown_parser()
    # The first paragraph is near the top: parse the first few blocks, and all of it only when they hold none.
    head = "\n\n".join(markdown.split("\n\n", _HEAD_BLOCKS)[:_HEAD_BLOCKS])
    for text in (head, markdown) if head != markdown else (markdown,):
        tokens = parser.parse(text)
        for index, token in enumerate(tokens):
            if token.type == "paragraph_open":
                found = _inline_text(tokens[index + 1])
                if found:
                    return plain_text(found)
    return ""

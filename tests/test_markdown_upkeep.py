"""Stored articles get the current converter's Markdown from their stored HTML: no refetch, no revision,
and only the pages whose Markdown changed are built again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from markdown_it import MarkdownIt

from newsmirror.config import parse_config
from newsmirror.demosite import DemoSite
from newsmirror.extract.markdown import to_markdown
from newsmirror.layout import page_path
from newsmirror.models import ArticleKey
from newsmirror.render import build
from newsmirror.store import Store
from newsmirror.sync import sync

KEY = ArticleKey("cgw", "world", "1031330")  # the typhoon story: bold lead-ins with the colon inside
FIXED, OLD = "**市民热线**：", "**市民热线：**"  # as this release writes it, as old ones did


def rendered_text(markdown: str) -> str:
    """The text a reader sees of ``markdown``, rendered as GitHub does (markdown-it-py's GFM preset)."""
    tokens = MarkdownIt("gfm-like", {"linkify": False}).parse(markdown)
    return "".join(child.content for token in tokens for child in token.children or [] if child.type == "text")


def test_a_new_converter_reaches_stored_articles_without_a_refetch(tmp_path: Path, store_location: Path | str) -> None:
    with DemoSite() as demo:
        config = parse_config(demo.config_toml(output="mirror", store=str(store_location)), root=tmp_path)
        with Store(config.store) as store:
            first = asyncio.run(sync(config, store, sites=["cgw"], all_feeds=True))
            assert first.new and first.remade == 0  # a fresh store: its Markdown is the current converter's
            stored = store.article(KEY)
            assert stored is not None and FIXED in stored.markdown
            # The store of an older release: the same HTML, the Markdown its converter made from it.
            store.remake_markdown(KEY, stored.title, stored.markdown.replace(FIXED, OLD))
            store.set_markdown_converter("an older release")
            build(config, store)
            page = config.output_dir / page_path(KEY)
            shown = rendered_text(page.read_text("utf-8"))
            assert OLD in page.read_text("utf-8") and "**市民热线：**" in shown  # GitHub shows the asterisks

            demo.clear_requests()
            again = asyncio.run(sync(config, store, sites=["cgw"]))  # no feed is due: nothing is fetched
            assert not demo.requests and again.remade == 1
            article = store.article(KEY)
            assert article is not None and article.markdown == to_markdown(article.html, article.url, "plain")
            assert store.revisions(KEY) == [] and store.article_heads("cgw", "world")[0].updated is None

            result = build(config, store)
            assert result.ok
            assert [p for p in result.written if p.endswith(".md") and p.startswith("pages/")] == [page_path(KEY)]
            text = page.read_text("utf-8")
            assert FIXED in text and OLD not in text and "**" not in rendered_text(text)  # bold, as written
            assert asyncio.run(sync(config, store, sites=["cgw"])).remade == 0  # once is enough

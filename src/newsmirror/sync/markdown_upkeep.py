"""Stored articles' Markdown made again by the current converter, from their stored HTML.

The store keeps every article's cleaned HTML beside the Markdown made from it. When
the converter changes (a release fixes how emphasis or line breaks come out) or the
mirror's ``outbound_links`` does, the next sync makes each stored article's Markdown
again from that HTML, so the fix reaches old articles without fetching anything.
The same text in a better form is not a revision of the article: no history entry,
no update mark. Only the articles whose Markdown comes out different are written,
so the build renders only their pages again.

The converter is known by a fingerprint of its code and of the libraries it leans
on, kept in the store once every article is done: a sync killed half way starts
again on the next run (articles already done come out the same and are not written).
"""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import Executor
from functools import cache
from importlib import metadata
from pathlib import Path

from newsmirror.config import Config
from newsmirror.extract import markdown as converter
from newsmirror.image_fetch import image_urls
from newsmirror.store import Store

_BATCH = 200  # articles read from the store at a time: their HTML is most of a store's size


@cache
def _converter_code() -> str:
    digest = hashlib.sha1(Path(converter.__file__).read_bytes())
    for package in ("markdownify", "beautifulsoup4", "lxml"):
        digest.update(f"{package} {metadata.version(package)}".encode())
    return digest.hexdigest()


def converter_fingerprint(config: Config) -> str:
    """What the stored Markdown is made by: the converter's code, its libraries, the link policy."""
    return hashlib.sha1(f"{_converter_code()} {config.mirror.outbound_links}".encode()).hexdigest()


async def remake_markdown(config: Config, store: Store, executor: Executor | None = None) -> int:
    """Make every stored article's Markdown again when its converter changed; how many came out different."""
    fingerprint = converter_fingerprint(config)
    if store.markdown_converter() == fingerprint:
        return 0
    loop = asyncio.get_running_loop()
    policy = config.mirror.outbound_links
    remade = 0
    batch = store.article_sources(limit=_BATCH)
    while batch:
        for source in batch:
            if not source.html.strip():  # nothing to make it from (written by hand, or by a test)
                continue
            markdown = await loop.run_in_executor(executor, converter.to_markdown, source.html, source.url, policy)
            if markdown == source.markdown:
                continue
            store.remake_markdown(source.key, source.title, markdown)
            if image_urls(markdown) != image_urls(source.markdown):
                store.set_article_images(source.key, image_urls(markdown))
            remade += 1
        batch = store.article_sources(after=batch[-1].key, limit=_BATCH)
    store.set_markdown_converter(fingerprint)
    return remade

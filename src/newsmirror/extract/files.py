"""Saved pages for the ``extract`` command: reading them, naming the output, rendering a format."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from newsmirror.charset import decode
from newsmirror.extract.article import Extracted

# Output formats of the `extract` command → file extension.
FORMATS = {"markdown": "md", "html": "html", "text": "txt", "json": "json"}
_PAGE_SUFFIXES = (".html", ".htm", ".xhtml")


def read_page(path: Path) -> str:
    """A saved page (.html or .html.gz) → text, decoded like a fetched one."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return decode(data)


def page_stem(path: Path) -> str:
    """The page's name without .html/.htm/.gz: OUTDIR/<stem>.<ext>."""
    name = path.name.removesuffix(".gz")
    for suffix in _PAGE_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def is_page_file(path: Path) -> bool:
    return path.is_file() and path.name.removesuffix(".gz").endswith(_PAGE_SUFFIXES)


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

"""Saved pages for the ``extract`` command: reading them, naming the output, rendering a format."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

from newsmirror.charset import decode
from newsmirror.errors import ExtractionError, UsageError
from newsmirror.extract.article import Extracted, SiteRules, extract_article

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
    # The title is the page's text, escaped exactly as the built mirror escapes it:
    # a <title> of "<img src=x onerror=...>" must stay text in the Markdown too.
    from newsmirror.render.templating import md

    heading = f"# {md(article.title)}\n\n" if article.title else ""
    return heading + article.markdown


def extract_saved(
    page: Path,
    url: str,
    rules: SiteRules | None,
    fmt: str,
    out: Path | None,
    show: Callable[[str], None],
    warn: Callable[[str], None],
) -> tuple[int, int]:
    """The ``extract`` command: each saved page (``page``, or the pages in the folder ``page``) in
    the format ``fmt``, shown with ``show`` or, with ``out``, written to OUT/<page name>.<ext>
    (whole or not at all). A page that fails is one ``warn`` line naming it; the rest go on.
    Returns (pages extracted, pages read)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    pages = _saved_pages(page, out)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    done = 0
    for path in pages:
        try:
            result = render(extract_article(read_page(path), url, rules), fmt)
        except (ExtractionError, OSError) as exc:
            warn(f"{path}: {exc}")
            continue
        done += 1
        if out is None:
            show(result)
            continue
        target = out / f"{page_stem(path)}.{FORMATS[fmt]}"
        temp = target.with_name(f".{target.name}.tmp")
        temp.write_text(result, encoding="utf-8")
        temp.replace(target)
    return done, len(pages)


def _saved_pages(page: Path, out: Path | None) -> list[Path]:
    if page.is_dir():
        if out is None:
            raise UsageError(f"{page} is a folder: pass --out OUTDIR for the results")
        pages = sorted(p for p in page.iterdir() if is_page_file(p))
        if not pages:
            raise UsageError(f"{page}: no .html or .html.gz files in it")
        return pages
    if page.is_file():
        return [page]
    raise UsageError(f"{page}: no such file or folder")

"""Extraction is safe under concurrency: every sample page extracted in many threads at
once gives exactly what it gives alone (no parser or other lxml object is shared between
threads in a way that could mix them up or crash)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from newsmirror.charset import decode
from newsmirror.demosite.content import load_items, load_sites
from newsmirror.demosite.render import Renderer
from newsmirror.extract import ExtractionError, SiteRules, extract_article

PAGES = Path(__file__).parent / "pages"
BASE = "http://127.0.0.1:8700"


def sample_pages() -> list[tuple[str, str, SiteRules | None]]:
    """(url, page, rules) of every article of the sample sites and the saved test pages."""
    pages: list[tuple[str, str, SiteRules | None]] = []
    for site in load_sites():
        items = load_items(site)
        renderer = Renderer(site, BASE)
        rules = SiteRules(content=site.content, remove=site.remove) if site.content else None
        for path, resource in renderer.resources(items).items():
            if resource.content_type.startswith("text/html") and path in {item.path for item in items}:
                pages.append((BASE + path, decode(resource.body, resource.content_type), rules))
    for path in sorted(PAGES.glob("*.html")):
        pages.append(("", decode(path.read_bytes()), None))
    return pages


def extract(args: tuple[str, str, SiteRules | None]) -> str:
    url, page, rules = args
    try:
        article = extract_article(page, url, rules)
    except ExtractionError as exc:
        return f"error: {exc}"
    return "\x1f".join((article.title, article.author, str(article.published), article.markdown, article.html))


def test_extraction_in_many_threads_at_once_matches_one_at_a_time() -> None:
    pages = sample_pages()
    assert len(pages) >= 20
    alone = [extract(page) for page in pages]
    assert sum(not result.startswith("error:") for result in alone) >= 20
    work = pages * 4  # every page in flight several times over
    with ThreadPoolExecutor(max_workers=16) as pool:
        together = list(pool.map(extract, work))
    assert together == alone * 4

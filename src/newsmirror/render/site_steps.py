"""The build's HTML steps: each Markdown file's HTML sibling, and the search page with its index."""

from __future__ import annotations

import logging

from newsmirror import layout
from newsmirror.errors import unexpected
from newsmirror.layout import (
    HOME,
    PAGES_DIR,
    SEARCH_DIR,
    SEARCH_PAGE,
    html_path,
    in_tree,
)
from newsmirror.models import sha1_hex
from newsmirror.render.archive import key_line
from newsmirror.render.build_run import BuildRun, Job
from newsmirror.render.channels import ChannelView
from newsmirror.render.html_site import to_html
from newsmirror.render.search import SearchIndexError, index_pages, render_search_page
from newsmirror.render.templating import code_fingerprint
from newsmirror.render.variants import Variant, convert_markdown, convert_text

log = logging.getLogger(__name__)


def write_html(run: BuildRun, lists: dict[str, str]) -> None:
    """The static HTML site: each Markdown file's HTML sibling, converted again only when its Markdown changed."""
    mirror = run.config.mirror
    settings = sha1_hex(repr((code_fingerprint(), mirror.title, mirror.asset_base_url, mirror.site_url, mirror.search)))
    sizes = run.store.image_sizes() if mirror.images == "copy" else {}
    sources = run.sources | {path: sha1_hex(text) for path, text in lists.items()}
    for done, (path, inputs) in enumerate(sorted(sources.items()), start=1):
        if done % 100 == 0 or done == len(sources):
            run.report("html", done, len(sources))
        variant = run.variant_of(path)
        language = variant.lang if variant else run.languages.get(path, mirror.language)
        job = Job(html_path(path), sha1_hex(settings + inputs + language))
        run.wanted.add(job.path)
        if not run.stale(job):
            continue
        markdown = lists.get(path) or (run.tree.read(path) or b"").decode()
        if markdown:  # empty: its Markdown could not be written, an error is already reported
            home = in_tree(variant.folder, HOME) if variant else HOME
            try:
                html = to_html(
                    markdown,
                    path,
                    mirror.title,
                    lang=language,
                    sizes=sizes,
                    asset_base_url=mirror.asset_base_url,
                    site_url=mirror.site_url,
                    search=SEARCH_PAGE if mirror.search and path == home else None,
                    search_body=mirror.search,  # results show the article's text, not the page's
                )
            except Exception as exc:  # a bug meeting one page costs its HTML twin, not the build
                log.debug("html %s", path, exc_info=exc)
                run.result.errors.append(
                    f"cannot make {job.path} from {path}: {unexpected(exc)}; "
                    "its previous HTML is kept and the next build tries again"
                )
            else:
                run.put(job, html.encode())


def write_search(run: BuildRun, views: list[ChannelView]) -> None:
    """The search page, and Pagefind's index of the article pages, made again only when one of them changed."""
    mirror = run.config.mirror
    indexes = [(f"{v.site.name} · {v.name}", html_path(v.index_path())) for v in views]
    run.wanted.add(SEARCH_PAGE)
    signed = key_line(run.fingerprint, mirror.language, layout.root(SEARCH_PAGE))
    run.put(Job(SEARCH_PAGE, ""), render_search_page(mirror.title, indexes, key_line=signed).encode())
    for variant in run.variants:
        path = in_tree(variant.folder, SEARCH_PAGE)

        def convert(text: str, variant: Variant = variant) -> str:
            return convert_text(text, variant.default)

        page = render_search_page(
            mirror.title,
            indexes,
            top="../",
            lang=variant.lang,
            convert=convert,
            key_line=convert_markdown(key_line(run.fingerprint, mirror.language, layout.root(path)), variant.default),
        )
        run.wanted.add(path)
        run.put(Job(path, ""), page.encode())
    pages = sorted((path, inputs) for path, inputs in run.sources.items() if path.startswith(f"{PAGES_DIR}/"))
    inputs = sha1_hex(code_fingerprint() + repr(pages))
    made = [path for path in run.manifest if path.startswith(f"{SEARCH_DIR}/")]
    if made and all(run.manifest[path].inputs == inputs and run.current(Job(path, inputs)) for path in made):
        run.wanted.update(made)
        run.result.unchanged += len(made)
        return
    run.report("search", 0, 1)
    try:
        files = index_pages(run.tree.root, [PAGES_DIR, *(in_tree(v.folder, PAGES_DIR) for v in run.variants)])
    except SearchIndexError as exc:
        run.wanted.update(made)  # the last index stays until one can be made
        run.result.errors.append(str(exc))
        return
    for path, data in files.items():
        run.wanted.add(path)
        run.put(Job(path, inputs), data, "search index")
    run.report("search", 1, 1)

"""The build's article steps: deciding which pages and QR codes to draw, then images, pages, QR codes,
history pages, and the weight of each page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial

from newsmirror import layout
from newsmirror.errors import unexpected
from newsmirror.layout import (
    article_label,
    html_path,
    image_path,
    in_tree,
    page_path,
    qr_path,
    share_url,
)
from newsmirror.layout import url as url_of
from newsmirror.models import Article, ArticleKey, sha1_hex
from newsmirror.render.archive import history_inputs, render_history, site_language
from newsmirror.render.article_work import CODES_PER_BATCH, PAGES_PER_BATCH, Batch, Makers, PageTask
from newsmirror.render.build_run import BuildRun, Job, PageJob
from newsmirror.render.channels import ChannelView
from newsmirror.render.pages import channel_inputs, page_inputs, settings_fingerprint
from newsmirror.render.qr import qr_inputs
from newsmirror.render.result import PageWeight
from newsmirror.render.templating import code_fingerprint
from newsmirror.render.variants import Variant, convert_markdown
from newsmirror.store import Revision

log = logging.getLogger(__name__)


def plan_articles(
    run: BuildRun, views: list[ChannelView], images: dict[ArticleKey, dict[str, str]]
) -> tuple[list[PageJob], list[tuple[Job, str]]]:
    """The pages and QR codes to draw (the copies' in the other script too): only those whose inputs
    changed, or whose file did."""
    langs = repr([v.lang for v in run.variants])  # which twins a page links
    settings = sha1_hex(settings_fingerprint(run.config.mirror, code_fingerprint() + run.fingerprint) + langs)
    pages: list[PageJob] = []
    codes: list[tuple[Job, str]] = []

    def plan(view: ChannelView, key: ArticleKey, page: Job, qr: Job, url: str, variant: Variant | None = None) -> None:
        """A page (of the mirror, or of a copy) and its QR code: wanted, and drawn unless current."""
        run.wanted.update((page.path, qr.path))
        run.stamps[page.path] = page.inputs[:8]
        run.sources[page.path] = page.inputs
        if run.stale(page):
            pages.append((view, key, page, variant))
        if run.stale(qr):
            codes.append((qr, url))

    for view in views:
        language = site_language(view.site)
        channel = channel_inputs(settings, view)
        for head in view.heads:
            if head.updated:
                history = Job(layout.history_path(head.key), history_inputs(settings, head, language))
                run.wanted.add(history.path)
                run.sources[history.path] = history.inputs
                run.languages[history.path] = language
                if run.stale(history):
                    run.histories.append((view, head.key, history, None))
                for variant in run.variants:
                    copy = Job(
                        in_tree(variant.folder, history.path),
                        sha1_hex(history.inputs + variant.fingerprint(view.site.id)),
                    )
                    run.wanted.add(copy.path)
                    run.sources[copy.path] = copy.inputs
                    if run.stale(copy):
                        run.histories.append((view, head.key, copy, variant))
            page = Job(page_path(head.key), page_inputs(channel, head, images.get(head.key, {})))
            url = share_url(run.config.mirror.base_url, head.key)
            run.languages[page.path] = view.site.language
            plan(view, head.key, page, Job(qr_path(head.key), qr_inputs(url)), url)
            for variant in run.variants:
                # Its own inputs: an unchanged article's copy is not converted again.
                copy = Job(
                    in_tree(variant.folder, page.path), sha1_hex(page.inputs + variant.fingerprint(view.site.id))
                )
                copy_url = share_url(url_of(run.config.mirror.base_url, variant.folder), head.key)
                copy_qr = Job(in_tree(variant.folder, qr_path(head.key)), qr_inputs(copy_url))
                plan(view, head.key, copy, copy_qr, copy_url, variant)
    return pages, codes


def write_images(run: BuildRun, views: list[ChannelView], images: dict[ArticleKey, dict[str, str]]) -> None:
    """The image files the kept pages show; named by their content, so a name is its bytes."""
    sources: dict[str, str] = {}  # image file → a URL to read its bytes by
    for view in views:
        for head in view.heads:
            for url, name in images.get(head.key, {}).items():
                sources.setdefault(image_path(name), url)
    run.wanted.update(sources)
    for done, (path, url) in enumerate(sorted(sources.items()), start=1):
        job = Job(path, path)
        if not run.stale(job):
            continue
        data = run.store.image_data(url)
        if data is not None:  # None: forgotten since the list was read
            run.put(job, data, f"image {url}")
        run.report("images", done, len(sources))


def write_articles(
    run: BuildRun,
    pages: list[PageJob],
    codes: list[tuple[Job, str]],
    images: dict[ArticleKey, dict[str, str]],
) -> None:
    """Article pages and their QR codes, made and written in worker processes on a build of many
    (``article_work``); this process reads the articles and keeps the manifest."""
    jobs = {job.path: job for job in [*(item[2] for item in pages), *(job for job, _url in codes)]}
    done = {"pages": 0, "qr codes": 0}
    with Makers(len(jobs)) as makers:
        for batch, made in makers.run(_batches(run, pages, codes, images)):
            for one in made:
                if one.error:
                    run.result.errors.append(one.error)
                else:
                    run.count(jobs[one.path], one.written, one.stat, one.digest, one.sha256)
            for stage, given, total in (("pages", batch.pages, pages), ("qr codes", batch.codes, codes)):
                if given:
                    done[stage] += len(given)
                    run.report(stage, done[stage], len(total))
    for stage, total in (("pages", pages), ("qr codes", codes)):
        if total and done[stage] < len(total):  # the pages of articles deleted since the heads were read
            run.report(stage, len(total), len(total))


def _batches(
    run: BuildRun, pages: list[PageJob], codes: list[tuple[Job, str]], images: dict[ArticleKey, dict[str, str]]
) -> Iterator[Batch]:
    """The pages, then the QR codes, in batches; each page with its article, read from the store as it is
    handed out."""

    def batch() -> Batch:
        return Batch(str(run.tree.root), run.config.mirror, run.fingerprint)

    channels: dict[int, ChannelView] = {}  # each channel without its articles: all a page needs of it
    article: Article | None = None
    current = batch()
    for view, key, job, variant in pages:
        if article is None or article.key != key:  # a page and its copies follow each other
            article = run.store.article(key)
        if article is None:  # deleted since the heads were read
            continue
        channel = channels.setdefault(id(view), ChannelView(view.site, view.channel))
        current.pages.append(
            PageTask(
                job.path,
                article,
                channel,
                images.get(key, {}),
                run.twins(page_path(key), variant),
                variant.folder if variant else "",
                variant.conversion(view.site.id) if variant else "",
            )
        )
        if len(current.pages) == PAGES_PER_BATCH:
            yield current
            current = batch()
    for job, url in codes:
        current.codes.append((job.path, url))
        if len(current.codes) == CODES_PER_BATCH:
            yield current
            current = batch()
    if current.pages or current.codes:
        yield current


def put_page(run: BuildRun, item: PageJob, render: Callable[[], str]) -> None:
    """Write a page of an article (converted for the copy it belongs to). A bug meeting one stored
    article costs that page, not the build: its previous page stays, and the next build tries again."""
    view, key, job, variant = item
    try:
        page = render()
        if variant:
            page = convert_markdown(page, variant.conversion(view.site.id))
    except Exception as exc:
        log.debug("page %s", job.path, exc_info=exc)
        run.result.errors.append(
            f"article {article_label(key)}: cannot render {job.path}: {unexpected(exc)}; "
            "its previous page is kept and the next build tries again"
        )
    else:
        run.put(job, page.encode(), f"article {article_label(key)}")


def write_histories(run: BuildRun) -> None:
    """The history page of every article whose text changed: its revisions, as diffs (and its copies'
    in the other script)."""
    article: Article | None = None
    revisions: list[Revision] = []
    for done, item in enumerate(run.histories, start=1):
        view, key, _job, variant = item
        if article is None or article.key != key:  # a page and its copies follow each other
            article, revisions = run.store.article(key), run.store.revisions(key)
        if article is not None:
            language, tree = site_language(view.site), variant.folder if variant else ""
            put_page(
                run, item, partial(render_history, article, revisions, language, fingerprint=run.fingerprint, tree=tree)
            )
        if done % 100 == 0 or done == len(run.histories):
            run.report("history pages", done, len(run.histories))


def weigh_pages(run: BuildRun, views: list[ChannelView], images: dict[ArticleKey, dict[str, str]]) -> None:
    """The largest article page and how many are over budget, from the sizes of the files written."""
    files = run.files

    def size(path: str) -> int:
        stat = files.get(path)
        return stat.st_size if stat else 0

    budget = run.config.mirror.page_budget
    html = run.config.mirror.html
    heaviest = -1
    for view in views:
        for head in view.heads:
            path = page_path(head.key)
            shown = images.get(head.key)
            extra = size(qr_path(head.key)) + (sum(size(image_path(n)) for n in set(shown.values())) if shown else 0)
            markdown, page_html = size(path), size(html_path(path)) if html else 0
            total = PageWeight.weigh(markdown, page_html, extra)  # no PageWeight for each page: only the heaviest
            if total > budget:
                run.result.over_budget += 1
            if total > heaviest:  # the first of the heaviest
                heaviest = total
                run.result.largest = PageWeight(path, markdown, page_html, extra)

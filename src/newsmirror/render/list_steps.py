"""The build's list steps: indexes, most read, home, the feed (for the copies too), and the offline bundles."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from newsmirror import layout
from newsmirror.config import parse_duration
from newsmirror.layout import (
    FEED,
    HEALTH,
    HOME,
    HOT,
    OFFLINE_DIR,
    in_tree,
    link,
)
from newsmirror.models import sha1_hex
from newsmirror.render.archive import deleted_entries, render_deleted
from newsmirror.render.build_run import BuildRun, Job
from newsmirror.render.channels import ChannelView
from newsmirror.render.feed import render_feed
from newsmirror.render.health import render_health
from newsmirror.render.home import render_home
from newsmirror.render.hot import HotEntry, hot_entries, hot_since, render_hot
from newsmirror.render.indexes import index_inputs, index_paths, render_indexes
from newsmirror.render.templating import code_fingerprint
from newsmirror.render.variants import Variant, convert_markdown, convert_text

if TYPE_CHECKING:  # the bundle package is imported only when mirror.bundles asks for it (libzim, ebooklib)
    from newsmirror.bundle.content import OfflineMirror


def write_lists(run: BuildRun, views: list[ChannelView], now: datetime | None) -> dict[str, str]:
    """Indexes, most read, home and the feed, written only when they differ. A channel's index is made
    again when what it shows changed (or its file did); the others are small, so rendered every time.
    Returns the Markdown ones made by path."""
    mirror = run.config.mirror
    rendered: dict[str, str] = {}
    made_from: dict[str, str] = {}  # index page → its inputs
    settings = _index_settings(run)
    for view in views:
        inputs = index_inputs(view, settings)
        jobs = [Job(path, inputs) for path in index_paths(view, mirror)]
        made_from.update((job.path, inputs) for job in jobs)
        run.languages.update((job.path, view.site.language) for job in jobs)
        if all(run.current(job) for job in jobs):
            for job in jobs:
                digest = run.manifest[job.path].digest
                run.stamps[job.path] = digest[:8]
                run.sources[job.path] = digest  # its HTML twin is made from the file (site_steps)
                run.wanted.add(job.path)
            run.result.unchanged += len(jobs)
            continue
        rendered.update(render_indexes(view, mirror, run.twins, fingerprint=run.fingerprint))
    newest = max((h.fetched for v in views for h in v.heads), default=None)
    reference = now or newest
    hot = []
    if reference:
        hot = hot_entries(run.store, hot_since(reference.date(), mirror.hot_window_days), mirror.hot_size, views)
    rendered[HOT] = render_hot(hot, mirror, run.twins(HOT), fingerprint=run.fingerprint)
    rendered[layout.DELETED] = render_deleted(deleted_entries(views), mirror, fingerprint=run.fingerprint)
    if mirror.health_page:
        rendered[HEALTH] = render_health(run.config, run.store, newest, fingerprint=run.fingerprint)
    run.stamps.update({path: sha1_hex(text)[:8] for path, text in rendered.items()})
    rendered[HOME] = render_home(
        run.config,
        views,
        hot,
        run.stamps,
        newest,
        twins=run.twins(HOME),
        offline=[(path, size) for path, size in run.offline if run.variant_of(path) is None],
        fingerprint=run.fingerprint,
    )
    for variant in run.variants:
        rendered.update(variant_lists(run, variant, views, hot, newest))
    run.wanted.update(rendered)
    for done, (path, text) in enumerate(sorted(rendered.items()), start=1):
        run.put(Job(path, made_from.get(path, "")), text.encode())
        run.report("indexes", done, len(rendered))
    run.put(Job(FEED, ""), render_feed(run.store, views, mirror).encode())
    for path in [*rendered, FEED]:
        if path not in made_from:
            run.recorded.pop(path, None)  # always re-rendered: no need to remember them
    return rendered


def _index_settings(run: BuildRun) -> str:
    """Everything besides the channel and its articles that shapes its index pages."""
    mirror = run.config.mirror
    links = [(m.name, m.url) for m in mirror.mirrors]
    langs = [v.lang for v in run.variants]  # which twins a page links
    return repr((code_fingerprint(), mirror.index_size, links, run.fingerprint, langs))


def variant_lists(
    run: BuildRun, variant: Variant, views: list[ChannelView], hot: list[HotEntry], newest: datetime | None
) -> dict[str, str]:
    """The indexes, most read and home of a copy in the other script, by their path in the tree.
    Titles are converted as their site's pages are (regional words), the rest as the copy's lists are."""
    mirror = run.config.mirror

    def title(text: str, site: str) -> str:
        return convert_text(text, variant.conversion(site))

    views = [
        ChannelView(v.site, v.channel, [replace(h, title=title(h.title, v.site.id)) for h in v.heads]) for v in views
    ]
    hot = [replace(e, title=title(e.title, e.key.site)) for e in hot]
    lists: dict[str, str] = {}
    for view in views:
        lists.update(
            render_indexes(
                view, mirror, lambda path: run.twins(path, variant), fingerprint=run.fingerprint, tree=variant.folder
            )
        )
    lists[HOT] = render_hot(hot, mirror, run.twins(HOT, variant), fingerprint=run.fingerprint, tree=variant.folder)
    lists[layout.DELETED] = render_deleted(
        deleted_entries(views), mirror, fingerprint=run.fingerprint, tree=variant.folder
    )
    prefix = f"{variant.folder}/"
    stamps = {p.removeprefix(prefix): s for p, s in run.stamps.items() if p.startswith(prefix)}
    stamps.update({path: sha1_hex(text)[:8] for path, text in lists.items()})
    lists[HOME] = render_home(
        run.config,
        views,
        hot,
        stamps,
        newest,
        twins=run.twins(HOME, variant),
        top=link(in_tree(variant.folder, HOME), HOME).removesuffix(HOME),
        offline=[(path.removeprefix(prefix), size) for path, size in run.offline if path.startswith(prefix)],
        fingerprint=run.fingerprint,
    )
    return {in_tree(variant.folder, path): convert_markdown(text, variant.default) for path, text in lists.items()}


def write_bundles(run: BuildRun, views: list[ChannelView]) -> None:
    """offline/: the latest ZIM and EPUB bundles (mirror.bundles), each replacing the last one, and a copy
    in the other script's offline/ folder (zh-hant/offline/…) for each of mirror.variants; made again only
    when what they hold changed (they take seconds, not milliseconds)."""
    from newsmirror.bundle import offline_mirror

    mirror = run.config.mirror
    newest = max((h.fetched for v in views for h in v.heads), default=None)
    since = newest - parse_duration(mirror.bundle_since) if newest and mirror.bundle_since else None
    for variant in [None, *run.variants]:
        copy = offline_mirror(run.config, run.store, since, variant)
        _write_bundles(run, copy, in_tree(variant.folder, OFFLINE_DIR) if variant else OFFLINE_DIR)


def _write_bundles(run: BuildRun, copy: OfflineMirror, folder: str) -> None:
    from newsmirror.bundle import bundle_files, bundle_fingerprint, bundle_names

    formats = run.config.mirror.bundles
    inputs = sha1_hex(bundle_fingerprint() + copy.fingerprint())
    jobs = [Job(f"{folder}/{name}", inputs) for name in bundle_names(copy, formats)]
    run.wanted.update(job.path for job in jobs)
    made = [job for job in jobs if (entry := run.manifest.get(job.path)) and entry.inputs == inputs]
    if len(made) == len(jobs) and all(run.current(job) for job in jobs):
        run.result.unchanged += len(jobs)
    else:
        run.report("bundles", 0, len(jobs))
        for done, (name, data) in enumerate(bundle_files(copy, formats), start=1):
            run.put(Job(f"{folder}/{name}", inputs), data, f"offline copy {folder}/{name}")
            run.report("bundles", done, len(jobs))
    for job in jobs:
        stat = run.files.get(job.path)
        if stat:
            run.offline.append((job.path, stat.st_size))

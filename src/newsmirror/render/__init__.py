"""render: the store into the output tree — pages, QR codes, channel indexes, most read, home.

    from newsmirror.render import build
    result = build(config, store)

The build is deterministic (same store and config → same bytes) and
incremental: a manifest in the store records, for each page and QR code, the
fingerprint of its inputs and the size, mtime and SHA-1 of the file written. An
unchanged article is skipped without reading or rendering it; a file deleted or
edited by hand is noticed and written again; a fresh checkout (new mtimes, same
bytes) costs a hash of each file, not a re-render. Indexes, most read and home
are rendered every time and compared with the file on disk. A file is only
written when its bytes change, atomically.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from newsmirror import layout
from newsmirror.config import Config, parse_duration
from newsmirror.errors import BuildError
from newsmirror.layout import (
    FEED,
    HEALTH,
    HOME,
    HOT,
    OFFLINE_DIR,
    PAGES_DIR,
    SEARCH_DIR,
    SEARCH_PAGE,
    article_label,
    html_path,
    image_path,
    in_tree,
    link,
    page_path,
    qr_path,
    share_url,
)
from newsmirror.layout import url as url_of
from newsmirror.models import Article, ArticleKey, sha1_hex
from newsmirror.private import check_layout
from newsmirror.render.archive import deleted_entries, history_inputs, render_deleted, render_history, site_language
from newsmirror.render.channels import ChannelView, kept_channels
from newsmirror.render.feed import render_feed
from newsmirror.render.files import OutputTree, UnsafePathError
from newsmirror.render.health import render_health
from newsmirror.render.home import render_home
from newsmirror.render.hot import HotEntry, hot_entries, hot_since, render_hot
from newsmirror.render.html_site import to_html
from newsmirror.render.image_copies import stored_image_files
from newsmirror.render.indexes import render_indexes
from newsmirror.render.manifest import TreeHashes, manifest_text
from newsmirror.render.pages import page_inputs, render_page, settings_fingerprint
from newsmirror.render.qr import QrDrawer, qr_inputs
from newsmirror.render.search import SearchIndexError, index_pages, render_search_page
from newsmirror.render.templating import code_fingerprint
from newsmirror.render.variants import Variant, convert_markdown, convert_text, variants
from newsmirror.signing import SigningError, SigningKey, load_key
from newsmirror.store import BuiltFile, Store, StoreError

__all__ = ["BuildError", "BuildResult", "Progress", "build"]

# progress(stage, done, total): stage is "images", "pages", "qr codes", "indexes" or "html".
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class PageWeight:
    """What a reader downloads for one article page: its Markdown or its HTML, with its images and QR code."""

    path: str
    markdown: int
    html: int
    images: int

    @property
    def total(self) -> int:
        return max(self.markdown, self.html) + self.images


@dataclass(slots=True)
class BuildResult:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    largest: PageWeight | None = None  # the heaviest article page of the tree
    over_budget: int = 0  # article pages heavier than mirror.page_budget
    manifest_seconds: float = 0.0  # the time SHA256SUMS took (bench/build.py reports it)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return f"{len(self.written)} written, {len(self.removed)} removed, {self.unchanged} unchanged"

    def weight(self, budget: int) -> str:
        """The page-weight line ``newsmirror build`` ends with."""
        if self.largest is None:
            return "no article pages"
        page = self.largest
        html = f", HTML {page.html:,}" if page.html else ""
        return (
            f"largest article page: {page.path}, {page.total:,} bytes with its images "
            f"(Markdown {page.markdown:,}{html}, images {page.images:,}); "
            f"{self.over_budget:,} over the {budget // 1024:,} KB page budget (mirror.page_budget)"
        )


# An article page to render: its channel, its key, the file, and the copy it belongs to (None: the mirror).
_PageJob = tuple["ChannelView", ArticleKey, "_Job", "Variant | None"]


@dataclass(slots=True)
class _Job:
    """One managed file the build decided it must produce (and may find already current)."""

    path: str
    inputs: str


def build(
    config: Config, store: Store, *, now: datetime | None = None, progress: Progress | None = None
) -> BuildResult:
    """Bring the output tree in line with the store and config.

    ``now`` sets the end of the most-read window; without it the window ends on
    the day the newest kept article was fetched, so the same store always
    builds the same bytes.
    """
    check_layout(config)  # never write the mirror where its private files are
    try:
        tree = OutputTree(config.output_dir)
    except UnsafePathError as exc:
        raise BuildError(str(exc)) from None
    signer = _signing_key(config)
    run = _Build(config, store, tree, progress, signer)
    if signer is None:
        run.result.warnings.append(
            f"{config.signing_key_path}: no signing key, so SHA256SUMS is not signed; "
            "run 'newsmirror keygen' to make one"
        )
    views = kept_channels(config, store, run.result.errors)
    images = stored_image_files(store, run.result.errors) if config.mirror.images == "copy" else {}
    pages, codes = run.plan_articles(views, images)
    run.write_images(views, images)
    run.write_articles(pages, codes, images)
    run.write_histories()
    if config.mirror.bundles:
        run.write_bundles(views)
    lists = run.write_lists(views, now)
    if config.mirror.html:
        run.write_html(lists)
        if config.mirror.search:
            run.write_search(views)
    run.remove_unwanted()
    run.write_sums()
    run.save_manifest()
    run.weigh_pages(views, images)
    return run.result


class _Build:
    """One build: what it wants in the tree, what it wrote, and its manifest."""

    def __init__(
        self, config: Config, store: Store, tree: OutputTree, progress: Progress | None, signer: SigningKey | None
    ) -> None:
        self.config = config
        self.signer = signer
        # Every page shows the key's short fingerprint, so readers can compare it across mirrors.
        self.fingerprint = signer.public.short_fingerprint if signer else ""
        self.histories: list[tuple[ChannelView, ArticleKey, _Job]] = []  # history pages to write
        self.store = store
        self.tree = tree
        self.report = progress or (lambda stage, done, total: None)
        self.result = BuildResult()
        self.manifest = store.build_manifest(str(tree.root))
        self.recorded: dict[str, BuiltFile] = {}  # manifest entries to save
        # every file the tree should hold
        self.wanted: set[str] = {HOME, HOT, FEED, layout.DELETED, layout.SUMS}
        if signer:
            self.wanted.update((layout.SUMS_SIG, layout.SUMS_PUB))
        self.stamps: dict[str, str] = {}  # page → cache-busting stamp, for the home page's links
        self.sources: dict[str, str] = {}  # Markdown file → fingerprint of what it is made from
        self.languages: dict[str, str] = {}  # a site's Markdown files → its language (others: the mirror's)
        self.variants = variants(config)  # the copies in the other script
        self.offline: list[tuple[str, int]] = []  # offline/ bundles and their sizes, for the home page

    def twins(self, path: str, variant: Variant | None = None) -> list[tuple[str, str]]:
        """Links from ``path`` (of the mirror, or of ``variant``'s copy) to the same page in the other scripts."""
        if variant is None:
            return [(v.label, link(path, in_tree(v.folder, path))) for v in self.variants]
        return [(variant.back_label, link(in_tree(variant.folder, path), path))]

    def current(self, job: _Job) -> bool:
        """Is the file there, made from these inputs, and untouched since?"""
        entry, stat = self.manifest.get(job.path), self.tree.stat(job.path)
        if not (entry and stat and entry.inputs == job.inputs and entry.size == stat.st_size):
            return False
        if entry.mtime_ns == stat.st_mtime_ns:
            return True
        # A fresh checkout gives every file a new mtime: its bytes tell whether it is still ours.
        if _sha1(self.tree.read(job.path) or b"") != entry.digest:
            return False
        self.recorded[job.path] = BuiltFile(job.inputs, stat.st_size, stat.st_mtime_ns, entry.digest)
        return True

    def put(self, job: _Job, data: bytes, what: str = "") -> None:
        """Write a file if its bytes changed; a failure is one error line naming ``what`` it is of."""
        try:
            written = self.tree.write(job.path, data)
        except OSError as exc:
            self.result.errors.append(f"{what + ': ' if what else ''}cannot write {job.path}: {exc}")
            return
        if written:
            self.result.written.append(job.path)
        else:
            self.result.unchanged += 1
        stat = self.tree.stat(job.path)
        if stat:
            self.recorded[job.path] = BuiltFile(job.inputs, stat.st_size, stat.st_mtime_ns, _sha1(data))

    def plan_articles(
        self, views: list[ChannelView], images: dict[ArticleKey, dict[str, str]]
    ) -> tuple[list[_PageJob], list[tuple[_Job, str]]]:
        """The pages and QR codes to draw (the copies' in the other script too): only those whose inputs
        changed, or whose file did."""
        langs = repr([v.lang for v in self.variants])  # which twins a page links
        settings = sha1_hex(settings_fingerprint(self.config.mirror, code_fingerprint() + self.fingerprint) + langs)
        pages: list[_PageJob] = []
        codes: list[tuple[_Job, str]] = []
        for view in views:
            language = site_language(view.site)
            for head in view.heads:
                if head.updated:
                    history = _Job(layout.history_path(head.key), history_inputs(settings, head, language))
                    self.wanted.add(history.path)
                    self.sources[history.path] = history.inputs
                    self.languages[history.path] = language
                    if self.current(history):
                        self.result.unchanged += 1
                    else:
                        self.histories.append((view, head.key, history))
                page = _Job(page_path(head.key), page_inputs(settings, view, head, images.get(head.key, {})))
                url = share_url(self.config.mirror.base_url, head.key)
                qr = _Job(qr_path(head.key), qr_inputs(url))
                self.wanted.update((page.path, qr.path))
                self.stamps[page.path] = page.inputs[:8]
                self.sources[page.path] = page.inputs
                self.languages[page.path] = view.site.language
                if self.current(page):
                    self.result.unchanged += 1
                else:
                    pages.append((view, head.key, page, None))
                if self.current(qr):
                    self.result.unchanged += 1
                else:
                    codes.append((qr, url))
                for variant in self.variants:
                    # Its own inputs: an unchanged article's copy is not converted again.
                    copy = _Job(
                        in_tree(variant.folder, page.path), sha1_hex(page.inputs + variant.fingerprint(view.site.id))
                    )
                    copy_url = share_url(url_of(self.config.mirror.base_url, variant.folder), head.key)
                    copy_qr = _Job(in_tree(variant.folder, qr.path), qr_inputs(copy_url))
                    self.wanted.update((copy.path, copy_qr.path))
                    self.stamps[copy.path] = copy.inputs[:8]
                    self.sources[copy.path] = copy.inputs
                    if self.current(copy):
                        self.result.unchanged += 1
                    else:
                        pages.append((view, head.key, copy, variant))
                    if self.current(copy_qr):
                        self.result.unchanged += 1
                    else:
                        codes.append((copy_qr, copy_url))
        return pages, codes

    def write_images(self, views: list[ChannelView], images: dict[ArticleKey, dict[str, str]]) -> None:
        """The image files the kept pages show; named by their content, so a name is its bytes."""
        sources: dict[str, str] = {}  # image file → a URL to read its bytes by
        for view in views:
            for head in view.heads:
                for url, name in images.get(head.key, {}).items():
                    sources.setdefault(image_path(name), url)
        self.wanted.update(sources)
        for done, (path, url) in enumerate(sorted(sources.items()), start=1):
            job = _Job(path, path)
            if self.current(job):
                self.result.unchanged += 1
                continue
            data = self.store.image_data(url)
            if data is not None:  # None: forgotten since the list was read
                self.put(job, data, f"image {url}")
            self.report("images", done, len(sources))

    def write_articles(
        self,
        pages: list[_PageJob],
        codes: list[tuple[_Job, str]],
        images: dict[ArticleKey, dict[str, str]],
    ) -> None:
        """Article pages, rendered here while other processes draw the QR codes."""
        with QrDrawer() as drawer:
            drawer.start([url for _, url in codes])
            article: Article | None = None
            for done, (view, key, job, variant) in enumerate(pages, start=1):
                if article is None or article.key != key:  # a page and its copies follow each other
                    article = self.store.article(key)
                if article is not None:  # None: deleted since the heads were read
                    page = render_page(
                        article,
                        view,
                        self.config.mirror,
                        images.get(key, {}),
                        twins=self.twins(page_path(key), variant),
                        tree=variant.folder if variant else "",
                        fingerprint=self.fingerprint,
                    )
                    if variant:
                        page = convert_markdown(page, variant.conversion(view.site.id))
                    self.put(job, page.encode(), f"article {article_label(key)}")
                if done % 100 == 0 or done == len(pages):
                    self.report("pages", done, len(pages))
            drawn = 0

            def qr_progress(count: int) -> None:
                nonlocal drawn
                drawn += count
                self.report("qr codes", drawn, len(codes))

            for (job, _url), png in zip(codes, drawer.results(qr_progress), strict=True):
                self.put(job, png)

    def write_lists(self, views: list[ChannelView], now: datetime | None) -> dict[str, str]:
        """Indexes, most read, home and the feed: small, so rendered every time and
        written only when they differ. Returns the Markdown ones by path."""
        mirror = self.config.mirror
        rendered: dict[str, str] = {}
        for view in views:
            indexes = render_indexes(view, mirror, self.twins)
            rendered.update(indexes)
            self.languages.update(dict.fromkeys(indexes, view.site.language))
        newest = max((h.fetched for v in views for h in v.heads), default=None)
        reference = now or newest
        hot = []
        if reference:
            hot = hot_entries(self.store, hot_since(reference.date(), mirror.hot_window_days), mirror.hot_size, views)
        rendered[HOT] = render_hot(hot, mirror, self.twins(HOT))
        rendered[layout.DELETED] = render_deleted(deleted_entries(views), mirror)
        if mirror.health_page:
            rendered[HEALTH] = render_health(self.config, self.store, newest)
        self.stamps.update({path: sha1_hex(text)[:8] for path, text in rendered.items()})
        rendered[HOME] = render_home(
            self.config,
            views,
            hot,
            self.stamps,
            newest,
            twins=self.twins(HOME),
            offline=self.offline,
            fingerprint=self.fingerprint,
        )
        for variant in self.variants:
            rendered.update(self.variant_lists(variant, views, hot, newest))
        self.wanted.update(rendered)
        for done, (path, text) in enumerate(sorted(rendered.items()), start=1):
            self.put(_Job(path, ""), text.encode())
            self.report("indexes", done, len(rendered))
        self.put(_Job(FEED, ""), render_feed(self.store, views, mirror).encode())
        for path in [*rendered, FEED]:
            self.recorded.pop(path, None)  # always re-rendered: no need to remember them
        return rendered

    def write_bundles(self, views: list[ChannelView]) -> None:
        """offline/: the latest ZIM and EPUB bundles (mirror.bundles), each replacing the last one; made
        again only when what they hold changed (they take seconds, not milliseconds)."""
        from newsmirror.bundle import bundle_files, bundle_fingerprint, bundle_names, offline_mirror

        mirror = self.config.mirror
        newest = max((h.fetched for v in views for h in v.heads), default=None)
        since = newest - parse_duration(mirror.bundle_since) if newest and mirror.bundle_since else None
        copy = offline_mirror(self.config, self.store, since)
        inputs = sha1_hex(bundle_fingerprint() + copy.fingerprint())
        jobs = [_Job(f"{OFFLINE_DIR}/{name}", inputs) for name in bundle_names(copy, mirror.bundles)]
        self.wanted.update(job.path for job in jobs)
        made = [job for job in jobs if (entry := self.manifest.get(job.path)) and entry.inputs == inputs]
        if len(made) == len(jobs) and all(self.current(job) for job in jobs):
            self.result.unchanged += len(jobs)
        else:
            self.report("bundles", 0, len(jobs))
            for done, (name, data) in enumerate(bundle_files(copy, mirror.bundles), start=1):
                self.put(_Job(f"{OFFLINE_DIR}/{name}", inputs), data, f"offline copy {name}")
                self.report("bundles", done, len(jobs))
        for job in jobs:
            stat = self.tree.stat(job.path)
            if stat:
                self.offline.append((job.path, stat.st_size))

    def variant_lists(
        self, variant: Variant, views: list[ChannelView], hot: list[HotEntry], newest: datetime | None
    ) -> dict[str, str]:
        """The indexes, most read and home of a copy in the other script, by their path in the tree.
        Titles are converted as their site's pages are (regional words), the rest as the copy's lists are."""
        mirror = self.config.mirror

        def title(text: str, site: str) -> str:
            return convert_text(text, variant.conversion(site))

        views = [
            ChannelView(v.site, v.channel, [replace(h, title=title(h.title, v.site.id)) for h in v.heads])
            for v in views
        ]
        hot = [replace(e, title=title(e.title, e.key.site)) for e in hot]
        lists: dict[str, str] = {}
        for view in views:
            lists.update(render_indexes(view, mirror, lambda path: self.twins(path, variant)))
        lists[HOT] = render_hot(hot, mirror, self.twins(HOT, variant))
        lists[layout.DELETED] = render_deleted(deleted_entries(views), mirror)
        prefix = f"{variant.folder}/"
        stamps = {p.removeprefix(prefix): s for p, s in self.stamps.items() if p.startswith(prefix)}
        stamps.update({path: sha1_hex(text)[:8] for path, text in lists.items()})
        lists[HOME] = render_home(
            self.config,
            views,
            hot,
            stamps,
            newest,
            twins=self.twins(HOME, variant),
            top=link(in_tree(variant.folder, HOME), HOME).removesuffix(HOME),
            offline=self.offline,
        )
        return {in_tree(variant.folder, path): convert_markdown(text, variant.default) for path, text in lists.items()}

    def variant_of(self, path: str) -> Variant | None:
        return next((v for v in self.variants if path.startswith(f"{v.folder}/")), None)

    def write_html(self, lists: dict[str, str]) -> None:
        """The static HTML site: each Markdown file's HTML sibling, converted again only when its Markdown changed."""
        mirror = self.config.mirror
        settings = sha1_hex(repr((code_fingerprint(), mirror.title, mirror.asset_base_url, mirror.site_url)))
        sizes = self.store.image_sizes() if mirror.images == "copy" else {}
        sources = self.sources | {path: sha1_hex(text) for path, text in lists.items()}
        for done, (path, inputs) in enumerate(sorted(sources.items()), start=1):
            if done % 100 == 0 or done == len(sources):
                self.report("html", done, len(sources))
            variant = self.variant_of(path)
            language = variant.lang if variant else self.languages.get(path, mirror.language)
            job = _Job(html_path(path), sha1_hex(settings + inputs + language))
            self.wanted.add(job.path)
            if self.current(job):
                self.result.unchanged += 1
                continue
            markdown = lists.get(path) or (self.tree.read(path) or b"").decode()
            if markdown:  # empty: its Markdown could not be written, an error is already reported
                home = in_tree(variant.folder, HOME) if variant else HOME
                html = to_html(
                    markdown,
                    path,
                    mirror.title,
                    lang=language,
                    sizes=sizes,
                    asset_base_url=mirror.asset_base_url,
                    site_url=mirror.site_url,
                    search=SEARCH_PAGE if mirror.search and path == home else None,
                )
                self.put(job, html.encode())

    def write_search(self, views: list[ChannelView]) -> None:
        """The search page, and Pagefind's index of the article pages, made again only when one of them changed."""
        mirror = self.config.mirror
        indexes = [(f"{v.site.name} · {v.name}", html_path(v.index_path())) for v in views]
        self.wanted.add(SEARCH_PAGE)
        self.put(_Job(SEARCH_PAGE, ""), render_search_page(mirror.title, indexes).encode())
        for variant in self.variants:
            path = in_tree(variant.folder, SEARCH_PAGE)

            def convert(text: str, variant: Variant = variant) -> str:
                return convert_text(text, variant.default)

            page = render_search_page(mirror.title, indexes, top="../", lang=variant.lang, convert=convert)
            self.wanted.add(path)
            self.put(_Job(path, ""), page.encode())
        pages = sorted((path, inputs) for path, inputs in self.sources.items() if path.startswith(f"{PAGES_DIR}/"))
        inputs = sha1_hex(code_fingerprint() + repr(pages))
        made = [path for path in self.manifest if path.startswith(f"{SEARCH_DIR}/")]
        if made and all(self.manifest[path].inputs == inputs and self.current(_Job(path, inputs)) for path in made):
            self.wanted.update(made)
            self.result.unchanged += len(made)
            return
        self.report("search", 0, 1)
        try:
            files = index_pages(self.tree.root, [PAGES_DIR, *(in_tree(v.folder, PAGES_DIR) for v in self.variants)])
        except SearchIndexError as exc:
            self.wanted.update(made)  # the last index stays until one can be made
            self.result.errors.append(str(exc))
            return
        for path, data in files.items():
            self.wanted.add(path)
            self.put(_Job(path, inputs), data, "search index")
        self.report("search", 1, 1)

    def write_histories(self) -> None:
        """The history page of every article whose text changed: its revisions, as diffs."""
        for done, (view, key, job) in enumerate(self.histories, start=1):
            article = self.store.article(key)
            if article is not None:
                page = render_history(article, self.store.revisions(key), site_language(view.site))
                self.put(job, page.encode(), f"article {article_label(key)}")
            if done % 100 == 0 or done == len(self.histories):
                self.report("history pages", done, len(self.histories))

    def write_sums(self) -> None:
        """SHA256SUMS of every file of the tree, its signature and the key that makes it, last of all."""
        try:
            if self.signer:
                self._write_root(layout.SUMS_PUB, self.signer.public.openssh().encode())
            started = time.perf_counter()
            text = manifest_text(TreeHashes(self.store, self.tree.root).compute())
            self.result.manifest_seconds = time.perf_counter() - started
            self._write_root(layout.SUMS, text.encode())
            if self.signer:
                self._write_root(layout.SUMS_SIG, self.signer.sign(text.encode()).encode())
        except OSError as exc:
            self.result.errors.append(f"cannot write {layout.SUMS}: {exc}")

    def _write_root(self, path: str, data: bytes) -> None:
        if self.tree.write(path, data):
            self.result.written.append(path)
        else:
            self.result.unchanged += 1

    def remove_unwanted(self) -> None:
        """Retention and removed channels: what the build once made and no longer wants goes."""
        made_here = {path for path in self.manifest if "/" not in path}  # index.html: only if the build made it
        for path in sorted((self.tree.existing() | made_here) - self.wanted):
            try:
                self.tree.remove(path)
                self.result.removed.append(path)
            except (OSError, UnsafePathError) as exc:
                self.result.errors.append(f"cannot remove {path}: {exc}")

    def weigh_pages(self, views: list[ChannelView], images: dict[ArticleKey, dict[str, str]]) -> None:
        """The largest article page and how many are over budget, from the sizes of the files written."""
        sizes: dict[str, int] = {}

        def size(path: str) -> int:
            if path not in sizes:
                stat = self.tree.stat(path)
                sizes[path] = stat.st_size if stat else 0
            return sizes[path]

        budget = self.config.mirror.page_budget
        html = self.config.mirror.html
        for view in views:
            for head in view.heads:
                path = page_path(head.key)
                shown = {image_path(name) for name in images.get(head.key, {}).values()}
                weight = PageWeight(
                    path,
                    size(path),
                    size(html_path(path)) if html else 0,
                    sum(size(image) for image in shown) + size(qr_path(head.key)),
                )
                if weight.total > budget:
                    self.result.over_budget += 1
                if self.result.largest is None or weight.total > self.result.largest.total:
                    self.result.largest = weight

    def save_manifest(self) -> None:
        forgotten = [path for path in self.manifest if path not in self.wanted]
        try:
            self.store.update_build_manifest(str(self.tree.root), self.recorded, forgotten)
        except StoreError as exc:  # e.g. a read-only store file: the next build compares bytes instead
            self.result.errors.append(f"{exc} (the build manifest was not recorded)")


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _signing_key(config: Config) -> SigningKey | None:
    """The key that signs SHA256SUMS, or None when there is none yet. One inside the output
    folder is refused: it would be published."""
    path = config.signing_key_path
    if path.is_relative_to(config.output_dir):
        raise BuildError(
            f"mirror.signing_key {path} is inside the output folder {config.output_dir}, so it would be published; "
            "move it outside (e.g. beside the config) and set mirror.signing_key to it"
        )
    if not path.exists():
        return None
    try:
        return load_key(path)
    except SigningError as exc:
        raise BuildError(str(exc)) from None

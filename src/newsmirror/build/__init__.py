"""build: render the store into the output tree — pages, QR codes, channel indexes, most read, home.

    from newsmirror.build import build
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from newsmirror.build.channels import ChannelView, kept_channels
from newsmirror.build.feed import render_feed
from newsmirror.build.files import FEED, HOME, OutputTree, UnsafePathError
from newsmirror.build.home import render_home
from newsmirror.build.hot import HOT_PATH, hot_entries, hot_since, render_hot
from newsmirror.build.html import html_path, to_html
from newsmirror.build.images import image_path, stored_image_files
from newsmirror.build.indexes import render_indexes
from newsmirror.build.markup import code_fingerprint
from newsmirror.build.pages import page_inputs, page_path, qr_path, render_page, settings_fingerprint, share_url
from newsmirror.build.qr import QrDrawer, qr_inputs
from newsmirror.config import Config
from newsmirror.models import ArticleKey, sha1_hex
from newsmirror.store import BuiltFile, Store, StoreError

__all__ = ["BuildError", "BuildResult", "Progress", "build"]

# progress(stage, done, total): stage is "images", "pages", "qr codes", "indexes" or "html".
Progress = Callable[[str, int, int], None]


class BuildError(Exception):
    """The build cannot run at all (e.g. an unsafe output folder); the message is for the user."""


@dataclass(slots=True)
class BuildResult:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return f"{len(self.written)} written, {len(self.removed)} removed, {self.unchanged} unchanged"


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
    try:
        tree = OutputTree(config.output_dir)
    except UnsafePathError as exc:
        raise BuildError(str(exc)) from None
    report = progress or (lambda stage, done, total: None)
    result = BuildResult()
    output_key = str(tree.root)
    manifest = store.build_manifest(output_key)
    recorded: dict[str, BuiltFile] = {}

    views = kept_channels(config, store, result.errors)
    settings = settings_fingerprint(config.mirror, code_fingerprint())
    wanted: set[str] = {HOME, HOT_PATH}

    def current(job: _Job) -> bool:
        """Is the file there, made from these inputs, and untouched since?"""
        entry, stat = manifest.get(job.path), tree.stat(job.path)
        if not (entry and stat and entry.inputs == job.inputs and entry.size == stat.st_size):
            return False
        if entry.mtime_ns == stat.st_mtime_ns:
            return True
        # A fresh checkout gives every file a new mtime: its bytes tell whether it is still ours.
        if _sha1(tree.read(job.path) or b"") != entry.digest:
            return False
        recorded[job.path] = BuiltFile(job.inputs, stat.st_size, stat.st_mtime_ns, entry.digest)
        return True

    def put(job: _Job, data: bytes) -> None:
        if tree.write(job.path, data):
            result.written.append(job.path)
        else:
            result.unchanged += 1
        stat = tree.stat(job.path)
        if stat:
            recorded[job.path] = BuiltFile(job.inputs, stat.st_size, stat.st_mtime_ns, _sha1(data))

    # Pages and QR codes: only those whose inputs changed, or whose file did.
    pending_pages: list[tuple[ChannelView, ArticleKey, _Job]] = []
    pending_qr: list[tuple[_Job, str]] = []
    stamps: dict[str, str] = {}
    # Images copied into the mirror: per article URL → file name; per file, a URL to read its bytes by.
    image_files = stored_image_files(store, result.errors) if config.mirror.images == "copy" else {}
    image_sources: dict[str, str] = {}
    sources: dict[str, str] = {}  # each Markdown file → the fingerprint of what it is made from
    for view in views:
        for head in view.heads:
            images = image_files.get(head.key, {})
            for url, name in images.items():
                image_sources.setdefault(image_path(name), url)
            page = _Job(page_path(head.key), page_inputs(settings, view, head, images))
            url = share_url(config.mirror, head.key)
            qr = _Job(qr_path(head.key), qr_inputs(url))
            wanted.update((page.path, qr.path))
            stamps[page.path] = page.inputs[:8]
            sources[page.path] = page.inputs
            if current(page):
                result.unchanged += 1
            else:
                pending_pages.append((view, head.key, page))
            if current(qr):
                result.unchanged += 1
            else:
                pending_qr.append((qr, url))

    # Image files are named by their content, so a file made from the same name is the same file.
    wanted.update(image_sources)
    for done, (path, url) in enumerate(sorted(image_sources.items()), start=1):
        job = _Job(path, path)
        if current(job):
            result.unchanged += 1
            continue
        data = store.image_data(url)
        if data is None:  # forgotten since the list was read
            continue
        try:
            put(job, data)
        except OSError as exc:
            result.errors.append(f"image {url}: cannot write {path}: {exc}")
        report("images", done, len(image_sources))

    with QrDrawer() as drawer:
        # QR codes are drawn in other processes while this one renders the pages.
        drawer.start([url for _, url in pending_qr])
        for done, (view, key, job) in enumerate(pending_pages, start=1):
            article = store.article(key)
            if article is None:  # deleted since the heads were read
                continue
            try:
                put(job, render_page(article, view, config.mirror, image_files.get(key, {})).encode())
            except OSError as exc:
                result.errors.append(f"article {key.site}/{key.channel}/{key.id}: cannot write {job.path}: {exc}")
            if done % 100 == 0 or done == len(pending_pages):
                report("pages", done, len(pending_pages))
        done = 0

        def qr_progress(count: int) -> None:
            nonlocal done
            done += count
            report("qr codes", done, len(pending_qr))

        for (job, _url), png in zip(pending_qr, drawer.results(qr_progress), strict=True):
            try:
                put(job, png)
            except OSError as exc:
                result.errors.append(f"QR code {job.path}: cannot write: {exc}")

    # Indexes, most read and home are small: rendered every time, written only when they differ.
    rendered: dict[str, str] = {}
    for view in views:
        rendered.update(render_indexes(view, config.mirror))
    newest = max((h.fetched for v in views for h in v.heads), default=None)
    reference = now or newest
    hot = []
    if reference:
        since = hot_since(reference.date(), config.mirror.hot_window_days)
        hot = hot_entries(store, since, config.mirror.hot_size, views)
    rendered[HOT_PATH] = render_hot(hot, config.mirror)
    stamps.update({path: sha1_hex(text)[:8] for path, text in rendered.items()})
    rendered[HOME] = render_home(config, views, hot, stamps, newest)
    wanted.update(rendered)
    for done, (path, text) in enumerate(sorted(rendered.items()), start=1):
        try:
            put(_Job(path, ""), text.encode())
        except OSError as exc:
            result.errors.append(f"cannot write {path}: {exc}")
        report("indexes", done, len(rendered))
    for path in (p for p in rendered if p in recorded):
        del recorded[path]  # always re-rendered: no need to remember them

    # The feed is small: rendered every time, written only when it differs.
    wanted.add(FEED)
    try:
        put(_Job(FEED, ""), render_feed(store, views, config.mirror).encode())
    except OSError as exc:
        result.errors.append(f"cannot write {FEED}: {exc}")
    recorded.pop(FEED, None)

    # The static HTML site: each Markdown file's HTML sibling, converted again only when its Markdown changed.
    if config.mirror.html:
        html_settings = sha1_hex(code_fingerprint() + config.mirror.title)
        sources.update({path: sha1_hex(text) for path, text in rendered.items()})
        for done, (path, inputs) in enumerate(sorted(sources.items()), start=1):
            if done % 100 == 0 or done == len(sources):
                report("html", done, len(sources))
            job = _Job(html_path(path), sha1_hex(html_settings + inputs))
            wanted.add(job.path)
            if current(job):
                result.unchanged += 1
                continue
            markdown = rendered.get(path) or (tree.read(path) or b"").decode()
            if not markdown:  # its Markdown could not be written: an error is already reported
                continue
            try:
                put(job, to_html(markdown, path, config.mirror.title).encode())
            except OSError as exc:
                result.errors.append(f"cannot write {job.path}: {exc}")

    # Retention and removed channels: what the build once made and no longer wants goes.
    made_here = {path for path in manifest if "/" not in path}  # index.html: removed only if the build made it
    for path in sorted((tree.existing() | made_here) - wanted):
        try:
            tree.remove(path)
            result.removed.append(path)
        except (OSError, UnsafePathError) as exc:
            result.errors.append(f"cannot remove {path}: {exc}")
    forgotten = [path for path in manifest if path not in wanted]

    try:
        store.update_build_manifest(output_key, recorded, forgotten)
    except StoreError as exc:  # e.g. a read-only store file: the next build compares bytes instead
        result.errors.append(f"{exc} (the build manifest was not recorded)")
    return result


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()

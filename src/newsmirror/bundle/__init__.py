"""bundle: the mirror as copies that travel without the network — a ZIM file for Kiwix, an EPUB per
channel, a single self-contained HTML file per article.

    from newsmirror.bundle import bundle_files, offline_mirror
    for name, data in bundle_files(offline_mirror(config, store), ["zim", "epub"]):
        ...

Bundles read only the store and the config, like the build. Their bytes follow from the store alone
(fixed timestamps, sorted entries, content-derived ids): the same store gives the same files.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.metadata import version
from pathlib import Path

from newsmirror.bundle.content import OfflineMirror, offline_mirror
from newsmirror.bundle.epub import ChannelBook, epub_name
from newsmirror.bundle.single import single_html, single_name
from newsmirror.bundle.zim import ZimPage, ZimWriter, zim_page
from newsmirror.render.channels import ChannelView
from newsmirror.render.files import write_atomically
from newsmirror.render.templating import code_fingerprint
from newsmirror.store import Store

__all__ = ["FORMATS", "ZIM_NAME", "BundleResult", "bundle_files", "offline_mirror", "write_bundles"]

FORMATS = ("zim", "epub", "html")
# Bundle file names do not carry a date, so each bundle replaces the previous one.
ZIM_NAME = "mirror.zim"
# Single-file pages go in a folder of their own: there is one per article.
HTML_FOLDER = "html"

# progress(format, done, total)
Progress = Callable[[str, int, int], None]


def bundle_names(copy: OfflineMirror, formats: Sequence[str]) -> list[str]:
    """The files ``bundle_files`` makes of ``copy``, known without making them."""
    if not copy.views:
        return []
    names = [ZIM_NAME] if "zim" in formats else []
    names += [epub_name(v) for v in copy.views] if "epub" in formats else []
    names += [f"{HTML_FOLDER}/{single_name(a)}" for a in copy.articles()] if "html" in formats else []
    return names


@cache
def bundle_fingerprint() -> str:
    """This package's code and the libraries that write the bytes: a change makes every bundle again."""
    # The render package's code and templates too: the pages inside the bundles are rendered with them.
    libraries = " ".join(version(name) for name in ("libzim", "zstandard", "ebooklib"))
    digest = hashlib.sha1(f"{libraries} {code_fingerprint()}".encode())
    for path in sorted(Path(__file__).parent.iterdir()):
        if path.suffix in (".py", ".png"):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def bundle_files(
    copy: OfflineMirror, formats: Sequence[str], progress: Progress | None = None
) -> Iterator[tuple[str, bytes]]:
    """(relative file name, bytes) of every bundle of ``copy`` in the given formats, in a fixed order: the
    single files and EPUBs channel by channel, then the ZIM file.

    One pass over the articles: each is read and its body rendered once, for every format; the ZIM file
    is indexed by libzim's worker thread meanwhile. With more than one CPU, a copy of this process
    (``_helper``) does the same for the later channels and hands back their ZIM pages and files, which are
    taken in the same order: the bytes are those one process makes."""
    report = progress or (lambda what, done, total: None)
    if not copy.views:
        return
    total = copy.article_count
    mine, theirs = _shares(copy)
    shares = _helper(copy, theirs, formats) if theirs else []
    zim = ZimWriter(copy) if "zim" in formats else None
    try:
        done = 0
        for view in mine:
            yield from _channel(copy, view, formats, zim.add_page if zim else None)
            done += len(view.heads)
            report("articles", done, total)
        for view, share in zip(theirs, shares, strict=True):
            if zim and not share.done():
                zim.list_pages()  # while the helper is still at work
            pages, files = share.result()
            if zim:
                for page in pages:
                    zim.add_page(page)
            yield from files
            done += len(view.heads)
            report("articles", done, total)
        shares = []
        if zim:
            report("zim", 0, 1)
            data, zim = zim.finish(), None
            yield ZIM_NAME, data
            report("zim", 1, 1)
    finally:
        if zim:
            zim.close()
        for share in shares:
            share.cancel()


def _channel(
    copy: OfflineMirror, view: ChannelView, formats: Sequence[str], zim: Callable[[ZimPage], None] | None
) -> Iterator[tuple[str, bytes]]:
    """One channel's share of every format: its ZIM pages go to ``zim``, its files are yielded."""
    book = ChannelBook(copy, view) if "epub" in formats else None
    for item in copy.articles(view):
        body = copy.body_html(item)
        if zim:
            zim(zim_page(copy, item, body))
        if book:
            book.add(item, body)
        if "html" in formats:
            yield f"{HTML_FOLDER}/{single_name(item)}", single_html(copy, item, body)
    if book:
        yield epub_name(view), book.finish()


# Fewer articles than this are made in one process: a copy of it would cost more than it saves.
HELPER_MIN_ARTICLES = 400


def _shares(copy: OfflineMirror) -> tuple[list[ChannelView], list[ChannelView]]:
    """The channels this process makes, and the later ones a helper process makes: about 30 and 70 % of the
    articles (this process also adds every page to the ZIM file and makes its lists)."""
    views = copy.views
    if (
        copy.article_count < HELPER_MIN_ARTICLES
        or (os.cpu_count() or 1) < 2
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return views, []
    done = 0
    for number, view in enumerate(views):
        if done >= copy.article_count * 0.3:
            return views[:number], views[number:]
        done += len(view.heads)
    return views, []


# What the helper makes of a channel: its ZIM pages and its files.
_Share = tuple[list[ZimPage], list[tuple[str, bytes]]]
# Set before the helper is forked: what it makes its shares of; in the helper, its own store connection.
_HELPER_JOB: tuple[OfflineMirror, Sequence[str]] | None = None
_HELPER_STORE: Store | None = None


def _helper(copy: OfflineMirror, views: list[ChannelView], formats: Sequence[str]) -> list[Future[_Share]]:
    """A forked copy of this process making ``views``' share of the bundles, a channel at a time, each
    handed back as soon as it is made (so libzim indexes it while the next is made). It is forked before
    libzim starts its threads, and inherits the copy as it is: nothing is imported or read twice but the
    articles of its channels, from a connection of its own."""
    global _HELPER_JOB
    _HELPER_JOB = (copy, formats)
    try:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        shares = [pool.submit(_helper_share, number) for number in range(len(copy.views) - len(views), len(copy.views))]
        pool.shutdown(wait=False)  # the process ends once it has handed every share back
    finally:
        _HELPER_JOB = None
    return shares


def _helper_share(number: int) -> _Share:
    """In the helper: the share of the copy's channel ``number``."""
    global _HELPER_STORE
    assert _HELPER_JOB is not None  # set by _helper, before the fork
    copy, formats = _HELPER_JOB
    if _HELPER_STORE is None:
        # The store connection came across the fork: it stays the parent's; this process opens its own.
        _HELPER_STORE = Store(copy.store.path, readonly=True)
    pages: list[ZimPage] = []
    helped = replace(copy, store=_HELPER_STORE)
    files = list(_channel(helped, copy.views[number], formats, pages.append if "zim" in formats else None))
    return pages, files


@dataclass(slots=True)
class BundleResult:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.written)} written, {len(self.unchanged)} unchanged"


def write_bundles(
    copy: OfflineMirror, out: Path, formats: Sequence[str], progress: Progress | None = None
) -> BundleResult:
    """Write the bundles into the folder ``out``; a file is only written when its bytes change, atomically."""
    result = BundleResult()
    for name, data in bundle_files(copy, formats, progress):
        target = out / name
        if _write(target, data):
            result.written.append(target)
        else:
            result.unchanged.append(target)
    return result


def _write(target: Path, data: bytes) -> bool:
    try:
        if target.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, data)
    return True

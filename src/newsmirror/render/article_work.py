"""Article pages and their QR codes, made and written in worker processes on a build of many, here otherwise.

A full build's time goes into making article pages and QR codes and creating their files (a new
file costs the kernel some 100 µs of CPU here), all of it under one GIL. So they are made in
batches, each by one worker process (one per core): it renders or draws each file, writes it
atomically (``OutputTree.write``) and answers what it wrote. The building process reads the
articles from the store, hands them out and keeps the manifest. A batch carries all its files are
made from, so they are the bytes the building process would make itself; a worker that dies leaves
its batch, and the rest, to the building process.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from newsmirror.config import MirrorConfig
from newsmirror.errors import unexpected
from newsmirror.layout import article_label
from newsmirror.models import Article
from newsmirror.processes import start_fork_server, worker_pool
from newsmirror.render.channels import ChannelView
from newsmirror.render.files import OutputTree
from newsmirror.render.pages import render_page
from newsmirror.render.qr import qr_png
from newsmirror.render.variants import convert_markdown

log = logging.getLogger(__name__)

# Below this many files the pool costs more than it saves: its processes take some 0.3 s to start.
POOL_MIN = 200
_MOST_WORKERS = 8
# Files of a batch: enough that handing it out costs little beside making it (about 1 ms a file).
PAGES_PER_BATCH = 50
CODES_PER_BATCH = 100
# Batches handed out and not yet answered, per worker: enough to keep it busy, few enough to bound the
# articles held in memory.
_AHEAD = 4


@dataclass(frozen=True, slots=True)
class PageTask:
    """An article page to make, with everything its Markdown is made from."""

    path: str
    article: Article
    view: ChannelView  # its channel (without the channel's articles)
    images: dict[str, str]  # the images the mirror holds, URL → file name
    twins: list[tuple[str, str]]  # links to the page in the other script
    tree: str = ""  # the folder of the copy in the other script it belongs to; "" for the mirror's own
    conversion: str = ""  # the OpenCC conversion of that copy


@dataclass(slots=True)
class Batch:
    """Files one worker makes: article pages and QR codes (their path and the URL each encodes)."""

    root: str
    mirror: MirrorConfig
    fingerprint: str  # the signing key's short fingerprint, shown on every page
    pages: list[PageTask] = field(default_factory=list)
    codes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Made:
    """One file of a batch: written, or found holding its bytes already (with its stat and the SHA-1 and
    SHA-256 of its bytes), or an error line."""

    path: str
    written: bool = False
    stat: os.stat_result | None = None
    digest: str = ""
    sha256: str = ""  # for SHA256SUMS
    error: str = ""


def make_batch(batch: Batch) -> list[Made]:
    """Make and write every file of ``batch``, in order. A bug meeting one stored article costs that page,
    not the build: its previous page stays, and the next build tries again."""
    tree = OutputTree(Path(batch.root))
    made: list[Made] = []
    for task in batch.pages:
        what = f"article {article_label(task.article.key)}"
        try:
            page = render_page(
                task.article,
                task.view,
                batch.mirror,
                task.images,
                twins=task.twins,
                tree=task.tree,
                fingerprint=batch.fingerprint,
            )
            if task.conversion:
                page = convert_markdown(page, task.conversion)
        except Exception as exc:
            log.debug("page %s", task.path, exc_info=exc)
            error = f"{what}: cannot render {task.path}: {unexpected(exc)}; "
            made.append(Made(task.path, error=error + "its previous page is kept and the next build tries again"))
        else:
            made.append(_write(tree, task.path, page.encode(), what))
    made.extend(_write(tree, path, qr_png(url)) for path, url in batch.codes)
    return made


def _write(tree: OutputTree, path: str, data: bytes, what: str = "") -> Made:
    try:
        written = tree.write(path, data)
    except OSError as exc:
        return Made(path, error=f"{what + ': ' if what else ''}cannot write {path}: {exc}")
    return Made(path, written, tree.stat(path), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest())


def get_ready(files: int) -> None:
    """Start the fork server if a build expects to make some ``files``, so that its workers are ready by
    the time the build has decided what to make."""
    if _pooled(files):
        start_fork_server([__name__])


def _pooled(files: int) -> int:
    """How many worker processes make ``files``: one per core, none below ``POOL_MIN`` or on one core."""
    workers = min(os.cpu_count() or 1, _MOST_WORKERS)
    return workers if files >= POOL_MIN and workers > 1 else 0


class Makers:
    """Makes batches in worker processes (one per core) when there are ``files`` enough, here otherwise;
    answers them in the order they were given."""

    def __init__(self, files: int) -> None:
        workers = _pooled(files)
        # Each worker starts with the renderer (imported by the fork server once).
        self._pool: ProcessPoolExecutor | None = worker_pool(workers, preload=[__name__]) if workers else None
        self._ahead = workers * _AHEAD if self._pool else 1

    def __enter__(self) -> Makers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def run(self, batches: Iterable[Batch]) -> Iterator[tuple[Batch, list[Made]]]:
        pending: deque[tuple[Batch, Future[list[Made]] | None]] = deque()
        for batch in batches:
            pending.append((batch, self._hand_out(batch)))
            while len(pending) >= self._ahead:
                yield self._answer(*pending.popleft())
        while pending:
            yield self._answer(*pending.popleft())

    def _hand_out(self, batch: Batch) -> Future[list[Made]] | None:
        if self._pool is None:
            return None
        try:
            return self._pool.submit(make_batch, batch)
        except BrokenProcessPool:
            self._drop()
            return None

    def _answer(self, batch: Batch, future: Future[list[Made]] | None) -> tuple[Batch, list[Made]]:
        if future is not None:
            try:
                return batch, future.result()
            except BrokenProcessPool:  # a worker died (killed, out of memory): the rest is made here
                self._drop()
        return batch, make_batch(batch)

    def _drop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

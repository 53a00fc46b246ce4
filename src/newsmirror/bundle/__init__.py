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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from pathlib import Path

from newsmirror.bundle.content import OfflineMirror, offline_mirror
from newsmirror.bundle.epub import ChannelBook, epub_name
from newsmirror.bundle.single import single_html, single_name
from newsmirror.bundle.zim import ZimWriter
from newsmirror.render.files import write_atomically
from newsmirror.render.templating import code_fingerprint

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
    is compressed and indexed by libzim's worker thread meanwhile."""
    report = progress or (lambda what, done, total: None)
    if not copy.views:
        return
    total = copy.article_count
    zim = ZimWriter(copy) if "zim" in formats else None
    try:
        done = 0
        for view in copy.views:
            book = ChannelBook(copy, view) if "epub" in formats else None
            for item in copy.articles(view):
                body = copy.body_html(item)
                if zim:
                    zim.add_article(item, body)
                if book:
                    book.add(item, body)
                if "html" in formats:
                    yield f"{HTML_FOLDER}/{single_name(item)}", single_html(copy, item, body)
                done += 1
                if done % 100 == 0 or done == total:
                    report("articles", done, total)
            if book:
                yield epub_name(view), book.finish()
        if zim:
            report("zim", 0, 1)
            data, zim = zim.finish(), None
            yield ZIM_NAME, data
            report("zim", 1, 1)
    finally:
        if zim:
            zim.close()


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

"""The mirror as one ZIM file (python-libzim), which Kiwix opens as it is: articles, indexes, images,
the home page as main page, the mirror's title, language and favicon, and the full-text search index
Kiwix builds in (Xapian, with Chinese word splitting).

Entries sit at the paths the HTML site uses (``index.html``, ``indexes/…``, ``pages/…``, ``images/…``),
so every relative link between them works inside Kiwix as on the site.

libzim stamps each file with random UUIDs (the archive's, and one per Xapian index it embeds); they are
replaced by ones derived from the content and the checksum recomputed, so the same store gives the same
bytes and a publish of an unchanged mirror commits nothing.

libzim compresses with zstd at level 19 on its one worker thread, and does not let the level be chosen:
over 2,000 bench pages that is 1.5 s of CPU, against 0.07 s at level 15 for a text part 5 % larger
(0.2 % of the file, whose Xapian index stays as it is). So libzim writes its clusters uncompressed, and
``_compressed`` compresses the text clusters afterwards, at ``ZSTD_LEVEL``, as libzim would have marked
them; the rest of the file moves up by what they shrank.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import struct
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import zstandard
from libzim.writer import Compression, Creator, Hint, Item, StringProvider

from newsmirror import layout
from newsmirror.bundle.content import IMAGE_TYPES, OfflineArticle, OfflineMirror, image_refs
from newsmirror.layout import HOME, html_path, image_path, page_path
from newsmirror.render.html_site import stylesheet, to_html, wrap_page

# Every article page links one stylesheet instead of holding it: less for libzim to compress.
STYLESHEET = "style.css"
# ISO 639-3, as ZIM metadata wants it: the mirror is for Chinese readers.
LANGUAGE = "zho"
# What ZIM readers show in a list of books: short, or they cut it.
_TITLE_MAX = 30
_DESCRIPTION_MAX = 80
# Header fields (ZIM format 6): the archive's UUID, and where the MD5 checksum is.
_UUID_AT, _UUID_LEN = 8, 16
_CHECKSUM_POS_AT = 72
# Clusters of 512 KiB instead of libzim's 2 MiB: zstd at libzim's level 19 searches each cluster for
# matches. Over 2,000 bench pages (two runs, CPU time): 2.8-3.5 s at 512 KiB, 3.6-4.0 s at 1 MiB,
# 4.1-4.3 s at 2 MiB, 4.2-5.2 s at 128 KiB, for a file 1 % larger than at 2 MiB. A reader opening one
# article also unpacks less.
_CLUSTER_SIZE = 512 * 1024
# A Xapian "glass" database begins with this magic and a 2-byte format version, then its 16-byte UUID.
_XAPIAN_MAGIC = re.compile(rb"\x0f\rXapian Glass..", re.DOTALL)
# zstd's level for the text clusters. Over 2,000 bench pages' clusters (5.9 MB), CPU time and bytes:
# level 19 (libzim's) 1.50 s, 63.6 kB; 17: 0.48 s, 64.2 kB; 15: 0.07 s, 66.9 kB; 12: 0.02 s, 67.3 kB.
ZSTD_LEVEL = 15
# A cluster's first byte: its compression (1 none, 5 zstd), and 0x10 when its offsets take 8 bytes.
_NONE, _ZSTD, _EXTENDED = 1, 5, 0x10
_MIMETYPE_REDIRECT = 0xFFFF


class _Entry(Item):
    def __init__(self, path: str, title: str, mimetype: str, content: bytes | str, front: bool) -> None:
        super().__init__()
        self._path, self._title, self._mimetype = path, title, mimetype
        self._content = content
        self._front = front

    def get_path(self) -> str:
        return self._path

    def get_title(self) -> str:
        return self._title

    def get_mimetype(self) -> str:
        return self._mimetype

    def get_contentprovider(self) -> StringProvider:
        return StringProvider(self._content)

    def get_hints(self) -> dict[Hint, int]:
        # Images are compressed already; front articles are what Kiwix lists and searches first.
        return {Hint.FRONT_ARTICLE: self._front, Hint.COMPRESS: self._mimetype.startswith("text/")}


# An article's page in the file: its path, title and bytes.
ZimPage = tuple[str, str, bytes]


def zim_page(copy: OfflineMirror, item: OfflineArticle, body: str) -> ZimPage:
    """The article (``body``: its ``body_html``) as a page of the ZIM file, at its place in the tree."""
    path = page_path(item.key)
    root = layout.root(path)
    fragment = image_refs(copy.article_html(item, body, nav=True), lambda name: f"{root}{image_path(name)}")
    title = copy.convert(item.article.title, item.key.site)
    lang = copy.variant.lang if copy.variant else item.view.site.language
    page = wrap_page(
        fragment, title or copy.convert(copy.config.mirror.title), root=root, lang=lang, csp=None, stylesheet=STYLESHEET
    )
    return html_path(path), title, page.encode()


def favicon() -> bytes:
    return resources.files("newsmirror.bundle").joinpath("favicon.png").read_bytes()


class ZimWriter:
    """The ZIM file of ``copy``, written as its articles come (``add_article``), then ``finish``ed: libzim
    compresses and indexes on its worker thread while the caller renders the next pages."""

    def __init__(self, copy: OfflineMirror) -> None:
        self.copy = copy
        self._folder = tempfile.TemporaryDirectory(prefix="newsmirror-zim-")
        self._path = Path(self._folder.name) / "mirror.zim"
        # One worker: with more, Xapian numbers the documents in the order the threads finish them, and
        # the file's bytes change from run to run (measured); compression alone would stay the same.
        self._creator = (
            Creator(str(self._path))
            .config_verbose(False)
            .config_indexing(True, LANGUAGE)
            .config_nbworkers(1)
            .config_clustersize(_CLUSTER_SIZE)
            .config_compression(Compression.none)  # _compressed compresses the text clusters afterwards
        )
        with _quiet_stdout():
            self._creator.__enter__()
        self._creator.set_mainpath(html_path(HOME))
        self._title = copy.convert(copy.config.mirror.title)
        self._lists: list[ZimPage] | None = None

    def add_article(self, item: OfflineArticle, body: str) -> None:
        self.add_page(zim_page(self.copy, item, body))

    def add_page(self, page: ZimPage) -> None:
        """An article's page made by ``zim_page`` (here or in another process)."""
        path, title, content = page
        self._add(path, title, "text/html", content, True)

    def list_pages(self) -> list[ZimPage]:
        """Home, most read and every channel index as pages of the file, rendered once: ``bundle_files`` has
        them rendered while the helper process makes its share, ``finish`` adds them."""
        if self._lists is None:
            copy = self.copy
            self._lists = []
            for path, markdown in sorted(copy.lists().items()):
                html = _html(markdown, path, self._title, copy.variant.lang if copy.variant else None)
                self._lists.append((html_path(path), _title(markdown) or self._title, html))
        return self._lists

    def finish(self) -> bytes:
        """The lists, images, favicon and metadata; the file's bytes, with their ids derived from the content.
        (The lists come last so that libzim starts on the articles at once.)"""
        copy, mirror = self.copy, self.copy.config.mirror
        for path, title, html in self.list_pages():
            self._add(path, title, "text/html", html, False)
        self._add(STYLESHEET, "", "text/css", stylesheet(), False)
        for name, data in copy.image_files():
            self._add(image_path(name), "", IMAGE_TYPES[name.rsplit(".", 1)[1]], data, False)
        self._creator.add_illustration(48, favicon())
        updated = copy.updated
        sites = "、".join(dict.fromkeys(copy.convert(v.site.name) for v in copy.views)) or self._title
        suffix = f"_{copy.variant.folder}" if copy.variant else ""
        for key, value in (
            ("Name", f"newsmirror_zh{suffix}_" + hashlib.sha1(mirror.base_url.encode()).hexdigest()[:8]),
            ("Title", self._title[:_TITLE_MAX]),
            ("Description", copy.convert(f"{mirror.title}：{sites} 的离线镜像")[:_DESCRIPTION_MAX]),
            ("Language", LANGUAGE),
            ("Creator", sites),
            ("Publisher", "newsmirror"),
            ("Date", updated.strftime("%Y-%m-%d") if updated else "1970-01-01"),
            ("Source", copy.base_url),
            ("Tags", "_category:news;_pictures:yes;_videos:no;_details:yes;_ftindex:yes"),
        ):
            self._creator.add_metadata(key, value)
        with _quiet_stdout():
            self._creator.__exit__(None, None, None)
        try:
            return _fixed_ids(_compressed(self._path.read_bytes()))
        finally:
            self._folder.cleanup()

    def close(self) -> None:
        """Give up a file not finished (an error on the way): libzim is let to end, its temporary file goes."""
        try:
            with _quiet_stdout():
                self._creator.__exit__(None, None, None)
        except Exception:  # the error that brought us here is the one to report
            pass
        finally:
            self._folder.cleanup()

    def _add(self, path: str, title: str, mimetype: str, content: bytes | str, front: bool) -> None:
        self._creator.add_item(_Entry(path, title, mimetype, content, front))


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """libzim prints its finishing steps to the process's stdout even when not verbose; they would mix
    into the command's output (and its JSON log lines), so stdout is pointed at /dev/null meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _html(markdown: str, path: str, title: str, lang: str | None) -> bytes:
    # No Content-Security-Policy: Kiwix's own reader scripts run inside the page; nh3 already took every
    # script out of the articles when they were stored.
    return to_html(markdown, path, title, lang=lang, feed=False, csp=None).encode()


def _title(markdown: str) -> str:
    first = markdown.lstrip().split("\n", 1)[0]
    return first.removeprefix("# ").replace("\\", "").strip() if first.startswith("# ") else ""


def _fixed_ids(zim: bytes) -> bytes:
    """Replace the random UUIDs libzim and Xapian put in the file with ones derived from its content,
    then write the MD5 checksum again (it covers every byte before it)."""
    data = bytearray(zim)
    (checksum_pos,) = struct.unpack_from("<Q", data, _CHECKSUM_POS_AT)
    spots = [(_UUID_AT, _UUID_AT + _UUID_LEN)]
    spots += [(m.end(), m.end() + _UUID_LEN) for m in _XAPIAN_MAGIC.finditer(data, 0, checksum_pos)]
    for start, end in spots:
        data[start:end] = bytes(_UUID_LEN)
    seed = hashlib.sha256(bytes(data[:checksum_pos])).digest()
    for number, (start, end) in enumerate(spots):
        data[start:end] = hashlib.sha256(seed + bytes([number])).digest()[:_UUID_LEN]
    data[checksum_pos : checksum_pos + 16] = hashlib.md5(bytes(data[:checksum_pos])).digest()
    return bytes(data)


def _compressed(zim: bytes) -> bytes:
    """The ZIM file ``zim``, written by libzim without compression, with every cluster of text (the
    clusters libzim compresses: its items have a text/ type) compressed with zstd at ``ZSTD_LEVEL``; the
    clusters of images and of the Xapian databases (which readers open in place) stay as they are.

    Clusters lie one after another from the first; the entries, the path and cluster pointer lists and
    the checksum follow them. Entries name their cluster by number, not by offset, so only the offsets
    of the clusters and the positions after them change."""
    (entry_count, cluster_count, path_pos, title_pos, cluster_pos, mime_pos) = struct.unpack_from("<IIQQQQ", zim, 24)
    (checksum_pos,) = struct.unpack_from("<Q", zim, _CHECKSUM_POS_AT)
    mimetypes = zim[mime_pos : zim.index(b"\0\0", mime_pos)].split(b"\0")
    clusters = list(struct.unpack_from(f"<{cluster_count}Q", zim, cluster_pos))
    entries = struct.unpack_from(f"<{entry_count}Q", zim, path_pos)
    text = [False] * cluster_count
    for at in entries:
        (mimetype,) = struct.unpack_from("<H", zim, at)
        if mimetype != _MIMETYPE_REDIRECT:
            (cluster,) = struct.unpack_from("<I", zim, at + 8)
            text[cluster] = text[cluster] or mimetypes[mimetype].startswith(b"text/")
    spans = []
    for start in clusters:
        info = zim[start]
        if info & 0x0F != _NONE:
            raise ValueError(f"libzim wrote a cluster compressed ({info:#x}); it was asked not to")
        width = 8 if info & _EXTENDED else 4
        # The last of the cluster's offsets is where its last blob ends.
        (first,) = struct.unpack_from("<Q" if width == 8 else "<I", zim, start + 1)
        (last,) = struct.unpack_from("<Q" if width == 8 else "<I", zim, start + 1 + first - width)
        spans.append((start, start + 1 + last))
    end = spans[-1][1] if spans else mime_pos
    if any(a != b for (_, a), (b, _) in itertools.pairwise(spans)) or end > min(entries, default=end):
        raise ValueError("libzim's clusters are not one after another, ahead of the entries")

    def packed(number: int) -> bytes:
        start, stop = spans[number]
        if not text[number]:
            return zim[start:stop]
        compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        return bytes([_ZSTD | (zim[start] & _EXTENDED)]) + compressor.compress(zim[start + 1 : stop])

    # zstd lets go of the GIL: the clusters are compressed on every CPU, each on its own (same bytes).
    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        parts = list(pool.map(packed, range(cluster_count)))
    out = bytearray(zim[: clusters[0]] if clusters else zim[:end])
    offsets = []
    for part in parts:
        offsets.append(len(out))
        out += part
    shift = len(out) - end
    out += zim[end:]

    def moved(position: int) -> int:
        """Where a position of libzim's file is now: past the clusters, moved up by what they shrank."""
        return position + shift if position >= end else position

    struct.pack_into(
        "<QQQ", out, 32, moved(path_pos), moved(title_pos) if title_pos != 2**64 - 1 else title_pos, moved(cluster_pos)
    )
    struct.pack_into("<Q", out, _CHECKSUM_POS_AT, moved(checksum_pos))
    struct.pack_into(f"<{entry_count}Q", out, moved(path_pos), *(moved(at) for at in entries))
    struct.pack_into(f"<{cluster_count}Q", out, moved(cluster_pos), *offsets)
    return bytes(out)

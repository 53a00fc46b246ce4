"""The mirror as one ZIM file (python-libzim), which Kiwix opens as it is: articles, indexes, images,
the home page as main page, the mirror's title, language and favicon, and the full-text search index
Kiwix builds in (Xapian, with Chinese word splitting).

Entries sit at the paths the HTML site uses (``index.html``, ``indexes/…``, ``pages/…``, ``images/…``),
so every relative link between them works inside Kiwix as on the site.

libzim stamps each file with random UUIDs (the archive's, and one per Xapian index it embeds); they are
replaced by ones derived from the content and the checksum recomputed, so the same store gives the same
bytes and a publish of an unchanged mirror commits nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from libzim.writer import Creator, Hint, Item, StringProvider

from newsmirror.bundle.content import IMAGE_TYPES, OfflineMirror
from newsmirror.layout import HOME, html_path, image_path, page_path
from newsmirror.render.html_site import to_html

# ISO 639-3, as ZIM metadata wants it: the mirror is for Chinese readers.
LANGUAGE = "zho"
# What ZIM readers show in a list of books: short, or they cut it.
_TITLE_MAX = 30
_DESCRIPTION_MAX = 80
# Header fields (ZIM format 6): the archive's UUID, and where the MD5 checksum is.
_UUID_AT, _UUID_LEN = 8, 16
_CHECKSUM_POS_AT = 72
# A Xapian "glass" database begins with this magic and a 2-byte format version, then its 16-byte UUID.
_XAPIAN_MAGIC = re.compile(rb"\x0f\rXapian Glass..", re.DOTALL)


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


def favicon() -> bytes:
    return resources.files("newsmirror.bundle").joinpath("favicon.png").read_bytes()


def zim_bytes(copy: OfflineMirror) -> bytes:
    """The ZIM file of ``copy`` (libzim writes to a file: a temporary one, read back and removed)."""
    mirror = copy.config.mirror
    with tempfile.TemporaryDirectory(prefix="newsmirror-zim-") as folder:
        temp = Path(folder) / "mirror.zim"
        # One worker: the order clusters are written in must not depend on thread timing.
        creator_config = Creator(str(temp)).config_verbose(False).config_indexing(True, LANGUAGE).config_nbworkers(1)
        with _quiet_stdout(), creator_config as creator:
            creator.set_mainpath(html_path(HOME))
            for path, markdown in sorted(copy.lists().items()):
                page = html_path(path)
                creator.add_item(
                    _Entry(
                        page, _title(markdown) or mirror.title, "text/html", _html(markdown, path, mirror.title), False
                    )
                )
            for item in copy.articles():
                path = page_path(item.key)
                html = _html(copy.site_page(item), path, mirror.title)
                creator.add_item(_Entry(html_path(path), item.article.title, "text/html", html, True))
            for name, data in copy.image_files():
                creator.add_item(_Entry(image_path(name), "", IMAGE_TYPES[name.rsplit(".", 1)[1]], data, False))
            creator.add_illustration(48, favicon())
            updated = copy.updated
            sites = "、".join(dict.fromkeys(v.site.name for v in copy.views)) or mirror.title
            for key, value in (
                ("Name", "newsmirror_zh_" + hashlib.sha1(mirror.base_url.encode()).hexdigest()[:8]),
                ("Title", mirror.title[:_TITLE_MAX]),
                ("Description", f"{mirror.title}：{sites} 的离线镜像"[:_DESCRIPTION_MAX]),
                ("Language", LANGUAGE),
                ("Creator", sites),
                ("Publisher", "newsmirror"),
                ("Date", updated.strftime("%Y-%m-%d") if updated else "1970-01-01"),
                ("Source", mirror.base_url),
                ("Tags", "_category:news;_pictures:yes;_videos:no;_details:yes;_ftindex:yes"),
            ):
                creator.add_metadata(key, value)
        return _fixed_ids(temp.read_bytes())


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


def _html(markdown: str, path: str, title: str) -> bytes:
    # No Content-Security-Policy: Kiwix's own reader scripts run inside the page; nh3 already took every
    # script out of the articles when they were stored.
    return to_html(markdown, path, title, feed=False, csp=None).encode()


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

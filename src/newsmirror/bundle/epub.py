"""One EPUB per channel (ebooklib): the channel's articles in the period, newest first, each a chapter
listed in the table of contents, with the images the mirror holds.

ebooklib stamps the package with the clock and every zip entry with the time it was written; the
package's date is set to the newest article's fetch time and the zip is written again with fixed entry
times, in ebooklib's entry order, so the same store gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC
from html import escape

from ebooklib import epub

from newsmirror import layout
from newsmirror.bundle.content import IMAGE_TYPES, OfflineArticle, OfflineMirror, image_refs
from newsmirror.render.channels import ChannelView
from newsmirror.render.templating import plain_text

# The earliest time a zip entry can carry: every entry gets it.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_STYLE = (
    "body{line-height:1.7;overflow-wrap:break-word}h1{font-size:1.4em;line-height:1.35}"
    "img{max-width:100%;height:auto}blockquote{margin:1em 0;padding-left:1em;border-left:3px solid #ccc}"
    "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2em .5em}"
)

# What XML 1.0 does not allow in a document (ebooklib's lxml dropped them when it parsed each chapter).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A chapter as ebooklib writes one (its template, head and body), written here: ebooklib would parse
# every chapter with lxml and write it out again, a third of the EPUB's time.
_CHAPTER = (
    "<?xml version='1.0' encoding='utf-8'?>\n<!DOCTYPE html>\n"
    '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
    'epub:prefix="z3998: http://www.daisy.org/z3998/2012/vocab/structure/#" lang="{lang}" xml:lang="{lang}">\n'
    "  <head>\n    <title>{title}</title>\n"
    '    <link href="style.css" rel="stylesheet" type="text/css"/>\n  </head>\n'
    "  <body>{body}</body>\n</html>\n"
)


class _Chapter(epub.EpubHtml):
    """A chapter whose XHTML document is made once, by ``_CHAPTER``: the article's HTML (Markdown's, with
    every empty element closed, and the frame's) is XHTML as it is."""

    def __init__(self, *, body: str, **kwargs: str) -> None:
        super().__init__(**kwargs)
        self._body = _NOT_XML.sub("", body)

    def get_content(self, default: object = None) -> bytes:
        return _CHAPTER.format(lang=self.lang, title=escape(_NOT_XML.sub("", self.title)), body=self._body).encode()

    def get_body_content(self) -> bytes:
        # ebooklib looks in the body for page markers (epub:type): the articles have none.
        return b"<p></p>"


def epub_name(view: ChannelView) -> str:
    return f"{view.slug}.epub"


class ChannelBook:
    """The EPUB of one channel of ``copy``: a chapter per article (``add``), then its bytes (``finish``)."""

    def __init__(self, copy: OfflineMirror, view: ChannelView) -> None:
        self.copy, self.view = copy, view
        mirror, convert = copy.config.mirror, copy.convert
        self.lang = copy.variant.lang if copy.variant else "zh"
        book = self.book = epub.EpubBook()
        book.set_identifier(layout.url(copy.base_url, view.index_path()))
        book.set_title(convert(f"{view.site.name} · {view.name}", view.site.id))
        book.set_language(self.lang)
        book.add_author(convert(view.site.name, view.site.id))
        book.add_metadata("DC", "publisher", convert(mirror.title))
        self.newest = max(h.fetched for h in view.heads)
        oldest = min(h.fetched for h in view.heads)
        book.add_metadata("DC", "description", convert(f"{mirror.title}：{oldest:%Y-%m-%d} 至 {self.newest:%Y-%m-%d}"))
        self.style = epub.EpubItem(uid="style", file_name="style.css", media_type="text/css", content=_STYLE.encode())
        book.add_item(self.style)
        self.added: set[str] = set()
        self.chapters: list[epub.EpubHtml] = []

    def add(self, item: OfflineArticle, body: str) -> None:
        """The article as a chapter, and the images it shows that the book does not hold yet."""
        held = {name for name in item.images.values() if name in self.added or self._add_image(item, name)}
        content = image_refs(
            self.copy.article_html(item, body, nav=False), lambda name: f"images/{name}" if name in held else None
        )
        chapter = _Chapter(
            uid=f"a{len(self.chapters) + 1}",
            file_name=f"{item.key.id}.xhtml",
            title=plain_text(self.copy.convert(item.article.title, item.key.site)) or "（无标题）",
            lang=self.lang,
            body=content,
        )
        self.book.add_item(chapter)
        self.chapters.append(chapter)

    def _add_image(self, item: OfflineArticle, name: str) -> bool:
        url = next(u for u, n in item.images.items() if n == name)
        data = self.copy.store.image_data(url)
        if data is None:
            return False
        self.added.add(name)
        self.book.add_item(
            epub.EpubImage(
                uid=f"img-{name.split('.')[0]}",
                file_name=f"images/{name}",
                media_type=IMAGE_TYPES[name.rsplit(".", 1)[1]],
                content=data,
            )
        )
        return True

    def finish(self) -> bytes:
        book = self.book
        book.toc = self.chapters
        book.spine = ["nav", *self.chapters]
        book.add_item(epub.EpubNcx())
        book.add_item(epub.EpubNav())
        buffer = io.BytesIO()
        # Not compressed here: _fixed_times compresses every entry once, with fixed times.
        options = {"mtime": self.newest.astimezone(UTC).replace(tzinfo=None), "compresslevel": 0}
        epub.write_epub(buffer, book, options)
        return _fixed_times(buffer.getvalue())


def _fixed_times(data: bytes) -> bytes:
    """The same zip with every entry's time fixed (the mimetype entry first and stored, as EPUB requires)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = info.compress_type
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info), compresslevel=9 if info.compress_type else None)
    return out.getvalue()

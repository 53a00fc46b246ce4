"""One EPUB per channel (ebooklib): the channel's articles in the period, newest first, each a chapter
listed in the table of contents, with the images the mirror holds.

ebooklib stamps the package with the clock and every zip entry with the time it was written; the
package's date is set to the newest article's fetch time and the zip is written again with fixed entry
times, in ebooklib's entry order, so the same store gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC

from ebooklib import epub

from newsmirror import layout
from newsmirror.bundle.content import IMAGE_TYPES, OfflineMirror
from newsmirror.render.channels import ChannelView
from newsmirror.render.html_site import markdown_parser
from newsmirror.render.templating import plain_text

# The earliest time a zip entry can carry: every entry gets it.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_STYLE = (
    "body{line-height:1.7;overflow-wrap:break-word}h1{font-size:1.4em;line-height:1.35}"
    "img{max-width:100%;height:auto}blockquote{margin:1em 0;padding-left:1em;border-left:3px solid #ccc}"
    "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2em .5em}"
)


def epub_name(view: ChannelView) -> str:
    return f"{view.slug}.epub"


def channel_epub(copy: OfflineMirror, view: ChannelView) -> bytes:
    """The EPUB of one channel of ``copy``."""
    mirror = copy.config.mirror
    book = epub.EpubBook()
    book.set_identifier(layout.url(mirror.base_url, view.index_path()))
    book.set_title(f"{view.site.name} · {view.name}")
    book.set_language("zh")
    book.add_author(view.site.name)
    book.add_metadata("DC", "publisher", mirror.title)
    newest = max(h.fetched for h in view.heads)
    oldest = min(h.fetched for h in view.heads)
    book.add_metadata("DC", "description", f"{mirror.title}：{oldest:%Y-%m-%d} 至 {newest:%Y-%m-%d}")
    style = epub.EpubItem(uid="style", file_name="style.css", media_type="text/css", content=_STYLE.encode())
    book.add_item(style)

    added: set[str] = set()
    chapters: list[epub.EpubHtml] = []
    parser = markdown_parser()
    for number, item in enumerate(copy.articles(view), start=1):
        refs = {name: f"images/{name}" for name in item.images.values()}
        body = parser.render(copy.standalone(item, refs))
        chapter = epub.EpubHtml(
            uid=f"a{number}",
            file_name=f"{item.key.id}.xhtml",
            title=plain_text(item.article.title) or "（无标题）",
            lang="zh",
        )
        chapter.content = body
        chapter.add_item(style)
        book.add_item(chapter)
        chapters.append(chapter)
        for url, name in item.images.items():
            if name in added:
                continue
            data = copy.store.image_data(url)
            if data is None:
                continue
            added.add(name)
            book.add_item(
                epub.EpubImage(
                    uid=f"img-{name.split('.')[0]}",
                    file_name=f"images/{name}",
                    media_type=IMAGE_TYPES[name.rsplit(".", 1)[1]],
                    content=data,
                )
            )
    book.toc = chapters
    book.spine = ["nav", *chapters]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    buffer = io.BytesIO()
    epub.write_epub(buffer, book, {"mtime": newest.astimezone(UTC).replace(tzinfo=None)})
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

"""The store's images: which articles show which image, and the shrunk copies with their attempts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from newsmirror.models import ArticleKey, utcnow
from newsmirror.store.base import StoreBase
from newsmirror.store.rows import iso

if TYPE_CHECKING:
    from newsmirror.image_shrink import ShrunkImage


class ImageQueries(StoreBase):
    """Images and the articles that show them."""

    def set_article_images(self, key: ArticleKey, urls: Iterable[str]) -> None:
        """Record which image URLs an article shows (replacing what it showed before)."""
        with self._transaction() as db:
            args = (key.site, key.channel, key.id)
            db.execute("DELETE FROM article_images WHERE site = ? AND channel = ? AND id = ?", args)
            db.executemany(
                "INSERT INTO article_images (site, channel, id, url) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(*args, url) for url in urls],
            )

    def missing_image_urls(self, urls: list[str], attempts: int) -> list[str]:
        """Those of ``urls`` neither stored yet nor tried ``attempts`` times already, in the given order."""
        if not urls:
            return []
        marks = ",".join("?" * len(urls))
        rows = self._db.execute(
            f"SELECT url FROM images WHERE (data IS NOT NULL OR attempts >= ?) AND url IN ({marks})", [attempts, *urls]
        )
        done = {row[0] for row in rows}
        return [url for url in urls if url not in done]

    def images_to_retry(self, max_attempts: int) -> list[tuple[str, ArticleKey]]:
        """(image URL, an article showing it: the first by key) for every recorded image not stored yet
        and tried fewer times, by URL."""
        rows = self._db.execute(
            "SELECT a.url, a.site, a.channel, a.id FROM article_images a LEFT JOIN images i ON i.url = a.url"
            " WHERE i.url IS NULL OR (i.data IS NULL AND i.attempts < ?) ORDER BY a.url, a.site, a.channel, a.id",
            (max_attempts,),
        )
        first: dict[str, ArticleKey] = {}
        for url, site, channel, id_ in rows:
            first.setdefault(url, ArticleKey(site, channel, id_))
        return list(first.items())

    def save_image(self, url: str, image: ShrunkImage) -> None:
        """Store the shrunk copy of the image at ``url`` (the only copy the mirror keeps)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO images (url, sha1, ext, data, fetched, attempts, error, width, height)"
                " VALUES (?, ?, ?, ?, ?, 0, '', ?, ?)"
                " ON CONFLICT (url) DO UPDATE SET sha1 = excluded.sha1, ext = excluded.ext, data = excluded.data,"
                " fetched = excluded.fetched, attempts = 0, error = '',"
                " width = excluded.width, height = excluded.height",
                (url, image.sha1, image.ext, image.data, iso(utcnow()), image.width, image.height),
            )

    def image_failed(self, url: str, error: str) -> int:
        """Count a failed attempt to fetch (or shrink) an image that is not stored; returns the attempts so far."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO images (url, attempts, error) VALUES (?, 1, ?)"
                " ON CONFLICT (url) DO UPDATE SET attempts = images.attempts + 1, error = excluded.error"
                " WHERE images.data IS NULL",
                (url, error),
            )
            return int(db.execute("SELECT attempts FROM images WHERE url = ?", (url,)).fetchone()[0])

    def unshrunk_images(self) -> list[str]:
        """URLs of images stored before the store kept only shrunk copies (no width recorded)."""
        rows = self._db.execute("SELECT url FROM images WHERE data IS NOT NULL AND width IS NULL ORDER BY url")
        return [row[0] for row in rows]

    def image_sizes(self) -> dict[str, tuple[int, int]]:
        """File name (<sha1>.<ext>) → (width, height) in pixels of every stored image whose size is known."""
        rows = self._db.execute(
            "SELECT sha1 || '.' || ext, width, height FROM images WHERE data IS NOT NULL AND width IS NOT NULL"
        )
        return {name: (width, height) for name, width, height in rows}

    def article_image_files(self) -> dict[ArticleKey, dict[str, str]]:
        """For each article, its stored images: URL → file name (<sha1>.<ext>), in URL order."""
        files: dict[ArticleKey, dict[str, str]] = {}
        rows = self._db.execute(
            "SELECT a.site, a.channel, a.id, a.url, i.sha1 || '.' || i.ext FROM article_images a"
            " JOIN images i ON i.url = a.url WHERE i.data IS NOT NULL ORDER BY a.site, a.channel, a.id, a.url"
        )
        for site, channel, id_, url, name in rows:
            files.setdefault(ArticleKey(site, channel, id_), {})[url] = name
        return files

    def image_data(self, url: str) -> bytes | None:
        row = self._db.execute("SELECT data FROM images WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

"""The store's view counts: what the counter saves and the most-read list ranks."""

from __future__ import annotations

from collections.abc import Iterable

from newsmirror.errors import StoreError
from newsmirror.models import ArticleKey
from newsmirror.store.base import StoreBase
from newsmirror.store.records import HotArticle
from newsmirror.store.rows import one_line, parse_iso, sql_limit


class ViewCounts(StoreBase):
    """Views per article and day."""

    def article_keys(self) -> set[ArticleKey]:
        """The key of every stored article: the view counter counts views of these only."""
        try:
            return {ArticleKey(*row) for row in self._db.execute("SELECT site, channel, id FROM articles")}
        except self._db.errors as exc:
            raise StoreError(f"{self.where}: cannot read the store: {one_line(exc)}") from None

    def add_views(self, day: str, counts: Iterable[tuple[ArticleKey, int]]) -> None:
        """Add view counts for one UTC day (YYYY-MM-DD), in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO views (site, channel, id, day, count) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (site, channel, id, day) DO UPDATE SET count = views.count + excluded.count",
                [(k.site, k.channel, k.id, day, n) for k, n in counts],
            )

    def view_totals(self) -> dict[ArticleKey, int]:
        """Views per article over all days, as the counter saved them (articles since removed included)."""
        rows = self._db.execute("SELECT site, channel, id, sum(count) FROM views GROUP BY site, channel, id")
        return {ArticleKey(site, channel, id_): int(total) for site, channel, id_, total in rows}

    def hot_articles(self, since_day: str, limit: int | None = None) -> list[HotArticle]:
        """Stored articles ranked by views on or after ``since_day`` (YYYY-MM-DD), most viewed first;
        all of them without ``limit``."""
        rows = self._db.execute(
            "SELECT a.site, a.channel, a.id, a.title, a.published, sum(v.count) AS views"
            " FROM views v JOIN articles a ON a.site = v.site AND a.channel = v.channel AND a.id = v.id"
            " WHERE v.day >= ? GROUP BY a.site, a.channel, a.id"
            " ORDER BY views DESC, a.published DESC, a.id LIMIT ?",
            (since_day, sql_limit(limit)),
        )
        return [
            HotArticle(
                ArticleKey(r["site"], r["channel"], r["id"]), r["title"], parse_iso(r["published"]), int(r["views"])
            )
            for r in rows
        ]

"""The store's articles: saving them with their revisions, reading them, rechecks and deletions at the source."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from newsmirror.models import Article, ArticleKey, sha1_hex
from newsmirror.revisions import text_fingerprint
from newsmirror.store.base import StoreBase
from newsmirror.store.records import ArticleHead, ArticleSource, GoneCheck, Recheck, Revision, SaveResult
from newsmirror.store.rows import (
    ARTICLE_COLUMNS,
    HEAD_COLUMNS,
    article_from_row,
    head_from_row,
    iso,
    parse_iso,
    sql_limit,
)

# Checks in a row that find an article's page gone before it is marked deleted at the source:
# one 404 may be a site's hiccup, two are a decision.
GONE_CHECKS = 2


class ArticleQueries(StoreBase):
    """Articles, their revisions, and what rechecks found at their source."""

    def known_articles(self, site: str, channel: str) -> dict[str, tuple[str, str]]:
        """id → (title, feed_hash) of every stored article of a channel."""
        rows = self._db.execute(
            "SELECT id, title, feed_hash FROM articles WHERE site = ? AND channel = ?", (site, channel)
        )
        return {row["id"]: (row["title"], row["feed_hash"]) for row in rows}

    def save_article(self, article: Article, *, etag: str = "", last_modified: str = "") -> SaveResult:
        """Insert or update one article in its own transaction.

        When its text changed (more than boilerplate: see ``revisions``), the stored
        version is kept as a revision and the article is marked updated. A change of
        boilerplate alone keeps the stored text, so its page does not change either.
        ``etag`` and ``last_modified`` are its page's validators, for the next recheck.
        The article was just seen at its source: any count of checks that found it gone
        starts again, and a deletion mark goes.
        """
        keys = (article.site, article.channel, article.id)
        with self._transaction() as db:
            row = db.execute(
                "SELECT title, markdown, fetched, content_hash, feed_hash FROM articles"
                " WHERE site = ? AND channel = ? AND id = ?",
                keys,
            ).fetchone()
            if row:
                db.execute(
                    "UPDATE articles SET checked = ?, page_etag = ?, page_last_modified = ?, gone_checks = 0,"
                    " gone_since = NULL, deleted = NULL WHERE site = ? AND channel = ? AND id = ?",
                    (iso(article.fetched), etag, last_modified, *keys),
                )
            same = row and (
                row["content_hash"] == article.content_hash
                or text_fingerprint(row["title"], row["markdown"]) == text_fingerprint(article.title, article.markdown)
            )
            if row and same:
                if row["feed_hash"] != article.feed_hash:
                    db.execute(
                        "UPDATE articles SET feed_hash = ? WHERE site = ? AND channel = ? AND id = ?",
                        (article.feed_hash, *keys),
                    )
                return "unchanged"
            if row:
                db.execute(
                    "INSERT INTO revisions (site, channel, id, fetched, title, markdown) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (site, channel, id, fetched) DO UPDATE SET title = excluded.title,"
                    " markdown = excluded.markdown",
                    (*keys, row["fetched"], row["title"], row["markdown"]),
                )
            fetched = iso(article.fetched)
            if row and fetched <= row["fetched"]:
                # Revisions are keyed by when a version was fetched, to the second: a second version
                # within the same second is dated a second later, so it cannot overwrite the first.
                fetched = iso(parse_iso(row["fetched"]) + timedelta(seconds=1))
            # One upsert for new and updated articles. An update keeps the original
            # publication time: readers find the article where it was in the index.
            db.execute(
                f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)"
                " ON CONFLICT (site, channel, id) DO UPDATE SET url = excluded.url, title = excluded.title,"
                " author = excluded.author, fetched = excluded.fetched, markdown = excluded.markdown,"
                " html = excluded.html, lead_image = excluded.lead_image, content_hash = excluded.content_hash,"
                " feed_hash = excluded.feed_hash, updated = excluded.fetched",
                (
                    article.site,
                    article.channel,
                    article.id,
                    article.url,
                    article.title,
                    article.author,
                    iso(article.published),
                    fetched,
                    article.markdown,
                    article.html,
                    article.lead_image,
                    article.content_hash,
                    article.feed_hash,
                ),
            )
            db.execute(
                "UPDATE articles SET checked = fetched, page_etag = ?, page_last_modified = ?"
                " WHERE site = ? AND channel = ? AND id = ?",
                (etag, last_modified, *keys),
            )
            db.execute("DELETE FROM article_failures WHERE site = ? AND channel = ? AND id = ?", keys)
            return "updated" if row else "new"

    def markdown_converter(self) -> str:
        """The fingerprint of the converter that made the stored Markdown ("": not recorded yet)."""
        row = self._db.execute("SELECT value FROM store_facts WHERE name = 'markdown_converter'").fetchone()
        return row["value"] if row else ""

    def set_markdown_converter(self, fingerprint: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO store_facts (name, value) VALUES ('markdown_converter', ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (fingerprint,),
            )

    def article_sources(self, after: ArticleKey | None = None, limit: int = 200) -> list[ArticleSource]:
        """Up to ``limit`` stored articles after ``after`` in key order, with what their Markdown is made from."""
        start = (after.site, after.channel, after.id) if after else ("", "", "")
        rows = self._db.execute(
            "SELECT site, channel, id, url, title, html, markdown FROM articles"
            " WHERE (site > ?) OR (site = ? AND channel > ?) OR (site = ? AND channel = ? AND id > ?)"
            " ORDER BY site, channel, id LIMIT ?",
            (start[0], start[0], start[1], start[0], start[1], start[2], limit),
        )
        return [
            ArticleSource(ArticleKey(r["site"], r["channel"], r["id"]), r["url"], r["title"], r["html"], r["markdown"])
            for r in rows
        ]

    def remake_markdown(self, key: ArticleKey, title: str, markdown: str) -> None:
        """Store Markdown made again from the article's stored HTML: the same text in a better form, so
        no revision, no update mark; its content hash changes, so its page is built again."""
        with self._transaction() as db:
            db.execute(
                "UPDATE articles SET markdown = ?, content_hash = ? WHERE site = ? AND channel = ? AND id = ?",
                (markdown, sha1_hex(title + "\n" + markdown), key.site, key.channel, key.id),
            )

    def revisions(self, key: ArticleKey) -> list[Revision]:
        """An article's earlier versions, oldest first (the current one is the article itself)."""
        rows = self._db.execute(
            "SELECT fetched, title, markdown FROM revisions WHERE site = ? AND channel = ? AND id = ? ORDER BY fetched",
            (key.site, key.channel, key.id),
        )
        return [Revision(parse_iso(r["fetched"]), r["title"], r["markdown"]) for r in rows]

    # -- rechecks and deletions at the source ---------------------------------------

    def due_rechecks(self, published_since: datetime, checked_before: datetime, limit: int) -> list[Recheck]:
        """Articles published since ``published_since`` (or found gone by the last check, whatever
        their age: a deletion takes two checks in a row) and not checked since ``checked_before``,
        the longest unchecked first, at most ``limit``. Deleted ones are checked too: one may come back."""
        rows = self._db.execute(
            "SELECT site, channel, id, url, title, page_etag, page_last_modified FROM articles"
            " WHERE (published >= ? OR (gone_checks > 0 AND deleted IS NULL)) AND (checked IS NULL OR checked <= ?)"
            " ORDER BY checked IS NOT NULL, checked, published DESC, site, channel, id LIMIT ?",
            (iso(published_since), iso(checked_before), limit),
        )
        return [
            Recheck(ArticleKey(r["site"], r["channel"], r["id"]), r["url"], r["title"], r["page_etag"],
                    r["page_last_modified"])
            for r in rows
        ]  # fmt: skip

    def claim_rechecks(self, due: list[Recheck], now: datetime, checked_before: datetime) -> list[Recheck]:
        """Take ``due`` rechecks for one poller: those still not checked since ``checked_before`` are
        marked checked at ``now`` and returned. Pollers sharing a store (workers, a timer's run) so
        never check an article twice in one period: two checks that find it gone mark it deleted,
        and they must be a period apart."""
        taken = []
        with self._transaction() as db:
            for item in due:
                key = item.key
                rows = db.execute(
                    "UPDATE articles SET checked = ? WHERE site = ? AND channel = ? AND id = ?"
                    " AND (checked IS NULL OR checked <= ?) RETURNING id",
                    (iso(now), key.site, key.channel, key.id, iso(checked_before)),
                ).fetchall()
                if rows:
                    taken.append(item)
        return taken

    def record_check(
        self, key: ArticleKey, when: datetime, *, present: bool = True, etag: str = "", last_modified: str = ""
    ) -> None:
        """The article's page was checked: it answered as before (e.g. 304), so it is there;
        or (``present=False``) the check failed in a way that says nothing about a deletion.
        ``etag``/``last_modified``: new validators of the page, for the next recheck."""
        changes = ", gone_checks = 0, gone_since = NULL, deleted = NULL" if present else ""
        args: tuple[str, ...] = ()
        if etag or last_modified:
            changes += ", page_etag = ?, page_last_modified = ?"
            args = (etag, last_modified)
        with self._transaction() as db:
            db.execute(
                f"UPDATE articles SET checked = ?{changes} WHERE site = ? AND channel = ? AND id = ?",
                (iso(when), *args, key.site, key.channel, key.id),
            )

    def record_gone_check(self, key: ArticleKey, when: datetime) -> GoneCheck | None:
        """A check found the article's page gone (404, 410, or a redirect away from it). The
        second such check in a row marks it deleted, as of the first. None: not stored."""
        with self._transaction() as db:
            args = (key.site, key.channel, key.id)
            db.execute(
                "UPDATE articles SET checked = ?, gone_checks = gone_checks + 1, gone_since = coalesce(gone_since, ?)"
                " WHERE site = ? AND channel = ? AND id = ?",
                (iso(when), iso(when), *args),
            )
            row = db.execute(
                "SELECT gone_checks, gone_since, deleted FROM articles WHERE site = ? AND channel = ? AND id = ?", args
            ).fetchone()
            if row is None:
                return None
            marked = row["deleted"] is None and row["gone_checks"] >= GONE_CHECKS
            if marked:
                db.execute("UPDATE articles SET deleted = gone_since WHERE site = ? AND channel = ? AND id = ?", args)
            return GoneCheck(row["gone_checks"], parse_iso(row["gone_since"]), marked)

    def deleted_heads(self, site: str | None = None, channel: str | None = None) -> list[ArticleHead]:
        """Articles deleted at their source (of one channel, or all), newest deletion first."""
        where, args = "deleted IS NOT NULL", list[str]()
        if site is not None:
            where, args = where + " AND site = ?", [*args, site]
        if channel is not None:
            where, args = where + " AND channel = ?", [*args, channel]
        rows = self._db.execute(
            f"SELECT {HEAD_COLUMNS} FROM articles WHERE {where}"
            " ORDER BY deleted DESC, published DESC, site, channel, id",
            args,
        )
        return [head_from_row(r) for r in rows]

    def record_gone(self, key: ArticleKey, feed_hash: str, error: str) -> int:
        """Count one more run in which an article's page was gone; returns the count.
        A changed feed entry starts the count again."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO article_failures (site, channel, id, feed_hash, attempts, error) VALUES (?, ?, ?, ?, 1, ?)"
                " ON CONFLICT (site, channel, id) DO UPDATE SET error = excluded.error,"
                " attempts = CASE WHEN article_failures.feed_hash = excluded.feed_hash"
                " THEN article_failures.attempts + 1 ELSE 1 END,"
                " feed_hash = excluded.feed_hash",
                (key.site, key.channel, key.id, feed_hash, error),
            )
            return db.execute(
                "SELECT attempts FROM article_failures WHERE site = ? AND channel = ? AND id = ?",
                (key.site, key.channel, key.id),
            ).fetchone()[0]

    def given_up(self, site: str, channel: str, attempts: int) -> dict[str, str]:
        """id → feed hash of a channel's articles that were gone in ``attempts`` runs in a row."""
        rows = self._db.execute(
            "SELECT id, feed_hash FROM article_failures WHERE site = ? AND channel = ? AND attempts >= ?",
            (site, channel, attempts),
        )
        return {row["id"]: row["feed_hash"] for row in rows}

    def article(self, key: ArticleKey) -> Article | None:
        row = self._db.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE site = ? AND channel = ? AND id = ?",
            (key.site, key.channel, key.id),
        ).fetchone()
        return article_from_row(row) if row else None

    def articles(self, site: str, channel: str, limit: int | None = None) -> list[Article]:
        """A channel's articles, newest first."""
        return [article_from_row(row) for row in self._newest(ARTICLE_COLUMNS, site, channel, limit)]

    def article_heads(self, site: str, channel: str, limit: int | None = None) -> list[ArticleHead]:
        """A channel's articles without their bodies, newest first (the order of ``articles``)."""
        return [head_from_row(row) for row in self._newest(HEAD_COLUMNS, site, channel, limit)]

    def _newest(self, columns: str, site: str, channel: str, limit: int | None) -> Iterable[Any]:
        return self._db.execute(
            f"SELECT {columns} FROM articles WHERE site = ? AND channel = ? ORDER BY published DESC, id DESC LIMIT ?",
            (site, channel, sql_limit(limit)),
        )

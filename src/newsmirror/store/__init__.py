"""The SQLite store: every query (the schema and its versions are in ``migrations``).

The store joins the two halves of the pipeline: ``sync`` writes articles into
it and ``build`` reads them out. It runs in WAL mode and every write is one
transaction, so a run killed at any moment leaves it consistent and the next
run carries on from there.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from newsmirror.errors import StoreError
from newsmirror.models import Article, ArticleKey, FeedState, RunRecord, RunSummary, utcnow
from newsmirror.revisions import text_fingerprint
from newsmirror.store.connection import (
    Connection,
    PostgresConnection,
    SqliteConnection,
    is_postgres,
    postgres_ddl,
    redact,
)
from newsmirror.store.migrations import LATEST, MIGRATIONS

if TYPE_CHECKING:
    from newsmirror.image_shrink import ShrunkImage

SaveResult = Literal["new", "updated", "unchanged"]

# Advisory lock keys (PostgreSQL), one per purpose: any constant unlikely to clash with another application's.
_SCHEMA_LOCK = 0x6E6D0001
RUN_LOCK = 0x6E6D0002

_ARTICLE_COLUMNS = (
    "site, channel, id, url, title, author, published, fetched, markdown, html, lead_image, content_hash, feed_hash,"
    " updated, deleted"
)
_HEAD_COLUMNS = "site, channel, id, url, title, author, published, fetched, content_hash, updated, deleted"
# Checks in a row that find an article's page gone before it is marked deleted at the source:
# one 404 may be a site's hiccup, two are a decision.
GONE_CHECKS = 2


# "No limit" for a LIMIT ? that both databases read (SQLite's -1 is an error in PostgreSQL, NULL in SQLite).
_NO_LIMIT = 2**62


def _limit(limit: int | None) -> int:
    return _NO_LIMIT if limit is None else limit


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _postgres_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.Error,)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    # fromisoformat reads the "Z" of _iso as UTC, some 10x faster than strptime (a build reads every date).
    return datetime.fromisoformat(text).astimezone(UTC)


def _article(row: Any) -> Article:
    return Article(
        site=row["site"],
        channel=row["channel"],
        id=row["id"],
        url=row["url"],
        title=row["title"],
        author=row["author"],
        published=_parse_iso(row["published"]),
        fetched=_parse_iso(row["fetched"]),
        markdown=row["markdown"],
        html=row["html"],
        lead_image=row["lead_image"],
        content_hash=row["content_hash"],
        feed_hash=row["feed_hash"],
        updated=_maybe_iso(row["updated"]),
        deleted=_maybe_iso(row["deleted"]),
    )


def _maybe_iso(text: str | None) -> datetime | None:
    return _parse_iso(text) if text else None


def _head(r: sqlite3.Row) -> ArticleHead:
    return ArticleHead(
        ArticleKey(r["site"], r["channel"], r["id"]),
        r["url"],
        r["title"],
        r["author"],
        _parse_iso(r["published"]),
        _parse_iso(r["fetched"]),
        r["content_hash"],
        _maybe_iso(r["updated"]),
        _maybe_iso(r["deleted"]),
    )


def _feed_state(row: Any) -> FeedState:
    return FeedState(
        site=row["site"],
        channel=row["channel"],
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        checked_at=_maybe_iso(row["checked_at"]),
        ok=bool(row["ok"]),
        error=row["error"],
        last_success=_maybe_iso(row["last_success"]),
        failures=row["failures"],
        last_error=row["last_error"],
        last_error_at=_maybe_iso(row["last_error_at"]),
        next_due=_maybe_iso(row["next_due"]),
        failing_since=_maybe_iso(row["failing_since"]),
    )


def _run_summary(text: str) -> RunSummary | None:
    """A run's summary as saved by ``finish_run``; None if it cannot be read (e.g. written by another release)."""
    try:
        data = json.loads(text)
        return RunSummary(**{k: v for k, v in data.items() if k in RunSummary.__dataclass_fields__})
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class HotArticle:
    """An article of the most-read list."""

    key: ArticleKey
    title: str
    published: datetime
    views: int


@dataclass(frozen=True, slots=True)
class ArticleHead:
    """What an index or a build decision needs of an article: everything but its body."""

    key: ArticleKey
    url: str
    title: str
    author: str
    published: datetime
    fetched: datetime
    content_hash: str
    updated: datetime | None = None  # when its text last changed
    deleted: datetime | None = None  # first seen gone at its source, once marked deleted


@dataclass(frozen=True, slots=True)
class Revision:
    """An earlier version of an article, as it was fetched at ``fetched``."""

    fetched: datetime
    title: str
    markdown: str


@dataclass(frozen=True, slots=True)
class Recheck:
    """A stored article due to be fetched again, with the validators of its last answer."""

    key: ArticleKey
    url: str
    title: str
    etag: str
    last_modified: str


@dataclass(frozen=True, slots=True)
class GoneCheck:
    """What a check that found an article's page gone concluded."""

    checks: int  # checks in a row that found it gone
    gone_since: datetime
    deleted: bool  # marked deleted by this check


@dataclass(frozen=True, slots=True)
class BuiltFile:
    """One file of the build manifest: the fingerprint of its inputs; the size, mtime and SHA-1 of what was written."""

    inputs: str
    size: int
    mtime_ns: int
    digest: str


@dataclass(frozen=True, slots=True)
class SchemaUpgrade:
    """An existing store was upgraded in place when it was opened."""

    path: Path | str
    old: int
    new: int

    def __str__(self) -> str:
        return f"{self.path}: upgraded the store in place from schema version {self.old} to {self.new}"


def _hint(exc: Exception) -> str:
    """What to do about a write failure, when the failure says."""
    if "full" in str(exc) or "No space left" in str(exc):
        return "; free some space on its disk, then run again (nothing was half-written)"
    if "readonly" in str(exc) or "read-only" in str(exc):
        return "; make the store file and its folder writable, then run again"
    return ""


class Store:
    """One connection to the store: a SQLite file, or a PostgreSQL database (a ``postgresql://`` URL).

    Not shared between threads.
    """

    def __init__(self, location: Path | str, *, readonly: bool = False) -> None:
        self.path: Path | str = location if is_postgres(location) else Path(location)
        self.where = redact(self.path) if isinstance(self.path, str) else str(self.path)
        # Set when this open upgraded an existing store: the one line to tell the user.
        self.upgraded: SchemaUpgrade | None = None
        self._db: Connection
        try:
            if isinstance(self.path, str):
                self._db = PostgresConnection(self.path)
            else:
                if readonly and not self.path.exists():
                    raise StoreError(f"{self.path}: no store yet; run 'newsmirror sync' first")
                self._db = SqliteConnection(self.path, readonly=readonly)
            if readonly:
                self._check_version(self._version(), readonly=True)
            else:
                self._migrate()
        except ImportError as exc:
            raise StoreError(f"{self.where}: {exc}") from None
        except Exception as exc:
            # A database that cannot be opened (either kind); anything else is a bug and goes on.
            if not isinstance(exc, (sqlite3.DatabaseError, *_postgres_errors())):
                raise
            raise StoreError(f"{self.where}: cannot open the store: {_one_line(exc)}") from None

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def _version(self) -> int:
        if self._db.dialect == "sqlite":
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])
        # PostgreSQL has no user_version: a one-row table holds it (none yet: an empty database).
        if self._db.execute("SELECT to_regclass('schema_version')").fetchone()[0] is None:
            return 0
        row = self._db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _check_version(self, version: int, *, readonly: bool = False) -> None:
        if version > LATEST:
            raise StoreError(
                f"{self.where}: this store has schema version {version}, but this newsmirror knows versions up to "
                f"{LATEST}: it was written by a newer release. Upgrade newsmirror (pip install -U newsmirror), "
                "or set mirror.store to another file; a store is never downgraded"
            )
        if readonly and version < LATEST:
            raise StoreError(
                f"{self.where}: this store has schema version {version} and needs upgrading to {LATEST}; "
                "run 'newsmirror sync' once to upgrade it in place"
            )

    def _migrate(self) -> None:
        """Bring the store to the latest schema: every pending migration, in order, in one transaction."""
        if self._version() == LATEST:
            return  # the common case costs one read of the header, no write lock
        self._check_version(self._version())
        postgres = self._db.dialect == "postgresql"
        try:
            if postgres:
                # Workers starting at once wait here for the first one's upgrade. Taken before the
                # transaction, so that the transaction then sees the tables that upgrade made.
                self._db.execute("SELECT pg_advisory_lock(?)", (_SCHEMA_LOCK,))
            with self._db.transaction():
                version = self._version()  # another process may have upgraded it while we waited for the lock
                self._check_version(version)
                if postgres:
                    existed = version > 0
                else:
                    existed = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone()
                for migration in MIGRATIONS:
                    if migration.version > version:
                        steps = migration.sqlite
                        if postgres:
                            steps = migration.postgres or tuple(postgres_ddl(step) for step in migration.sqlite)
                        for step in steps:
                            self._db.execute(step)
                if postgres:
                    self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
                    self._db.execute("DELETE FROM schema_version")
                    self._db.execute("INSERT INTO schema_version (version) VALUES (?)", (LATEST,))
                else:
                    # user_version is part of the database header, so it commits (or rolls back) with the steps.
                    self._db.execute(f"PRAGMA user_version = {LATEST}")
        except self._db.errors as exc:
            raise StoreError(
                f"{self.where}: cannot upgrade the store from schema version {self._version()} to {LATEST}: "
                f"{_one_line(exc)}; the store is unchanged"
            ) from None
        finally:
            if postgres:
                self._db.execute("SELECT pg_advisory_unlock(?)", (_SCHEMA_LOCK,))
        if existed and version < LATEST:
            self.upgraded = SchemaUpgrade(self.path if isinstance(self.path, Path) else self.where, version, LATEST)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One write transaction; a database failure (disk full, read-only file,
        corruption, a lost server) rolls it back and becomes a one-line ``StoreError``."""
        try:
            with self._db.transaction():
                yield self._db
        except self._db.errors as exc:
            raise StoreError(f"{self.where}: cannot write to the store: {_one_line(exc)}{_hint(exc)}") from None

    # -- articles ---------------------------------------------------------

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
                    (_iso(article.fetched), etag, last_modified, *keys),
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
            # One upsert for new and updated articles. An update keeps the original
            # publication time: readers find the article where it was in the index.
            db.execute(
                f"INSERT INTO articles ({_ARTICLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)"
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
                    _iso(article.published),
                    _iso(article.fetched),
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

    def revisions(self, key: ArticleKey) -> list[Revision]:
        """An article's earlier versions, oldest first (the current one is the article itself)."""
        rows = self._db.execute(
            "SELECT fetched, title, markdown FROM revisions WHERE site = ? AND channel = ? AND id = ? ORDER BY fetched",
            (key.site, key.channel, key.id),
        )
        return [Revision(_parse_iso(r["fetched"]), r["title"], r["markdown"]) for r in rows]

    # -- rechecks and deletions at the source ---------------------------------------

    def due_rechecks(self, published_since: datetime, checked_before: datetime, limit: int) -> list[Recheck]:
        """Articles published since ``published_since`` (or found gone by the last check, whatever
        their age: a deletion takes two checks in a row) and not checked since ``checked_before``,
        the longest unchecked first, at most ``limit``. Deleted ones are checked too: one may come back."""
        rows = self._db.execute(
            "SELECT site, channel, id, url, title, page_etag, page_last_modified FROM articles"
            " WHERE (published >= ? OR (gone_checks > 0 AND deleted IS NULL)) AND (checked IS NULL OR checked <= ?)"
            " ORDER BY checked IS NOT NULL, checked, published DESC, site, channel, id LIMIT ?",
            (_iso(published_since), _iso(checked_before), limit),
        )
        return [
            Recheck(ArticleKey(r["site"], r["channel"], r["id"]), r["url"], r["title"], r["page_etag"],
                    r["page_last_modified"])
            for r in rows
        ]  # fmt: skip

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
                (_iso(when), *args, key.site, key.channel, key.id),
            )

    def record_gone_check(self, key: ArticleKey, when: datetime) -> GoneCheck | None:
        """A check found the article's page gone (404, 410, or a redirect away from it). The
        second such check in a row marks it deleted, as of the first. None: not stored."""
        with self._transaction() as db:
            args = (key.site, key.channel, key.id)
            db.execute(
                "UPDATE articles SET checked = ?, gone_checks = gone_checks + 1, gone_since = coalesce(gone_since, ?)"
                " WHERE site = ? AND channel = ? AND id = ?",
                (_iso(when), _iso(when), *args),
            )
            row = db.execute(
                "SELECT gone_checks, gone_since, deleted FROM articles WHERE site = ? AND channel = ? AND id = ?", args
            ).fetchone()
            if row is None:
                return None
            marked = row["deleted"] is None and row["gone_checks"] >= GONE_CHECKS
            if marked:
                db.execute("UPDATE articles SET deleted = gone_since WHERE site = ? AND channel = ? AND id = ?", args)
            return GoneCheck(row["gone_checks"], _parse_iso(row["gone_since"]), marked)

    def deleted_heads(self, site: str | None = None, channel: str | None = None) -> list[ArticleHead]:
        """Articles deleted at their source (of one channel, or all), newest deletion first."""
        where, args = "deleted IS NOT NULL", list[str]()
        if site is not None:
            where, args = where + " AND site = ?", [*args, site]
        if channel is not None:
            where, args = where + " AND channel = ?", [*args, channel]
        rows = self._db.execute(
            f"SELECT {_HEAD_COLUMNS} FROM articles WHERE {where}"
            " ORDER BY deleted DESC, published DESC, site, channel, id",
            args,
        )
        return [_head(r) for r in rows]

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
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE site = ? AND channel = ? AND id = ?",
            (key.site, key.channel, key.id),
        ).fetchone()
        return _article(row) if row else None

    def articles(self, site: str, channel: str, limit: int | None = None) -> list[Article]:
        """A channel's articles, newest first."""
        rows = self._db.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE site = ? AND channel = ?"
            " ORDER BY published DESC, id DESC LIMIT ?",
            (site, channel, _limit(limit)),
        )
        return [_article(row) for row in rows]

    def feed_state(self, site: str, channel: str) -> FeedState | None:
        row = self._db.execute("SELECT * FROM feed_state WHERE site = ? AND channel = ?", (site, channel)).fetchone()
        return _feed_state(row) if row else None

    def feed_states(self) -> list[FeedState]:
        """The state of every feed ever checked, by site and channel."""
        return [_feed_state(row) for row in self._db.execute("SELECT * FROM feed_state ORDER BY site, channel")]

    def save_feed_state(self, state: FeedState) -> None:
        """Save one check of a feed, when it is due next, and release its lease. A check that
        is ``ok`` is the feed's last success and ends its run of failures; one that is not
        counts one more failure in a row and becomes its last error (which outlives the
        recovery, for `status`)."""
        checked = _iso(state.checked_at or utcnow())
        with self._transaction() as db:
            db.execute(
                "INSERT INTO feed_state (site, channel, url, etag, last_modified, checked_at, ok, error,"
                " last_success, failures, last_error, last_error_at, next_due, failing_since, lease_owner, lease_until)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', NULL)"
                " ON CONFLICT (site, channel) DO UPDATE SET url = excluded.url, etag = excluded.etag,"
                " last_modified = excluded.last_modified, checked_at = excluded.checked_at, ok = excluded.ok,"
                " error = excluded.error,"
                " last_success = CASE WHEN excluded.ok = 1 THEN excluded.checked_at ELSE feed_state.last_success END,"
                " failures = CASE WHEN excluded.ok = 1 THEN 0 ELSE feed_state.failures + 1 END,"
                " last_error = CASE WHEN excluded.ok = 1 THEN feed_state.last_error ELSE excluded.error END,"
                " last_error_at = CASE WHEN excluded.ok = 1 THEN feed_state.last_error_at ELSE excluded.checked_at END,"
                " next_due = excluded.next_due, failing_since = excluded.failing_since,"
                " lease_owner = '', lease_until = NULL",
                (
                    state.site,
                    state.channel,
                    state.url,
                    state.etag,
                    state.last_modified,
                    checked,
                    int(state.ok),
                    state.error,
                    checked if state.ok else None,
                    0 if state.ok else 1,
                    "" if state.ok else state.error,
                    None if state.ok else checked,
                    _iso(state.next_due) if state.next_due else None,
                    _iso(state.failing_since) if state.failing_since else None,
                ),
            )

    # -- scheduling: which feeds are due, and who polls them ------------------

    def register_feeds(self, feeds: Iterable[tuple[str, str, str]]) -> None:
        """Make (site, channel, feed URL) the configured feeds: new ones are due at once, a feed
        whose URL changed is due again, feeds no longer configured are never claimed."""
        with self._transaction() as db:
            db.execute("UPDATE feed_state SET active = 0 WHERE active = 1")
            db.executemany(
                "INSERT INTO feed_state (site, channel, url, active) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (site, channel) DO UPDATE SET active = 1,"
                " next_due = CASE WHEN feed_state.url = excluded.url THEN feed_state.next_due ELSE NULL END",
                list(feeds),
            )

    def claim_feeds(
        self,
        owner: str,
        *,
        now: datetime,
        lease_until: datetime,
        limit: int | None = None,
        due_only: bool = True,
        sites: Sequence[str] = (),
        channels: Sequence[str] = (),
        take_over: str = "",
    ) -> list[tuple[str, str]]:
        """Lease (site, channel) of configured feeds to ``owner`` until ``lease_until``, the most
        overdue first: those due by ``now`` (all with ``due_only=False``) that no one else holds.

        Leases run out, so the feeds of a worker that died are claimed again; ``take_over``
        is an owner prefix whose leases are taken at once (another sync's: only one runs at a
        time, so one still holding a lease has died). On PostgreSQL the rows are picked
        ``FOR UPDATE SKIP LOCKED``: workers claiming at the same moment get different feeds.
        """
        moment = _iso(now)
        where = ["active = 1", "(lease_until IS NULL OR lease_until <= ?"]
        params: list[object] = [moment]
        if take_over:
            where[-1] += " OR substr(lease_owner, 1, ?) = ?"
            params += [len(take_over), take_over]
        where[-1] += ")"
        if due_only:
            where.append("(next_due IS NULL OR next_due <= ?)")
            params.append(moment)
        for column, values in (("site", sites), ("channel", channels)):
            if values:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params += values
        with self._transaction() as db:
            rows = db.execute(
                "UPDATE feed_state SET lease_owner = ?, lease_until = ? WHERE (site, channel) IN ("
                f"SELECT site, channel FROM feed_state WHERE {' AND '.join(where)}"
                f" ORDER BY next_due IS NOT NULL, next_due, site, channel LIMIT ?{db.skip_locked})"
                " RETURNING site, channel",
                [owner, _iso(lease_until), *params, _limit(limit)],
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def renew_leases(self, owner: str, lease_until: datetime) -> int:
        """Extend every lease ``owner`` holds; returns how many it holds."""
        with self._transaction() as db:
            rows = db.execute(
                "UPDATE feed_state SET lease_until = ? WHERE lease_owner = ? RETURNING site",
                (_iso(lease_until), owner),
            ).fetchall()
        return len(rows)

    def release_feeds(self, owner: str) -> None:
        """Give back whatever ``owner`` still holds (a worker that stops)."""
        with self._transaction() as db:
            db.execute("UPDATE feed_state SET lease_owner = '', lease_until = NULL WHERE lease_owner = ?", (owner,))

    def next_due(self, now: datetime) -> datetime | None:
        """When a configured feed may next be claimed: the first due time of those no one holds, or
        the end of a lease (its holder may have died); ``now`` when one is due already, None when
        none is configured."""
        row = self._db.execute(
            "SELECT min(CASE WHEN lease_until > ? THEN lease_until ELSE coalesce(next_due, '') END)"
            " FROM feed_state WHERE active = 1",
            (_iso(now),),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return max(_parse_iso(row[0]), now) if row[0] else now

    def published_times(self, site: str, channel: str, limit: int) -> list[datetime]:
        """When a channel's newest articles were published: its rhythm, for the schedule."""
        rows = self._db.execute(
            "SELECT published FROM articles WHERE site = ? AND channel = ? ORDER BY published DESC LIMIT ?",
            (site, channel, limit),
        )
        return [_parse_iso(row[0]) for row in rows]

    def failing_feeds(self, since: datetime) -> list[FeedState]:
        """Configured feeds that have failed every poll since before ``since``, longest failing first."""
        rows = self._db.execute(
            "SELECT site, channel FROM feed_state WHERE active = 1 AND failing_since IS NOT NULL"
            " AND failing_since <= ? ORDER BY failing_since, site, channel",
            (_iso(since),),
        ).fetchall()
        return [state for site, channel in rows if (state := self.feed_state(site, channel))]

    # -- run log ------------------------------------------------------------

    def start_run(self, command: str) -> int:
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO runs (command, started) VALUES (?, ?) RETURNING id", (command, _iso(utcnow()))
            ).fetchone()
            return int(row[0])

    def finish_run(self, run_id: int, summary: RunSummary) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET finished = ?, summary = ? WHERE id = ?",
                (_iso(utcnow()), json.dumps(asdict(summary), ensure_ascii=False), run_id),
            )

    def runs(self, last: int) -> list[RunRecord]:
        """The ``last`` entries of the run log, newest first."""
        rows = self._db.execute(
            "SELECT id, command, started, finished, summary FROM runs ORDER BY id DESC LIMIT ?", (last,)
        )
        return [
            RunRecord(
                id=r["id"],
                command=r["command"],
                started=_parse_iso(r["started"]),
                finished=_parse_iso(r["finished"]) if r["finished"] else None,
                summary=_run_summary(r["summary"]) if r["finished"] else None,
            )
            for r in rows
        ]

    def article_keys(self) -> set[ArticleKey]:
        """The key of every stored article: the view counter counts views of these only."""
        try:
            return {ArticleKey(*row) for row in self._db.execute("SELECT site, channel, id FROM articles")}
        except self._db.errors as exc:
            raise StoreError(f"{self.where}: cannot read the store: {_one_line(exc)}") from None

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
            (since_day, _limit(limit)),
        )
        return [
            HotArticle(
                ArticleKey(r["site"], r["channel"], r["id"]), r["title"], _parse_iso(r["published"]), int(r["views"])
            )
            for r in rows
        ]

    # -- build ----------------------------------------------------------------

    def article_heads(self, site: str, channel: str, limit: int | None = None) -> list[ArticleHead]:
        """A channel's articles without their bodies, newest first (the order of ``articles``)."""
        rows = self._db.execute(
            f"SELECT {_HEAD_COLUMNS} FROM articles"
            " WHERE site = ? AND channel = ? ORDER BY published DESC, id DESC LIMIT ?",
            (site, channel, _limit(limit)),
        )
        return [_head(r) for r in rows]

    def build_manifest(self, output: str) -> dict[str, BuiltFile]:
        """path → BuiltFile of what the last build wrote into the output tree ``output``."""
        rows = self._db.execute(
            "SELECT path, inputs, size, mtime_ns, digest FROM build_outputs WHERE output = ?", (output,)
        )
        return {r["path"]: BuiltFile(r["inputs"], r["size"], r["mtime_ns"], r["digest"]) for r in rows}

    def update_build_manifest(self, output: str, changed: dict[str, BuiltFile], removed: Iterable[str]) -> None:
        """Record files a build wrote (or found current) and forget those it removed, in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM build_outputs WHERE output = ? AND path = ?", [(output, path) for path in removed]
            )
            db.executemany(
                "INSERT INTO build_outputs (output, path, inputs, size, mtime_ns, digest) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (output, path) DO UPDATE SET inputs = excluded.inputs, size = excluded.size,"
                " mtime_ns = excluded.mtime_ns, digest = excluded.digest",
                [(output, path, f.inputs, f.size, f.mtime_ns, f.digest) for path, f in changed.items()],
            )

    def tree_hashes(self, output: str) -> dict[str, tuple[int, int, str]]:
        """path → (size, mtime_ns, SHA-256) of the files of an output tree as last hashed for SHA256SUMS."""
        rows = self._db.execute("SELECT path, size, mtime_ns, sha256 FROM tree_hashes WHERE output = ?", (output,))
        return {r["path"]: (r["size"], r["mtime_ns"], r["sha256"]) for r in rows}

    def update_tree_hashes(self, output: str, changed: dict[str, tuple[int, int, str]], removed: Iterable[str]) -> None:
        """Remember new file hashes and forget files that left the tree, in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM tree_hashes WHERE output = ? AND path = ?", [(output, path) for path in removed]
            )
            db.executemany(
                "INSERT INTO tree_hashes (output, path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (output, path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
                " sha256 = excluded.sha256",
                [(output, path, *entry) for path, entry in changed.items()],
            )

    # -- images -----------------------------------------------------------------

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
        """(image URL, an article showing it) for every recorded image not stored yet and tried fewer times."""
        rows = self._db.execute(
            "SELECT a.url, min(a.site || '/' || a.channel || '/' || a.id) AS article FROM article_images a"
            " LEFT JOIN images i ON i.url = a.url"
            " WHERE i.url IS NULL OR (i.data IS NULL AND i.attempts < ?) GROUP BY a.url ORDER BY a.url",
            (max_attempts,),
        )
        return [(r["url"], ArticleKey(*r["article"].split("/", 2))) for r in rows]

    def save_image(self, url: str, image: ShrunkImage) -> None:
        """Store the shrunk copy of the image at ``url`` (the only copy the mirror keeps)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO images (url, sha1, ext, data, fetched, attempts, error, width, height)"
                " VALUES (?, ?, ?, ?, ?, 0, '', ?, ?)"
                " ON CONFLICT (url) DO UPDATE SET sha1 = excluded.sha1, ext = excluded.ext, data = excluded.data,"
                " fetched = excluded.fetched, attempts = 0, error = '',"
                " width = excluded.width, height = excluded.height",
                (url, image.sha1, image.ext, image.data, _iso(utcnow()), image.width, image.height),
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


class RunLockBusy(Exception):
    """Another build or publish holds the cluster's run lock; the message is one line for the user."""


@contextmanager
def cluster_run_lock(url: str, holder: str) -> Iterator[None]:
    """Hold the run lock of a PostgreSQL store for the block: a PostgreSQL advisory lock, so
    runs, builds and publishes on every machine sharing the store take turns. The server
    drops it when the holder's connection ends, even by kill -9: no stale lock to clean up.

    Raises ``RunLockBusy`` at once, naming the holder, when another process holds it.
    """
    try:
        db = PostgresConnection(url, application_name=holder)
    except ImportError as exc:
        raise StoreError(f"{redact(url)}: {exc}") from None
    except _postgres_errors() as exc:
        raise StoreError(f"{redact(url)}: cannot open the store: {_one_line(exc)}") from None
    try:
        if not db.execute("SELECT pg_try_advisory_lock(?)", (RUN_LOCK,)).fetchone()[0]:
            row = db.execute(
                "SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = ? AND l.pid <> pg_backend_pid()",
                (RUN_LOCK,),
            ).fetchone()
            who = f"{row[0] or 'another process'}, since {row[1]:%Y-%m-%d %H:%M:%S %Z}" if row else "another process"
            raise RunLockBusy(
                f"another newsmirror run is still going on the store {redact(url)} ({who}); "
                "this one exits — try again when it has finished"
            )
        yield
    finally:
        db.close()

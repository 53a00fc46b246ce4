"""The SQLite store: every query (the schema and its versions are in ``migrations``).

The store joins the two halves of the pipeline: ``sync`` writes articles into
it and ``build`` reads them out. It runs in WAL mode and every write is one
transaction, so a run killed at any moment leaves it consistent and the next
run carries on from there.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from newsmirror.errors import StoreError
from newsmirror.models import Article, ArticleKey, FeedState, RunRecord, RunSummary, utcnow
from newsmirror.store.migrations import LATEST, MIGRATIONS

if TYPE_CHECKING:
    from newsmirror.image_shrink import ShrunkImage

SaveResult = Literal["new", "updated", "unchanged"]

_ARTICLE_COLUMNS = (
    "site, channel, id, url, title, author, published, fetched, markdown, html, lead_image, content_hash, feed_hash"
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    # fromisoformat reads the "Z" of _iso as UTC, some 10x faster than strptime (a build reads every date).
    return datetime.fromisoformat(text).astimezone(UTC)


def _article(row: sqlite3.Row) -> Article:
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
    )


def _when(text: str | None) -> datetime | None:
    return _parse_iso(text) if text else None


def _feed_state(row: sqlite3.Row) -> FeedState:
    return FeedState(
        site=row["site"],
        channel=row["channel"],
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        checked_at=_when(row["checked_at"]),
        ok=bool(row["ok"]),
        error=row["error"],
        last_success=_when(row["last_success"]),
        failures=row["failures"],
        last_error=row["last_error"],
        last_error_at=_when(row["last_error_at"]),
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

    path: Path
    old: int
    new: int

    def __str__(self) -> str:
        return f"{self.path}: upgraded the store in place from schema version {self.old} to {self.new}"


def _hint(exc: sqlite3.Error) -> str:
    """What to do about a write failure, when the failure says."""
    if "full" in str(exc):
        return "; free some space on its disk, then run again (nothing was half-written)"
    if "readonly" in str(exc) or "read-only" in str(exc):
        return "; make the store file and its folder writable, then run again"
    return ""


class Store:
    """One connection to the store. Not shared between threads."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        # Set when this open upgraded an existing store: the one line to tell the user.
        self.upgraded: SchemaUpgrade | None = None
        try:
            if readonly:
                if not path.exists():
                    raise StoreError(f"{path}: no store yet; run 'newsmirror sync' first")
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
                self._check_version(self._version(), readonly=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
                self._db.execute("PRAGMA busy_timeout=30000")
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the store: {exc}") from None
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout=30000")

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self, version: int, *, readonly: bool = False) -> None:
        if version > LATEST:
            raise StoreError(
                f"{self.path}: this store has schema version {version}, but this newsmirror knows versions up to "
                f"{LATEST}: it was written by a newer release. Upgrade newsmirror (pip install -U newsmirror), "
                "or set mirror.store to another file; a store is never downgraded"
            )
        if readonly and version < LATEST:
            raise StoreError(
                f"{self.path}: this store has schema version {version} and needs upgrading to {LATEST}; "
                "run 'newsmirror sync' once to upgrade it in place"
            )

    def _migrate(self) -> None:
        """Bring the store to the latest schema: every pending migration, in order, in one transaction."""
        if self._version() == LATEST:
            return  # the common case costs one read of the header, no write lock
        self._check_version(self._version())
        try:
            self._db.execute("BEGIN IMMEDIATE")
            version = self._version()  # another process may have upgraded it while we waited for the lock
            self._check_version(version)
            existed = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone()
            for migration in MIGRATIONS:
                if migration.version > version:
                    for step in migration.sqlite:
                        self._db.execute(step)
            # user_version is part of the database header, so it commits (or rolls back) with the steps.
            self._db.execute(f"PRAGMA user_version = {LATEST}")
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"{self.path}: cannot upgrade the store from schema version {self._version()} to {LATEST}: "
                    f"{exc}; the store is unchanged"
                ) from None
            raise
        if existed and version < LATEST:
            self.upgraded = SchemaUpgrade(self.path, version, LATEST)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a database failure (disk full, read-only file,
        corruption) rolls it back and becomes a one-line ``StoreError``."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write to the store: {exc}{_hint(exc)}") from None
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{self.path}: cannot write to the store: {exc}{_hint(exc)}") from None
            raise

    # -- articles ---------------------------------------------------------

    def known_articles(self, site: str, channel: str) -> dict[str, tuple[str, str]]:
        """id → (title, feed_hash) of every stored article of a channel."""
        rows = self._db.execute(
            "SELECT id, title, feed_hash FROM articles WHERE site = ? AND channel = ?", (site, channel)
        )
        return {row["id"]: (row["title"], row["feed_hash"]) for row in rows}

    def save_article(self, article: Article) -> SaveResult:
        """Insert or update one article in its own transaction."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT content_hash, feed_hash FROM articles WHERE site = ? AND channel = ? AND id = ?",
                (article.site, article.channel, article.id),
            ).fetchone()
            if row and row["content_hash"] == article.content_hash:
                if row["feed_hash"] != article.feed_hash:
                    db.execute(
                        "UPDATE articles SET feed_hash = ? WHERE site = ? AND channel = ? AND id = ?",
                        (article.feed_hash, article.site, article.channel, article.id),
                    )
                return "unchanged"
            # One upsert for new and updated articles. An update keeps the original
            # publication time: readers find the article where it was in the index.
            db.execute(
                f"INSERT INTO articles ({_ARTICLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (site, channel, id) DO UPDATE SET url = excluded.url, title = excluded.title,"
                " author = excluded.author, fetched = excluded.fetched, markdown = excluded.markdown,"
                " html = excluded.html, lead_image = excluded.lead_image, content_hash = excluded.content_hash,"
                " feed_hash = excluded.feed_hash",
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
                "DELETE FROM article_failures WHERE site = ? AND channel = ? AND id = ?",
                (article.site, article.channel, article.id),
            )
            return "updated" if row else "new"

    def record_gone(self, key: ArticleKey, feed_hash: str, error: str) -> int:
        """Count one more run in which an article's page was gone; returns the count.
        A changed feed entry starts the count again."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO article_failures (site, channel, id, feed_hash, attempts, error) VALUES (?, ?, ?, ?, 1, ?)"
                " ON CONFLICT (site, channel, id) DO UPDATE SET error = excluded.error,"
                " attempts = CASE WHEN feed_hash = excluded.feed_hash THEN attempts + 1 ELSE 1 END,"
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
            (site, channel, -1 if limit is None else limit),
        )
        return [_article(row) for row in rows]

    def feed_state(self, site: str, channel: str) -> FeedState | None:
        row = self._db.execute("SELECT * FROM feed_state WHERE site = ? AND channel = ?", (site, channel)).fetchone()
        return _feed_state(row) if row else None

    def feed_states(self) -> list[FeedState]:
        """The state of every feed ever checked, by site and channel."""
        return [_feed_state(row) for row in self._db.execute("SELECT * FROM feed_state ORDER BY site, channel")]

    def save_feed_state(self, state: FeedState) -> None:
        """Save one check of a feed. A check that is ``ok`` is the feed's last success and
        ends its run of failures; one that is not counts one more failure in a row and
        becomes its last error (which outlives the recovery, for `status`)."""
        checked = _iso(state.checked_at or utcnow())
        with self._transaction() as db:
            db.execute(
                "INSERT INTO feed_state (site, channel, url, etag, last_modified, checked_at, ok, error,"
                " last_success, failures, last_error, last_error_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (site, channel) DO UPDATE SET url = excluded.url, etag = excluded.etag,"
                " last_modified = excluded.last_modified, checked_at = excluded.checked_at, ok = excluded.ok,"
                " error = excluded.error,"
                " last_success = CASE WHEN excluded.ok THEN excluded.checked_at ELSE last_success END,"
                " failures = CASE WHEN excluded.ok THEN 0 ELSE failures + 1 END,"
                " last_error = CASE WHEN excluded.ok THEN last_error ELSE excluded.error END,"
                " last_error_at = CASE WHEN excluded.ok THEN last_error_at ELSE excluded.checked_at END",
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
                ),
            )

    # -- run log ------------------------------------------------------------

    def start_run(self, command: str) -> int:
        with self._transaction() as db:
            cursor = db.execute("INSERT INTO runs (command, started) VALUES (?, ?)", (command, _iso(utcnow())))
            return int(cursor.lastrowid or 0)

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
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read the store: {exc}") from None

    def add_views(self, day: str, counts: Iterable[tuple[ArticleKey, int]]) -> None:
        """Add view counts for one UTC day (YYYY-MM-DD), in one transaction."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO views (site, channel, id, day, count) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (site, channel, id, day) DO UPDATE SET count = count + excluded.count",
                [(k.site, k.channel, k.id, day, n) for k, n in counts],
            )

    def view_totals(self) -> dict[ArticleKey, int]:
        """Views per article over all days, as the counter saved them (articles since removed included)."""
        rows = self._db.execute("SELECT site, channel, id, sum(count) FROM views GROUP BY site, channel, id")
        return {ArticleKey(site, channel, id_): total for site, channel, id_, total in rows}

    def hot_articles(self, since_day: str, limit: int | None = None) -> list[HotArticle]:
        """Stored articles ranked by views on or after ``since_day`` (YYYY-MM-DD), most viewed first;
        all of them without ``limit``."""
        rows = self._db.execute(
            "SELECT a.site, a.channel, a.id, a.title, a.published, sum(v.count) AS views"
            " FROM views v JOIN articles a ON a.site = v.site AND a.channel = v.channel AND a.id = v.id"
            " WHERE v.day >= ? GROUP BY a.site, a.channel, a.id"
            " ORDER BY views DESC, a.published DESC, a.id LIMIT ?",
            (since_day, -1 if limit is None else limit),
        )
        return [
            HotArticle(ArticleKey(r["site"], r["channel"], r["id"]), r["title"], _parse_iso(r["published"]), r["views"])
            for r in rows
        ]

    # -- build ----------------------------------------------------------------

    def article_heads(self, site: str, channel: str, limit: int | None = None) -> list[ArticleHead]:
        """A channel's articles without their bodies, newest first (the order of ``articles``)."""
        rows = self._db.execute(
            "SELECT site, channel, id, url, title, author, published, fetched, content_hash FROM articles"
            " WHERE site = ? AND channel = ? ORDER BY published DESC, id DESC LIMIT ?",
            (site, channel, -1 if limit is None else limit),
        )
        return [
            ArticleHead(
                ArticleKey(r["site"], r["channel"], r["id"]),
                r["url"],
                r["title"],
                r["author"],
                _parse_iso(r["published"]),
                _parse_iso(r["fetched"]),
                r["content_hash"],
            )
            for r in rows
        ]

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
                "INSERT OR REPLACE INTO build_outputs (output, path, inputs, size, mtime_ns, digest)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(output, path, f.inputs, f.size, f.mtime_ns, f.digest) for path, f in changed.items()],
            )

    # -- images -----------------------------------------------------------------

    def set_article_images(self, key: ArticleKey, urls: Iterable[str]) -> None:
        """Record which image URLs an article shows (replacing what it showed before)."""
        with self._transaction() as db:
            args = (key.site, key.channel, key.id)
            db.execute("DELETE FROM article_images WHERE site = ? AND channel = ? AND id = ?", args)
            db.executemany(
                "INSERT OR IGNORE INTO article_images (site, channel, id, url) VALUES (?, ?, ?, ?)",
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
                "INSERT OR REPLACE INTO images (url, sha1, ext, data, fetched, attempts, error, width, height)"
                " VALUES (?, ?, ?, ?, ?, 0, '', ?, ?)",
                (url, image.sha1, image.ext, image.data, _iso(utcnow()), image.width, image.height),
            )

    def image_failed(self, url: str, error: str) -> int:
        """Count a failed attempt to fetch (or shrink) an image that is not stored; returns the attempts so far."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO images (url, attempts, error) VALUES (?, 1, ?)"
                " ON CONFLICT (url) DO UPDATE SET attempts = attempts + 1, error = excluded.error"
                " WHERE data IS NULL",
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

"""Between Python values and the store's columns: dates as ISO text, rows into records."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from newsmirror.models import Article, ArticleKey, FeedState, RunSummary
from newsmirror.store.records import ArticleHead

ARTICLE_COLUMNS = (
    "site, channel, id, url, title, author, published, fetched, markdown, html, lead_image, content_hash, feed_hash,"
    " updated, deleted"
)
HEAD_COLUMNS = "site, channel, id, url, title, author, published, fetched, content_hash, updated, deleted"


# "No limit" for a LIMIT ? that both databases read (SQLite's -1 is an error in PostgreSQL, NULL in SQLite).
NO_LIMIT = 2**62


def sql_limit(limit: int | None) -> int:
    return NO_LIMIT if limit is None else limit


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def postgres_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.Error,)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    # fromisoformat reads the "Z" of _iso as UTC, some 10x faster than strptime (a build reads every date).
    return datetime.fromisoformat(text).astimezone(UTC)


def article_from_row(row: Any) -> Article:
    return Article(
        site=row["site"],
        channel=row["channel"],
        id=row["id"],
        url=row["url"],
        title=row["title"],
        author=row["author"],
        published=parse_iso(row["published"]),
        fetched=parse_iso(row["fetched"]),
        markdown=row["markdown"],
        html=row["html"],
        lead_image=row["lead_image"],
        content_hash=row["content_hash"],
        feed_hash=row["feed_hash"],
        updated=maybe_iso(row["updated"]),
        deleted=maybe_iso(row["deleted"]),
    )


def maybe_iso(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


def head_from_row(r: sqlite3.Row) -> ArticleHead:
    return ArticleHead(
        ArticleKey(r["site"], r["channel"], r["id"]),
        r["url"],
        r["title"],
        r["author"],
        parse_iso(r["published"]),
        parse_iso(r["fetched"]),
        r["content_hash"],
        maybe_iso(r["updated"]),
        maybe_iso(r["deleted"]),
    )


def feed_state_from_row(row: Any) -> FeedState:
    return FeedState(
        site=row["site"],
        channel=row["channel"],
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        checked_at=maybe_iso(row["checked_at"]),
        ok=bool(row["ok"]),
        error=row["error"],
        last_success=maybe_iso(row["last_success"]),
        failures=row["failures"],
        last_error=row["last_error"],
        last_error_at=maybe_iso(row["last_error_at"]),
        next_due=maybe_iso(row["next_due"]),
        failing_since=maybe_iso(row["failing_since"]),
    )


def run_summary_from_json(text: str) -> RunSummary | None:
    """A run's summary as saved by ``finish_run``; None if it cannot be read (e.g. written by another release)."""
    try:
        data = json.loads(text)
        return RunSummary(**{k: v for k, v in data.items() if k in RunSummary.__dataclass_fields__})
    except (ValueError, TypeError):
        return None


def write_hint(exc: Exception) -> str:
    """What to do about a write failure, when the failure says."""
    if "full" in str(exc) or "No space left" in str(exc):
        return "; free some space on its disk, then run again (nothing was half-written)"
    if "readonly" in str(exc) or "read-only" in str(exc):
        return "; make the store file and its folder writable, then run again"
    return ""

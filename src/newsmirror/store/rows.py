"""Between Python values and the store's columns: dates as ISO text, rows into records."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from newsmirror.models import Article, ArticleKey, FeedState, RunSummary
from newsmirror.store.records import ArticleHead

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ARTICLE_COLUMNS = (
    "site, channel, id, url, title, author, published, fetched, markdown, html, lead_image, content_hash, feed_hash,"
    " updated, deleted"
)
R = TypeVar("R", bound="DataclassInstance")

HEAD_COLUMNS = "site, channel, id, url, title, author, published, fetched, content_hash, updated, deleted"


# "No limit" for a LIMIT ? that both databases read (SQLite's -1 is an error in PostgreSQL, NULL in SQLite).
NO_LIMIT = 2**62


def sql_limit(limit: int | None) -> int:
    return NO_LIMIT if limit is None else limit


def one_line(exc: BaseException) -> str:
    """A database error in one line: PostgreSQL's own message without the statement it quotes."""
    primary = getattr(getattr(exc, "diag", None), "message_primary", None)
    return " ".join((primary or str(exc)).split())


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


def maybe_iso(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


# How columns stored otherwise than they are used are read.
_ARTICLE_COLUMNS_READ = {"published": parse_iso, "fetched": parse_iso, "updated": maybe_iso, "deleted": maybe_iso}
_FEED_STATE_COLUMNS_READ: dict[str, Callable[[Any], Any]] = {
    "ok": bool,
    **dict.fromkeys(("checked_at", "last_success", "last_error_at", "next_due", "failing_since"), maybe_iso),
}


def record_from_row(record: type[R], row: Any, read: Mapping[str, Callable[[Any], Any]]) -> R:
    """A dataclass record whose fields are named as the row's columns; ``read`` converts the columns
    that are not stored as they are used (dates as ISO text, flags as integers)."""
    return record(**{f.name: read.get(f.name, _as_stored)(row[f.name]) for f in fields(record)})


def _as_stored(value: Any) -> Any:
    return value


def article_from_row(row: Any) -> Article:
    return record_from_row(Article, row, _ARTICLE_COLUMNS_READ)


def feed_state_from_row(row: Any) -> FeedState:
    return record_from_row(FeedState, row, _FEED_STATE_COLUMNS_READ)


def head_from_row(row: Any) -> ArticleHead:
    """A row of ``HEAD_COLUMNS``, unpacked in their order (a build reads every kept article's)."""
    site, channel, id_, url, title, author, published, fetched, content_hash, updated, deleted = row
    return ArticleHead(
        ArticleKey(site, channel, id_),
        url,
        title,
        author,
        parse_iso(published),
        parse_iso(fetched),
        content_hash,
        maybe_iso(updated),
        maybe_iso(deleted),
    )


def run_summary_from_json(text: str) -> RunSummary | None:
    """A run's summary as saved by ``finish_run``; None if it cannot be read (e.g. written by another release)."""
    try:
        data = json.loads(text)
        return RunSummary(**{k: v for k, v in data.items() if k in RunSummary.__dataclass_fields__})
    except (ValueError, TypeError):
        return None


def write_hint(exc: Exception, dialect: str) -> str:
    """What to do about a write failure, when the failure says."""
    text = str(exc)
    if "full" in text or "No space left" in text:
        return "; free some space on its disk, then run again (nothing was half-written)"
    if dialect == "postgresql":
        if "read-only transaction" in text:
            return "; this server takes no writes (a standby?): point mirror.store at the primary"
        if "permission denied" in text:
            return "; the store's user must own its database (createdb --owner), then run again"
        return ""
    if "readonly" in text or "read-only" in text:
        return "; make the store file and its folder writable, then run again"
    return ""

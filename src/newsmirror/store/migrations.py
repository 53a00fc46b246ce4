"""The store's schema, as the ordered list of migrations that builds it.

A store records the version of its schema in ``PRAGMA user_version``. Opening a
store applies every migration above that version, in order and in one
transaction, so an older store is upgraded in place on first open (or not at
all, if a step fails) and a new store is built by the same steps. A store
whose version is above the last migration was written by a newer release and
is refused.

To change the schema, append a ``Migration`` with the next version: never
edit one that has been released, since stores in use have already run it.
Each migration is a list of single SQL statements, so that a backend whose
dialect differs (PostgreSQL) can give its own list for the same version.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    summary: str
    # One SQL statement per step, run in order, in SQLite's dialect.
    sqlite: tuple[str, ...]
    # The same steps in PostgreSQL's dialect, for a backend that needs them; None: not written yet.
    postgres: tuple[str, ...] | None = None


# Version 1 is the schema stores had before they carried a version (user_version 0):
# every statement is "IF NOT EXISTS", so it completes such a store and builds a new one alike.
_V1 = (
    """CREATE TABLE IF NOT EXISTS articles (
    site TEXT NOT NULL,
    channel TEXT NOT NULL,
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL,
    fetched TEXT NOT NULL,
    markdown TEXT NOT NULL,
    html TEXT NOT NULL,
    lead_image TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    feed_hash TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (site, channel, id)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS articles_newest ON articles (site, channel, published DESC, id DESC)",
    """CREATE TABLE IF NOT EXISTS feed_state (
    site TEXT NOT NULL,
    channel TEXT NOT NULL,
    url TEXT NOT NULL,
    etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    checked_at TEXT,
    ok INTEGER NOT NULL DEFAULT 1,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (site, channel)
)""",
    """CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    summary TEXT NOT NULL DEFAULT '{}'
)""",
    # Articles whose page answered "gone" (404, 410): after a few runs in a row
    # they are not fetched again, unless their feed entry changes.
    """CREATE TABLE IF NOT EXISTS article_failures (
    site TEXT NOT NULL,
    channel TEXT NOT NULL,
    id TEXT NOT NULL,
    feed_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    PRIMARY KEY (site, channel, id)
) WITHOUT ROWID""",
    # Filled by the view counter: one row per article per UTC day. Nothing that
    # identifies a reader is ever stored.
    """CREATE TABLE IF NOT EXISTS views (
    site TEXT NOT NULL,
    channel TEXT NOT NULL,
    id TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (site, channel, id, day)
) WITHOUT ROWID""",
    # What the last build wrote into an output tree, so the next build skips the
    # files whose inputs did not change (see render/__init__.py). Only a cache:
    # losing it costs one re-render, never a wrong file.
    """CREATE TABLE IF NOT EXISTS build_outputs (
    output TEXT NOT NULL,
    path TEXT NOT NULL,
    inputs TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (output, path)
) WITHOUT ROWID""",
    # Article images copied into the mirror (mirror.images = "copy"), by URL.
    # A failed fetch leaves sha1/data NULL and counts an attempt; later syncs
    # retry it a few times. The build names the file by the SHA-1 of its bytes.
    """CREATE TABLE IF NOT EXISTS images (
    url TEXT PRIMARY KEY,
    sha1 TEXT,
    ext TEXT,
    data BLOB,
    fetched TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
)""",
    # Which image URLs each article's Markdown shows (written by sync).
    """CREATE TABLE IF NOT EXISTS article_images (
    site TEXT NOT NULL,
    channel TEXT NOT NULL,
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (site, channel, id, url)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS article_images_url ON article_images (url)",
)

# Feed health for `newsmirror status`: when a feed last succeeded, how many checks
# in a row failed since, and the last error (kept after the feed recovers).
_FEED_HEALTH = (
    "ALTER TABLE feed_state ADD COLUMN last_success TEXT",
    "ALTER TABLE feed_state ADD COLUMN failures INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE feed_state ADD COLUMN last_error TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE feed_state ADD COLUMN last_error_at TEXT",
    "UPDATE feed_state SET last_success = checked_at WHERE ok = 1",
    "UPDATE feed_state SET failures = 1, last_error = error, last_error_at = checked_at WHERE ok = 0",
)

# Images are stored shrunk, with their size in pixels (the HTML site's <img> carries it).
# NULL: an image stored before, as it came; sync shrinks it on its next run.
_IMAGE_SIZES = (
    "ALTER TABLE images ADD COLUMN width INTEGER",
    "ALTER TABLE images ADD COLUMN height INTEGER",
)

# Version 4: each feed's schedule (schedule.py) and lease (Store.claim_feeds): when it is due,
# since when every poll has failed, whether the config still has it, and which poller holds it
# now, until when.
_SCHEDULE = (
    "ALTER TABLE feed_state ADD COLUMN next_due TEXT",
    "ALTER TABLE feed_state ADD COLUMN failing_since TEXT",
    "ALTER TABLE feed_state ADD COLUMN active INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE feed_state ADD COLUMN lease_owner TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE feed_state ADD COLUMN lease_until TEXT",
    "CREATE INDEX IF NOT EXISTS feed_state_due ON feed_state (active, next_due)",
)

# The archive: earlier versions of an article whose text changed, when each article was last
# checked at its source (and the validators for a conditional recheck), how many checks in a
# row found it gone, and when it was marked deleted; and the SHA-256 of every file of an output
# tree (for SHA256SUMS), so an unchanged file is not read again.
_ARCHIVE = (
    """CREATE TABLE revisions (
    site TEXT NOT NULL,
    channel TEXT NOT NULL,
    id TEXT NOT NULL,
    fetched TEXT NOT NULL,
    title TEXT NOT NULL,
    markdown TEXT NOT NULL,
    PRIMARY KEY (site, channel, id, fetched)
) WITHOUT ROWID""",
    "ALTER TABLE articles ADD COLUMN updated TEXT",
    "ALTER TABLE articles ADD COLUMN checked TEXT",
    "ALTER TABLE articles ADD COLUMN page_etag TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE articles ADD COLUMN page_last_modified TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE articles ADD COLUMN gone_checks INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE articles ADD COLUMN gone_since TEXT",
    "ALTER TABLE articles ADD COLUMN deleted TEXT",
    "CREATE INDEX articles_deleted ON articles (deleted) WHERE deleted IS NOT NULL",
    "CREATE INDEX articles_recheck ON articles (published, checked)",
    """CREATE TABLE tree_hashes (
    output TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (output, path)
) WITHOUT ROWID""",
)

# Version 6: facts about the store as a whole, by name. "markdown_converter": the fingerprint of the
# HTML → Markdown converter that made the stored articles' Markdown (sync makes it again from their
# stored HTML when the converter changes).
_FACTS = ("CREATE TABLE store_facts (name TEXT PRIMARY KEY, value TEXT NOT NULL)",)

# Version 7: what an index or a build reads of every kept article (rows.HEAD_COLUMNS), in the index itself:
# a no-change build of 10,000 articles then reads no article row, whose head columns stand behind
# its body (4x faster on SQLite). It leads with articles_newest's columns, so it replaces it.
_HEADS_INDEX = (
    "CREATE INDEX articles_heads ON articles (site, channel, published DESC, id DESC,"
    " url, title, author, fetched, content_hash, updated, deleted)",
    "DROP INDEX articles_newest",
)

# Version 8: the per-host politeness limit across every poller sharing the store (politeness.py):
# each host's request slots, who holds one and until when; and each feed's host, so that claims
# spread over hosts (Store.claim_feeds).
_HOST_SLOTS = (
    """CREATE TABLE host_slots (
    host TEXT NOT NULL,
    slot INTEGER NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    lease_until TEXT,
    PRIMARY KEY (host, slot)
) WITHOUT ROWID""",
    "CREATE INDEX host_slots_owner ON host_slots (owner)",
    "ALTER TABLE feed_state ADD COLUMN host TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX feed_state_lease ON feed_state (lease_owner)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the schema of stores made before stores carried a version", _V1),
    Migration(2, "feed health: last success, consecutive failures, last error", _FEED_HEALTH),
    Migration(3, "images: width and height of the shrunk copy", _IMAGE_SIZES),
    Migration(4, "feeds polled when due: each feed's next poll and lease", _SCHEDULE),
    Migration(5, "revisions, rechecks, deletions at the source, file hashes for SHA256SUMS", _ARCHIVE),
    Migration(6, "facts about the store: which converter made its Markdown", _FACTS),
    Migration(7, "article heads read from an index, not from the rows that hold the bodies", _HEADS_INDEX),
    Migration(8, "the per-host limit across pollers: host slots, each feed's host", _HOST_SLOTS),
)

LATEST = MIGRATIONS[-1].version

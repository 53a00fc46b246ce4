"""The store's feeds: each one's state after a check, and the schedule that leases due feeds to workers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from newsmirror.models import FeedState, utcnow
from newsmirror.store.base import StoreBase
from newsmirror.store.rows import feed_state_from_row, iso, parse_iso, sql_limit


def feed_host(url: str) -> str:
    """A feed's host, as the HTTP client counts hosts for its per-host limit."""
    return (urlsplit(url).hostname or "").lower()


class FeedQueries(StoreBase):
    """Feed state and scheduling: which feeds are due, and who polls them."""

    def feed_state(self, site: str, channel: str) -> FeedState | None:
        row = self._db.execute("SELECT * FROM feed_state WHERE site = ? AND channel = ?", (site, channel)).fetchone()
        return feed_state_from_row(row) if row else None

    def feed_states(self) -> list[FeedState]:
        """The state of every feed ever checked, by site and channel."""
        return [feed_state_from_row(row) for row in self._db.execute("SELECT * FROM feed_state ORDER BY site, channel")]

    def save_feed_state(self, state: FeedState) -> None:
        """Save one check of a feed, when it is due next, and release its lease. A check that
        is ``ok`` is the feed's last success and ends its run of failures; one that is not
        counts one more failure in a row and becomes its last error (which outlives the
        recovery, for `status`)."""
        checked = iso(state.checked_at or utcnow())
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
                    iso(state.next_due) if state.next_due else None,
                    iso(state.failing_since) if state.failing_since else None,
                ),
            )

    # -- scheduling: which feeds are due, and who polls them ------------------

    def register_feeds(self, feeds: Iterable[tuple[str, str, str]]) -> None:
        """Make (site, channel, feed URL) the configured feeds: new ones are due at once, a feed
        whose URL changed is due again, feeds no longer configured are never claimed."""
        with self._transaction() as db:
            db.execute("UPDATE feed_state SET active = 0 WHERE active = 1")
            db.executemany(
                "INSERT INTO feed_state (site, channel, url, host, active) VALUES (?, ?, ?, ?, 1)"
                " ON CONFLICT (site, channel) DO UPDATE SET active = 1, host = excluded.host,"
                " next_due = CASE WHEN feed_state.url = excluded.url THEN feed_state.next_due ELSE NULL END",
                [(site, channel, url, feed_host(url)) for site, channel, url in feeds],
            )

    def claim_feeds(
        self,
        owner: str,
        *,
        now: datetime,
        lease_until: datetime,
        limit: int | None = None,
        per_host: int | None = None,
        due_only: bool = True,
        sites: Sequence[str] = (),
        channels: Sequence[str] = (),
        take_over: str = "",
    ) -> list[tuple[str, str]]:
        """Lease (site, channel) of configured feeds to ``owner`` until ``lease_until``: those due
        by ``now`` (all with ``due_only=False``) that no one else holds, taking turns between hosts
        (each host's most overdue first, then each host's next…), with at most ``per_host`` feeds
        of one host in ``owner``'s hands, counting those it holds already. So workers share the
        due feeds of a big site instead of the first one taking them all and polling them one
        by one behind the per-host limit.

        Leases run out, so the feeds of a worker that died are claimed again; ``take_over``
        is an owner prefix whose leases (and host slots) are taken at once (another sync's: only
        one runs at a time, so one still holding a lease has died). On PostgreSQL the rows are
        picked ``FOR UPDATE SKIP LOCKED``: workers claiming at the same moment get different feeds.
        """
        moment = iso(now)
        where = ["{t}active = 1", "({t}lease_until IS NULL OR {t}lease_until <= ?"]
        params: list[object] = [moment]
        if take_over:
            where[-1] += " OR substr({t}lease_owner, 1, ?) = ?"
            params += [len(take_over), take_over]
        where[-1] += ")"
        if due_only:
            where.append("({t}next_due IS NULL OR {t}next_due <= ?)")
            params.append(moment)
        for column, values in (("site", sites), ("channel", channels)):
            if values:
                where.append(f"{{t}}{column} IN ({', '.join('?' * len(values))})")
                params += values
        claimable = " AND ".join(where)
        # A feed's turn: its rank among the claimable feeds of its host, after those of the host
        # the owner holds already.
        turn = "r.turn + coalesce(h.held, 0)"
        with self._transaction() as db:
            if take_over:
                db.execute(
                    "UPDATE host_slots SET owner = '', lease_until = NULL WHERE substr(owner, 1, ?) = ?",
                    (len(take_over), take_over),
                )
            # The conditions are asked of f again: on PostgreSQL, a row another worker claimed
            # since this statement began is locked only once that one commits, and is then
            # checked again, as it is now, against f's conditions (not the ranking's).
            rows = db.execute(
                "UPDATE feed_state SET lease_owner = ?, lease_until = ? WHERE (site, channel) IN ("
                "SELECT f.site, f.channel FROM feed_state f JOIN ("
                " SELECT site, channel, row_number() OVER"
                " (PARTITION BY host ORDER BY next_due IS NOT NULL, next_due, site, channel) AS turn"
                f" FROM feed_state WHERE {claimable.format(t='')}"
                ") r ON r.site = f.site AND r.channel = f.channel LEFT JOIN ("
                " SELECT host, count(*) AS held FROM feed_state WHERE lease_owner = ? AND lease_until > ? GROUP BY host"
                f") h ON h.host = f.host WHERE {claimable.format(t='f.')} AND {turn} <= ?"
                f" ORDER BY {turn}, f.next_due IS NOT NULL, f.next_due, f.site, f.channel"
                f" LIMIT ?{db.skip_locked('f')})"
                " RETURNING site, channel",
                [owner, iso(lease_until), *params, owner, moment, *params, sql_limit(per_host), sql_limit(limit)],
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def renew_leases(self, owner: str, lease_until: datetime) -> int:
        """Extend every lease ``owner`` holds (feeds and host slots); returns how many feeds it holds."""
        with self._transaction() as db:
            db.execute("UPDATE host_slots SET lease_until = ? WHERE owner = ?", (iso(lease_until), owner))
            rows = db.execute(
                "UPDATE feed_state SET lease_until = ? WHERE lease_owner = ? RETURNING site",
                (iso(lease_until), owner),
            ).fetchall()
        return len(rows)

    def release_feeds(self, owner: str) -> None:
        """Give back whatever ``owner`` still holds, feeds and host slots (a worker that stops)."""
        with self._transaction() as db:
            db.execute("UPDATE feed_state SET lease_owner = '', lease_until = NULL WHERE lease_owner = ?", (owner,))
            db.execute("UPDATE host_slots SET owner = '', lease_until = NULL WHERE owner = ?", (owner,))

    def next_due(self, now: datetime) -> datetime | None:
        """When a configured feed may next be claimed: the first due time of those no one holds, or
        the end of a lease (its holder may have died); ``now`` when one is due already, None when
        none is configured."""
        row = self._db.execute(
            "SELECT min(CASE WHEN lease_until > ? THEN lease_until ELSE coalesce(next_due, '') END)"
            " FROM feed_state WHERE active = 1",
            (iso(now),),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return max(parse_iso(row[0]), now) if row[0] else now

    def published_times(self, site: str, channel: str, limit: int) -> list[datetime]:
        """When a channel's newest articles were published: its rhythm, for the schedule."""
        rows = self._db.execute(
            "SELECT published FROM articles WHERE site = ? AND channel = ? ORDER BY published DESC LIMIT ?",
            (site, channel, limit),
        )
        return [parse_iso(row[0]) for row in rows]

    def failing_feeds(self, since: datetime) -> list[FeedState]:
        """Configured feeds that have failed every poll since before ``since``, longest failing first."""
        rows = self._db.execute(
            "SELECT site, channel FROM feed_state WHERE active = 1 AND failing_since IS NOT NULL"
            " AND failing_since <= ? ORDER BY failing_since, site, channel",
            (iso(since),),
        ).fetchall()
        return [state for site, channel in rows if (state := self.feed_state(site, channel))]

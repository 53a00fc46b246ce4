"""The store's host slots: the per-host politeness limit across every poller sharing the store."""

from __future__ import annotations

from datetime import datetime

from newsmirror.store.base import StoreBase
from newsmirror.store.rows import iso


class HostSlotQueries(StoreBase):
    """Each host's request slots: which poller holds one, until when (see ``politeness.py``)."""

    # Hosts whose first N slot rows exist (take_host_slot makes them on first use).
    _host_slots: dict[str, int]

    def take_host_slot(self, host: str, owner: str, *, limit: int, now: datetime, lease_until: datetime) -> int | None:
        """One of ``host``'s first ``limit`` request slots for ``owner`` until ``lease_until`` (or
        until ``give_host_slot``), or None when every one is held: the per-host limit across
        every process sharing the store. A slot whose lease ran out (its holder died) is free."""
        if self._host_slots.get(host, 0) < limit:
            with self._transaction() as db:
                db.executemany(
                    "INSERT INTO host_slots (host, slot) VALUES (?, ?) ON CONFLICT (host, slot) DO NOTHING",
                    [(host, slot) for slot in range(limit)],
                )
            self._host_slots[host] = limit
        with self._transaction() as db:
            row = db.execute(
                "UPDATE host_slots SET owner = ?, lease_until = ? WHERE (host, slot) IN ("
                "SELECT s.host, s.slot FROM host_slots s WHERE s.host = ? AND s.slot < ?"
                " AND (s.owner = '' OR s.lease_until <= ?)"
                f" ORDER BY s.slot LIMIT 1{db.skip_locked('s')}) RETURNING slot",
                (owner, iso(lease_until), host, limit, iso(now)),
            ).fetchone()
        return None if row is None else int(row[0])

    def give_host_slot(self, host: str, slot: int, owner: str) -> None:
        """Give back a slot ``take_host_slot`` gave ``owner`` (if it still holds it)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE host_slots SET owner = '', lease_until = NULL WHERE host = ? AND slot = ? AND owner = ?",
                (host, slot, owner),
            )

    def host_slots_held(self, now: datetime) -> dict[str, int]:
        """How many request slots of each host are held at ``now``, by every process."""
        rows = self._db.execute(
            "SELECT host, count(*) FROM host_slots WHERE owner <> '' AND lease_until > ? GROUP BY host",
            (iso(now),),
        ).fetchall()
        return {row[0]: int(row[1]) for row in rows}

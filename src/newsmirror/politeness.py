"""The per-host politeness limit across every process that shares a store.

``http.per_host`` bounds the requests in flight to one host. Within a process
the HTTP client's own semaphores keep it; across processes (any number of
``worker``s, a ``sync`` beside them) each request also holds one of the host's
slots in the store (``Store.take_host_slot``) for as long as it is in flight.
A slot is taken under a lease that the poller renews with its feed leases
(``Store.renew_leases``), so a process killed with -9 holds its slots only
until the lease runs out. The limit is the taker's own ``per_host``: workers
with different configs each keep theirs.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from newsmirror.models import utcnow
from newsmirror.store import Store

# How long a request waits before asking again for a busy host's slot: short at first (a request
# to a news site takes tens of milliseconds), doubling up to a bound, with jitter so that waiting
# processes do not ask in step.
FIRST_WAIT = 0.01
LONGEST_WAIT = 0.25


class HostSlots:
    """``hold(host)``: wait for one of ``host``'s ``per_host`` slots in the store and keep it for the block."""

    def __init__(self, store: Store, owner: str, per_host: int, lease: timedelta) -> None:
        self.store = store
        self.owner = owner
        self.per_host = per_host
        self.lease = lease

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[int]:
        wait = FIRST_WAIT
        while True:
            now = utcnow()
            slot = self.store.take_host_slot(
                host, self.owner, limit=self.per_host, now=now, lease_until=now + self.lease
            )
            if slot is not None:
                break
            await asyncio.sleep(wait * random.uniform(0.5, 1.5))
            wait = min(wait * 2, LONGEST_WAIT)
        try:
            yield slot
        finally:
            self.store.give_host_slot(host, slot, self.owner)

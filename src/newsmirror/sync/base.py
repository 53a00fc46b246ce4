"""What the sync's stages share: the run's config, store, HTTP client, summary and per-host limits."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from concurrent.futures import Executor
from dataclasses import dataclass, field

from newsmirror.config import Config
from newsmirror.http import HttpClient
from newsmirror.image_fetch import ImageFetcher
from newsmirror.models import RunSummary
from newsmirror.store import Store
from newsmirror.sync.outcomes import SyncProgress

# A page answering "gone" in this many runs in a row is not asked for again (until
# its feed entry changes): otherwise its feed could never be answered 304, and the
# same error would be logged every run, teaching operators to ignore errors.
GIVE_UP_AFTER = 3
GONE_STATUSES = {404, 410}
# A recheck redirected to another page still shows the article when that page's title is this
# close to the stored one; otherwise it went to a home or search page: the article is gone.
SAME_TITLE = 0.6


@dataclass(eq=False)
class SyncBase:
    """One sync run's shared state: what every stage reads, and the summary they all add to."""

    config: Config
    store: Store
    http: HttpClient
    progress: SyncProgress
    executor: Executor | None
    summary: RunSummary = field(default_factory=RunSummary, init=False)
    # Rechecks started by this poller, however long it runs: counted against recheck_share.
    rechecks_started: int = field(default=0, init=False)
    # Articles worked on at a time, per host.
    _in_progress: defaultdict[str, asyncio.Semaphore] = field(init=False)
    images: ImageFetcher | None = field(init=False)  # None: the mirror links images, it does not copy them

    def __post_init__(self) -> None:
        per_host = 2 * self.config.http.per_host
        self._in_progress = defaultdict(lambda: asyncio.Semaphore(per_host))
        mirror = self.config.mirror
        self.images = (
            ImageFetcher(
                self.store,
                self.http,
                self.progress.warning,
                max_bytes=mirror.image_max_bytes,
                max_width=mirror.image_max_width,
                budget=mirror.image_budget,
                attempts=mirror.image_attempts,
            )
            if mirror.images == "copy"
            else None
        )

    def _error(self, message: str) -> str:
        self.summary.errors.append(message)
        return message

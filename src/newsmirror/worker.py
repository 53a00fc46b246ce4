"""`newsmirror worker`: a long-running poller that takes each feed the moment it is due.

A worker claims due feeds from the store under a lease (``Store.claim_feeds``),
polls them with the same code as ``sync``, and sleeps until the next one falls
due. As its feeds are polled it also rechecks recent articles, as ``sync``
does, within the same share of its requests (``mirror.recheck_share``), so a
mirror run by workers catches edits and deletions at the source too. Any number
of workers share a PostgreSQL store: each claim skips the feeds another holds,
and a worker that dies (even by kill -9) stops renewing its leases, so its
feeds are claimed again once the lease runs out. SIGTERM (or Ctrl-C) stops
claiming, lets the feeds in hand finish with their articles, gives back the
leases and returns.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import timedelta

from newsmirror.config import ChannelConfig, Config, SiteConfig
from newsmirror.http import HttpClient
from newsmirror.models import RunSummary, utcnow
from newsmirror.politeness import HostSlots
from newsmirror.store import Store
from newsmirror.sync import Syncer, SyncProgress, configured_feeds, failing_lines, leases_kept
from newsmirror.sync.markdown_upkeep import remake_markdown

# A worker with nothing due looks again at least this often: another process may add feeds.
IDLE_CHECK = timedelta(seconds=60)
# How often a worker logs what it did (and names the feeds failing for over a day).
REPORT_EVERY = timedelta(minutes=10)


async def work(
    config: Config,
    store: Store,
    *,
    owner: str,
    progress: SyncProgress,
    report: Callable[[RunSummary], None],
    stop: asyncio.Event,
    executor: Executor | None = None,
    take_over: str = "",
) -> RunSummary:
    """Poll due feeds until ``stop`` is set; ``report`` gets a summary every REPORT_EVERY and at the end.
    ``take_over``: an owner prefix whose leases are taken at once (a dead worker's, on SQLite)."""
    store.register_feeds(configured_feeds(config))
    channels = {(site.id, channel.id): (site, channel) for site in config.sites for channel in site.channels}
    everything = list(channels.values())
    lease = timedelta(seconds=config.schedule.lease)
    # Enough feeds in hand to keep every HTTP slot busy, not so many that others' due feeds wait on us.
    target = max(4, 2 * config.http.concurrency)
    total = RunSummary()
    # http.per_host holds across every worker: each request holds one of its host's slots in the store.
    gate = HostSlots(store, owner, config.http.per_host, lease)
    async with HttpClient(config.http, gate=gate) as http, leases_kept(store, owner, lease):
        syncer = Syncer(config, store, http, progress, executor)
        syncer.summary.remade = await remake_markdown(config, store, executor)
        tasks: set[asyncio.Task[None]] = set()
        stopping = asyncio.create_task(stop.wait())
        reported = utcnow()
        rechecking: asyncio.Task[None] | None = None
        requests = 0  # the requests made when rechecks were last considered: only new ones allow more
        try:
            while not stop.is_set():
                now = utcnow()
                if len(tasks) <= target // 2:
                    # No more of one host's feeds than it may poll at once: the others are left to other workers.
                    claimed = store.claim_feeds(
                        owner,
                        now=now,
                        lease_until=now + lease,
                        limit=target - len(tasks),
                        per_host=config.http.per_host,
                        take_over=take_over,
                    )
                    take_over = ""
                    for key in claimed:
                        if key in channels:  # a feed only another worker's config has is left to its lease
                            tasks.add(asyncio.create_task(syncer.channel(*channels[key])))
                if (rechecking is None or rechecking.done()) and http.requests > requests:
                    requests = http.requests
                    rechecking = asyncio.create_task(syncer.recheck(everything))
                    tasks.add(rechecking)
                if now - reported >= REPORT_EVERY:
                    await syncer.retry_images(everything)
                    _report(syncer, total, report, store, everything)
                    reported = now
                timeout: float | None = None
                if len(tasks) <= target // 2:
                    due = store.next_due(utcnow())
                    wait = IDLE_CHECK if due is None else min(max(due - utcnow(), timedelta(0)), IDLE_CHECK)
                    timeout = max(wait.total_seconds(), 0.05)
                done, _ = await asyncio.wait([*tasks, stopping], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                finished = [task for task in done if task is not stopping]
                tasks.difference_update(finished)  # type: ignore[arg-type]
                # A store failure stops the worker (systemd restarts it). Every finished task's
                # outcome is taken, so a second failure is not logged as "never retrieved".
                failures = [task.exception() for task in finished if not task.cancelled()]
                for failure in failures:
                    if failure is not None:
                        raise failure
            # Stopping: the feeds in hand finish, with their articles (and the rechecks in hand).
            if tasks:
                await asyncio.gather(*tasks)
        finally:
            stopping.cancel()
            for task in tasks:
                task.cancel()
            # Let them unwind and take their outcomes: a lost store fails them all at once.
            await asyncio.gather(*tasks, return_exceptions=True)
            store.release_feeds(owner)
    _report(syncer, total, report, store, everything)
    return total


def _report(
    syncer: Syncer,
    total: RunSummary,
    report: Callable[[RunSummary], None],
    store: Store,
    chosen: list[tuple[SiteConfig, ChannelConfig]],
) -> None:
    period = syncer.summary
    period.failing = failing_lines(store, chosen)
    report(period)
    for name in (
        "feeds_ok",
        "feeds_unchanged",
        "feeds_failed",
        "new",
        "updated",
        "skipped",
        "failed",
        "rechecked",
        "deleted",
    ):
        setattr(total, name, getattr(total, name) + getattr(period, name))
    total.errors += period.errors
    syncer.summary = RunSummary()


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT set ``stop``; a second one of them is not needed (the feeds in hand finish)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

"""Ingest: every channel's feed → new or changed items → article pages → the store.

The only part of newsmirror that talks to the news sites. Each article is
saved in its own transaction as soon as it is ready, and a feed's ETag is only
remembered once every item of that feed is stored, so a run killed at any
moment is completed by the next one: the feed is read again and whatever is
already stored is skipped.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import Executor
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from newsmirror.config import ChannelConfig, Config, SiteConfig
from newsmirror.http import HttpClient
from newsmirror.layout import channel_label
from newsmirror.models import RunSummary, utcnow
from newsmirror.politeness import HostSlots
from newsmirror.schedule import FAILING_INTERVAL, FAILING_NAMED_AFTER
from newsmirror.store import Store
from newsmirror.sync.articles import needs_fetch
from newsmirror.sync.base import GIVE_UP_AFTER
from newsmirror.sync.feed_loop import Syncer
from newsmirror.sync.markdown_upkeep import remake_markdown
from newsmirror.sync.outcomes import ArticleOutcome, FeedOutcome, Silent, SyncProgress, together

__all__ = [
    "GIVE_UP_AFTER",
    "ArticleOutcome",
    "FeedOutcome",
    "SyncProgress",
    "Syncer",
    "configured_feeds",
    "failing_lines",
    "leases_kept",
    "needs_fetch",
    "owner_name",
    "select_channels",
    "sync",
    "together",
]


def select_channels(
    config: Config, sites: Iterable[str] = (), channels: Iterable[str] = ()
) -> list[tuple[SiteConfig, ChannelConfig]]:
    """The (site, channel) pairs a run covers; empty filters mean all."""
    site_ids, channel_ids = set(sites), set(channels)
    unknown = site_ids - {s.id for s in config.sites}
    if unknown:
        raise ValueError(f"no site {sorted(unknown)[0]!r} in the config")
    chosen = [
        (site, channel)
        for site in config.sites
        if not site_ids or site.id in site_ids
        for channel in site.channels
        if not channel_ids or channel.id in channel_ids
    ]
    if channel_ids and not chosen:
        raise ValueError(f"no channel {sorted(channel_ids)[0]!r} in the selected sites")
    return chosen


def configured_feeds(config: Config) -> list[tuple[str, str, str]]:
    """(site, channel, feed or listing URL) of every channel in the config."""
    return [
        (site.id, channel.id, channel.feed or channel.listing or "")
        for site in config.sites
        for channel in site.channels
    ]


def owner_name(kind: str) -> str:
    """Who holds a lease: the kind of process, its host and its pid (one line for a log)."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"


def failing_lines(store: Store, chosen: Iterable[tuple[SiteConfig, ChannelConfig]]) -> list[str]:
    """One line for each chosen feed that has failed every poll for over a day."""
    wanted = {(site.id, channel.id) for site, channel in chosen}
    lines = []
    for state in store.failing_feeds(utcnow() - FAILING_NAMED_AFTER):
        if (state.site, state.channel) in wanted and state.failing_since:
            since = state.failing_since.strftime("%Y-%m-%d %H:%M UTC")
            lines.append(
                f"feed {channel_label(state.site, state.channel)} has failed every poll since {since} "
                f"({state.failures} polls); "
                f"it is tried about every {FAILING_INTERVAL.total_seconds() / 3600:.0f} h until it answers. "
                f"Last error: {state.error}"
            )
    return lines


@asynccontextmanager
async def leases_kept(store: Store, owner: str, lease: timedelta) -> AsyncIterator[None]:
    """Renew ``owner``'s leases while the block runs, so a live poller keeps its feeds however long
    they take; a dead one stops renewing and its feeds are claimed again when the lease runs out."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            store.renew_leases(owner, utcnow() + lease)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def sync(
    config: Config,
    store: Store,
    *,
    sites: Iterable[str] = (),
    channels: Iterable[str] = (),
    progress: SyncProgress | None = None,
    executor: Executor | None = None,
    all_feeds: bool = False,
) -> RunSummary:
    """Sync the selected channels (all by default) that are due into the store; with
    ``all_feeds``, every selected channel whether due or not."""
    sites, channels = list(sites), list(channels)
    chosen = select_channels(config, sites, channels)
    progress = progress or Silent()
    run_id = store.start_run("sync")
    store.register_feeds(configured_feeds(config))
    owner = owner_name("sync")
    lease = timedelta(seconds=config.schedule.lease)
    now = utcnow()
    # Only one sync runs at a time (the run lock), so a lease another sync still holds is a dead one's.
    claimed = set(
        store.claim_feeds(
            owner,
            now=now,
            lease_until=now + lease,
            due_only=not all_feeds,
            sites=sites,
            channels=channels,
            take_over="sync:",
        )
    )
    due = [(site, channel) for site, channel in chosen if (site.id, channel.id) in claimed]
    # How many feeds this sync polls, for a display that shows it (optional: most progress sinks don't care).
    if polling := getattr(progress, "polling", None):
        polling(len(due))
    try:
        gate = HostSlots(store, owner, config.http.per_host, lease)
        async with HttpClient(config.http, gate=gate) as http, leases_kept(store, owner, lease):
            syncer = Syncer(config, store, http, progress, executor)
            syncer.summary.feeds_not_due = len(chosen) - len(due)
            # Before any new article: a fresh store (nothing to convert) only records the converter.
            syncer.summary.remade = await remake_markdown(config, store, executor)
            await together(syncer.channel(site, channel) for site, channel in due)
            await syncer.recheck(chosen)
            await syncer.retry_images(chosen)
    finally:
        store.release_feeds(owner)
    syncer.summary.failing = failing_lines(store, chosen)
    store.finish_run(run_id, syncer.summary)
    return syncer.summary

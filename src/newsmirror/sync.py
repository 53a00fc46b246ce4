"""Ingest: every channel's feed → new or changed items → article pages → the store.

The only part of newsmirror that talks to the news sites. Each article is
saved in its own transaction as soon as it is ready, and a feed's ETag is only
remembered once every item of that feed is stored, so a run killed at any
moment is completed by the next one: the feed is read again and whatever is
already stored is skipped.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import math
import os
import socket
from collections import defaultdict
from collections.abc import AsyncIterator, Coroutine, Iterable
from concurrent.futures import Executor
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

from newsmirror.config import ChannelConfig, Config, SiteConfig
from newsmirror.errors import StoreError, unexpected
from newsmirror.extract import ExtractionError, SiteRules, extract_article, extract_fragment
from newsmirror.feeds import FeedError, FeedItem, ParsedFeed, parse_feed, parse_listing
from newsmirror.http import FetchError, HttpClient
from newsmirror.image_fetch import ImageFetcher, image_urls
from newsmirror.layout import article_label, channel_label
from newsmirror.models import Article, ArticleKey, FeedState, RunSummary, canonical_url, utcnow
from newsmirror.schedule import FAILING_INTERVAL, FAILING_NAMED_AFTER, RHYTHM_SAMPLE, Poll, next_due
from newsmirror.store import GONE_CHECKS, Recheck, Store
from newsmirror.words import counted

# A page answering "gone" in this many runs in a row is not asked for again (until
# its feed entry changes): otherwise its feed could never be answered 304, and the
# same error would be logged every run, teaching operators to ignore errors.
GIVE_UP_AFTER = 3
_GONE = {404, 410}
# A recheck redirected to another page still shows the article when that page's title is this
# close to the stored one; otherwise it went to a home or search page: the article is gone.
_SAME_TITLE = 0.6

log = logging.getLogger(__name__)
T = TypeVar("T")

FeedOutcome = Literal["ok", "unchanged", "failed"]
ArticleOutcome = Literal["new", "updated", "unchanged", "failed"]


class SyncProgress(Protocol):
    """What a sync reports as it goes; the CLI shows it."""

    def feed(self, label: str, outcome: FeedOutcome, detail: str = "") -> None: ...
    def found(self, count: int) -> None: ...
    def article(self, label: str, outcome: ArticleOutcome, detail: str = "") -> None: ...
    def warning(self, message: str) -> None: ...


class _Silent:
    def feed(self, label: str, outcome: FeedOutcome, detail: str = "") -> None: ...
    def found(self, count: int) -> None: ...
    def article(self, label: str, outcome: ArticleOutcome, detail: str = "") -> None: ...
    def warning(self, message: str) -> None: ...
    def polling(self, feeds: int) -> None: ...


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


async def together(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently and return the results in order. Each feed, article and
    image catches its own failures; what escapes (the store failing: a full disk)
    cancels the others and is raised as itself, so the run stops cleanly."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


def needs_fetch(item: FeedItem, stored: tuple[str, str] | None, update_markers: Iterable[str]) -> bool:
    """Fetch an item that is new, whose feed entry changed, or whose title now
    carries an update marker (e.g. 更新) it did not carry when stored."""
    if stored is None:
        return True
    title, feed_hash = stored
    if feed_hash != item.feed_hash:
        return True
    return title != item.title and any(marker in item.title for marker in update_markers)


class Syncer:
    def __init__(
        self, config: Config, store: Store, http: HttpClient, progress: SyncProgress, executor: Executor | None
    ) -> None:
        self.config = config
        self.store = store
        self.http = http
        self.progress = progress
        self.executor = executor
        self.summary = RunSummary()
        per_host = 2 * config.http.per_host
        self._in_progress: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_host))
        copy = config.mirror.images == "copy"
        mirror = config.mirror
        self.images = (
            ImageFetcher(
                store,
                http,
                progress.warning,
                max_bytes=mirror.image_max_bytes,
                max_width=mirror.image_max_width,
                budget=mirror.image_budget,
                attempts=mirror.image_attempts,
            )
            if copy
            else None
        )

    def _error(self, message: str) -> str:
        self.summary.errors.append(message)
        return message

    async def channel(self, site: SiteConfig, channel: ChannelConfig) -> None:
        """Sync one channel; anything unexpected in it is one error line naming the feed."""
        try:
            await self._channel(site, channel)
        except StoreError:
            raise
        except Exception as exc:
            label = channel_label(site.id, channel.id)
            log.debug("feed %s", label, exc_info=exc)
            self.summary.feeds_failed += 1
            detail = self._error(f"feed {label} ({channel.feed or channel.listing}): {unexpected(exc)}")
            self.progress.feed(label, "failed", detail)

    async def _channel(self, site: SiteConfig, channel: ChannelConfig) -> None:
        label = channel_label(site.id, channel.id)
        source = channel.feed or channel.listing or ""
        previous = self.store.feed_state(site.id, channel.id) or FeedState(site.id, channel.id, source)
        conditional = previous.ok and previous.url == source
        try:
            response = await self.http.get(
                source,
                etag=previous.etag if conditional else "",
                last_modified=previous.last_modified if conditional else "",
            )
            if response.not_modified:
                self.summary.feeds_unchanged += 1
                self.progress.feed(label, "unchanged")
                # A 304 is a success too: `status` counts the feed as current.
                self._polled(previous, Poll(ok=True, max_age=response.max_age), previous.etag, previous.last_modified)
                return
            parsed: ParsedFeed
            if channel.feed:
                parsed = parse_feed(response.content, response.url, response.content_type)
            else:
                parsed = parse_listing(response.content, response.url, channel.links or "a", response.content_type)
        except (FetchError, FeedError) as exc:
            self.summary.feeds_failed += 1
            # A FetchError names the URL already; a FeedError does not.
            where = label if isinstance(exc, FetchError) else f"{label} ({source})"
            detail = self._error(f"feed {where}: {exc}")
            self.progress.feed(label, "failed", detail)
            retry_after = exc.retry_after if isinstance(exc, FetchError) else None
            self._polled(replace(previous, url=source), Poll(ok=False, retry_after=retry_after), error=detail)
            return
        self.summary.feeds_ok += 1
        if parsed.warning:
            self.progress.warning(f"feed {label}: {parsed.warning}")

        # Entries without a link have no page: only their text in the feed can be had.
        from_feed = [item for item in parsed.unlinked if item.content] if site.body_from_feed else []
        entries = parsed.items + from_feed
        if len(parsed.unlinked) > len(from_feed):
            why = (
                "and no content in the feed"
                if site.body_from_feed
                else f"skipped (with body_from_feed = true for site {site.id!r}, they are taken from the feed)"
            )
            count = len(parsed.unlinked) - len(from_feed)
            self.progress.warning(f"feed {label}: {count} entries without a link, {why}")
        items = [i for i in entries if not any(word in i.title for word in site.skip_titles_matching)]
        known = self.store.known_articles(site.id, channel.id)
        given_up = self.store.given_up(site.id, channel.id, GIVE_UP_AFTER)
        todo = []
        for item in items:
            key = item.key
            if needs_fetch(item, known.get(key), site.update_markers) and given_up.get(key) != item.feed_hash:
                todo.append(item)
        self.summary.skipped += len(entries) - len(todo)
        self.progress.feed(label, "ok", f"{counted(len(entries), 'item')}, {len(todo)} to fetch")
        self.progress.found(len(todo))
        rules = SiteRules.from_site(site)
        results = await together(self.article(site, channel, rules, item) for item in todo)
        # Remember the feed's validators only once all its items are stored:
        # otherwise the next run would get a 304 and never retry the failures.
        complete = all(outcome != "failed" for outcome in results) and not parsed.warning
        self._polled(
            replace(previous, url=source),
            Poll(ok=True, max_age=response.max_age),
            response.etag if complete else "",
            response.last_modified if complete else "",
            error="" if complete else "some items failed; the feed is read again next run",
        )

    def _polled(self, state: FeedState, poll: Poll, etag: str = "", last_modified: str = "", error: str = "") -> None:
        """Record a poll of a feed and when it is due next: at its publishing rhythm, or backing off
        after a failure; a feed whose items failed is read again after min_interval."""
        now = utcnow()
        failures = 0 if poll.ok else state.failures + 1
        if not poll.ok:
            due = next_due(self.config.schedule, poll, now=now, failures=failures)
        elif error:
            due = now + timedelta(seconds=self.config.schedule.min_interval)
        else:
            published = self.store.published_times(state.site, state.channel, RHYTHM_SAMPLE)
            due = next_due(self.config.schedule, poll, now=now, published=published)
        self.store.save_feed_state(
            replace(
                state,
                etag=etag,
                last_modified=last_modified,
                checked_at=now,
                ok=poll.ok,
                error=error,
                next_due=due,
                failures=failures,
                failing_since=None if poll.ok else (state.failing_since or now),
            )
        )

    async def article(
        self, site: SiteConfig, channel: ChannelConfig, rules: SiteRules, item: FeedItem
    ) -> ArticleOutcome:
        # Every item gets a task at once, but only a few articles per host are worked
        # on at a time: otherwise fetched pages would wait in memory for their images
        # behind the page requests of every other item (memory growing with the feeds).
        # Per host, like the HTTP limits, so one big site cannot hold up the others.
        async with self._in_progress[urlsplit(item.link).netloc]:
            try:
                return await self._article(site, channel, rules, item)
            except StoreError:
                raise
            except Exception as exc:
                # A bug meeting a hostile page must cost that article, not the run.
                label = article_label(ArticleKey(site.id, channel.id, item.key))
                log.debug("article %s", label, exc_info=exc)
                self.summary.failed += 1
                detail = self._error(f"article {label} ({item.link}): {unexpected(exc)}")
                self.progress.article(label, "failed", detail)
                return "failed"

    async def _article(
        self, site: SiteConfig, channel: ChannelConfig, rules: SiteRules, item: FeedItem
    ) -> ArticleOutcome:
        key = item.key
        label = article_label(ArticleKey(site.id, channel.id, key))
        policy = self.config.mirror.outbound_links
        loop = asyncio.get_running_loop()
        validators: dict[str, str] = {}
        try:
            if site.body_from_feed and item.content:
                extracted = await loop.run_in_executor(
                    self.executor, extract_fragment, item.content, item.link, rules, policy
                )
            else:
                response = await self.http.get(item.link)
                validators = {"etag": response.etag, "last_modified": response.last_modified}
                extracted = await loop.run_in_executor(
                    self.executor, extract_article, response.text, response.url, rules, policy
                )
        except (FetchError, ExtractionError) as exc:
            gone = isinstance(exc, FetchError) and exc.status in _GONE
            # A stored article whose page is gone: a check toward a deletion at the source, not a failure.
            if gone and self._gone(ArticleKey(site.id, channel.id, key), label, str(exc)):
                return "unchanged"
            self.summary.failed += 1
            where = label if isinstance(exc, FetchError) else f"{label} ({item.link})"
            detail = f"article {where}: {exc}"
            if isinstance(exc, FetchError) and exc.status in _GONE:
                tries = self.store.record_gone(ArticleKey(site.id, channel.id, key), item.feed_hash, str(exc))
                if tries >= GIVE_UP_AFTER:
                    detail += f" ({tries} runs in a row: not asked for again unless its feed entry changes)"
            self._error(detail)
            self.progress.article(label, "failed", detail)
            return "failed"
        now = utcnow()
        article = Article(
            site=site.id,
            channel=channel.id,
            id=key,
            url=item.link,
            title=item.title if item.title != item.link else (extracted.title or item.title),
            author=extracted.author or item.author,
            published=item.published or extracted.published or now,
            fetched=now,
            markdown=extracted.markdown,
            html=extracted.html,
            lead_image=extracted.lead_image,
            feed_hash=item.feed_hash,
        )
        outcome = self.store.save_article(article, **validators)
        images = image_urls(article.markdown)
        if outcome != "unchanged":
            self.store.set_article_images(article.key, images)
        if self.images:
            # A failed image is a warning: the article is stored and keeps the image's original URL.
            await self.images.fetch(label, images)
        if outcome == "new":
            self.summary.new += 1
        elif outcome == "updated":
            self.summary.updated += 1
        else:
            self.summary.skipped += 1
        self.progress.article(label, outcome)
        return outcome

    def _gone(self, key: ArticleKey, label: str, reason: str) -> bool:
        """Count a check that found a stored article's page gone; False: the article is not stored."""
        check = self.store.record_gone_check(key, utcnow())
        if check is None:
            return False
        if check.deleted:
            self.summary.deleted += 1
            self.progress.warning(
                f"article {label}: deleted at the source ({reason}; gone since {check.gone_since:%Y-%m-%d}); "
                "the mirror keeps it"
            )
        elif check.checks < GONE_CHECKS:
            self.progress.warning(
                f"article {label}: gone at the source ({reason}), check {check.checks} of {GONE_CHECKS} "
                "before it is marked deleted"
            )
        return True

    async def recheck(self, chosen: Iterable[tuple[SiteConfig, ChannelConfig]]) -> None:
        """Fetch recent stored articles again, to catch silent edits and deletions at the source.

        A run spends at most ``recheck_share`` of its requests on rechecks: they are bounded by
        the requests the rest of the run made, and the longest unchecked go first, so they
        spread over the runs of a ``recheck_hours`` period instead of coming all at once.
        """
        mirror = self.config.mirror
        if not mirror.recheck_days:
            return
        share = mirror.recheck_share
        budget = math.floor(self.http.requests * share / (1 - share))
        if budget < 1:
            return
        now = utcnow()
        channels = {(site.id, channel.id): (site, channel) for site, channel in chosen}
        due = [
            item
            for item in self.store.due_rechecks(
                now - timedelta(days=mirror.recheck_days), now - timedelta(hours=mirror.recheck_hours), budget * 4
            )
            if (item.key.site, item.key.channel) in channels
        ][:budget]
        if not due:
            return
        self.progress.found(len(due))
        rules = {site.id: SiteRules.from_site(site) for site, _ in channels.values()}
        await together(
            self._recheck(item, *channels[item.key.site, item.key.channel], rules[item.key.site]) for item in due
        )

    async def _recheck(self, item: Recheck, site: SiteConfig, channel: ChannelConfig, rules: SiteRules) -> None:
        async with self._in_progress[urlsplit(item.url).netloc]:
            outcome = await self._recheck_one(item, site, rules)
        self.summary.rechecked += 1
        self.progress.article(f"{site.id}/{channel.id}/{item.key.id}", outcome, "rechecked")

    async def _recheck_one(self, item: Recheck, site: SiteConfig, rules: SiteRules) -> ArticleOutcome:
        key = item.key
        label = f"{key.site}/{key.channel}/{key.id}"
        now = utcnow()
        try:
            response = await self.http.get(item.url, etag=item.etag, last_modified=item.last_modified)
        except FetchError as exc:
            if exc.status in _GONE:
                self._gone(key, label, str(exc))
            else:  # not a sign of deletion: try again in a later period
                self.progress.warning(f"article {label}: recheck failed: {exc}")
                self.store.record_check(key, now, present=False)
            return "unchanged"
        if response.not_modified:
            self.store.record_check(key, now)
            return "unchanged"
        redirected = canonical_url(response.url) != canonical_url(item.url)
        if site.body_from_feed and not redirected:
            # Its text comes from the feed: the page only tells that the article is still there.
            self.store.record_check(key, now, etag=response.etag, last_modified=response.last_modified)
            return "unchanged"
        loop = asyncio.get_running_loop()
        policy = self.config.mirror.outbound_links
        try:
            extracted = await loop.run_in_executor(
                self.executor, extract_article, response.text, response.url, rules, policy
            )
        except ExtractionError as exc:
            if redirected:
                self._gone(key, label, f"redirected to {response.url}, which holds no article")
            else:
                self.progress.warning(f"article {label}: recheck failed: {exc}")
                self.store.record_check(key, now, present=False)
            return "unchanged"
        if redirected and not _same_title(item.title, extracted.title):
            self._gone(key, label, f"redirected to {response.url}, which is not the article")
            return "unchanged"
        if site.body_from_feed:
            self.store.record_check(key, now)
            return "unchanged"
        stored = self.store.article(key)
        if stored is None:
            return "unchanged"
        # The feed's title and the publication time stay: a recheck looks at the page's text.
        article = replace(stored, markdown=extracted.markdown, html=extracted.html, fetched=now, content_hash="")
        outcome = self.store.save_article(article, etag=response.etag, last_modified=response.last_modified)
        if outcome == "updated":
            self.summary.updated += 1
            images = image_urls(article.markdown)
            self.store.set_article_images(key, images)
            if self.images:
                await self.images.fetch(label, images)
        return outcome

    async def retry_images(self, chosen: Iterable[tuple[SiteConfig, ChannelConfig]]) -> None:
        """Fetch the missing images of the chosen channels' stored articles: those
        that failed before (a feed answering 304 would never show them again) and
        those recorded while the mirror was in "link" mode."""
        if not self.images:
            return
        channels = {(site.id, channel.id) for site, channel in chosen}
        retry = self.store.images_to_retry(self.config.mirror.image_attempts)
        todo = [(url, key) for url, key in retry if (key.site, key.channel) in channels]
        await together(self.images.fetch(article_label(k), [url]) for url, k in todo)
        await self.images.shrink_stored()


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
                f"feed {state.site}/{state.channel} has failed every poll since {since} ({state.failures} polls); "
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
    progress = progress or _Silent()
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
        async with HttpClient(config.http) as http, leases_kept(store, owner, lease):
            syncer = Syncer(config, store, http, progress, executor)
            syncer.summary.feeds_not_due = len(chosen) - len(due)
            await together(syncer.channel(site, channel) for site, channel in due)
            await syncer.recheck(chosen)
            await syncer.retry_images(chosen)
    finally:
        store.release_feeds(owner)
    syncer.summary.failing = failing_lines(store, chosen)
    store.finish_run(run_id, syncer.summary)
    return syncer.summary


def _same_title(stored: str, found: str) -> bool:
    """Does a page titled ``found`` show the article stored as ``stored``? (Sites add their name to titles.)"""
    a, b = " ".join(stored.split()), " ".join(found.split())
    if not a or not b:
        return False
    return a in b or b in a or difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= _SAME_TITLE

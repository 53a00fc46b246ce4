"""The feed loop: a channel's feed polled, its new or changed items handed to the article pipeline."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from newsmirror.config import ChannelConfig, SiteConfig
from newsmirror.errors import StoreError, unexpected
from newsmirror.extract import SiteRules
from newsmirror.feeds import FeedError, ParsedFeed, parse_feed, parse_listing
from newsmirror.http import FetchError
from newsmirror.layout import channel_label
from newsmirror.models import FeedState, utcnow
from newsmirror.schedule import RHYTHM_SAMPLE, Poll, next_due
from newsmirror.sync.articles import needs_fetch
from newsmirror.sync.base import GIVE_UP_AFTER
from newsmirror.sync.outcomes import together
from newsmirror.sync.rechecks import Rechecks
from newsmirror.words import counted

log = logging.getLogger(__name__)


class Syncer(Rechecks):
    """One sync run's work: feeds, their articles, rechecks and image retries."""

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

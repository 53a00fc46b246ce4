"""Rechecks: recent stored articles fetched again, to catch silent edits and deletions at the source."""

from __future__ import annotations

import asyncio
import difflib
import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from newsmirror.config import ChannelConfig, SiteConfig
from newsmirror.extract import ExtractionError, SiteRules, extract_article
from newsmirror.http import FetchError
from newsmirror.image_fetch import image_urls
from newsmirror.layout import article_label
from newsmirror.models import canonical_url, utcnow
from newsmirror.store import Recheck
from newsmirror.sync.articles import ArticlePipeline
from newsmirror.sync.base import GONE_STATUSES, SAME_TITLE
from newsmirror.sync.outcomes import ArticleOutcome, together


class Rechecks(ArticlePipeline):
    """Fetch recent stored articles again."""

    async def recheck(self, chosen: Iterable[tuple[SiteConfig, ChannelConfig]]) -> None:
        """Fetch recent stored articles again, to catch silent edits and deletions at the source.

        A poller (a sync, or a worker however long it runs) spends at most ``recheck_share`` of its
        requests on rechecks: they are bounded by the requests the rest of it made, and the longest
        unchecked go first, so they spread over the runs of a ``recheck_hours`` period instead of
        coming all at once. Called again (a worker calls it as its feeds are polled), it makes only
        the rechecks the requests made since allow. Each recheck is claimed in the store first, so
        pollers sharing it never check one article twice in a period.
        """
        mirror = self.config.mirror
        if not mirror.recheck_days:
            return
        share = mirror.recheck_share
        others = self.http.requests - self.rechecks_started
        budget = math.floor(others * share / (1 - share)) - self.rechecks_started
        if budget < 1:
            return
        now = utcnow()
        checked_before = now - timedelta(hours=mirror.recheck_hours)
        channels = {(site.id, channel.id): (site, channel) for site, channel in chosen}
        due = [
            item
            for item in self.store.due_rechecks(now - timedelta(days=mirror.recheck_days), checked_before, budget * 4)
            if (item.key.site, item.key.channel) in channels
        ][:budget]
        due = self.store.claim_rechecks(due, now, checked_before) if due else []
        if not due:
            return
        self.rechecks_started += len(due)
        self.progress.found(len(due))
        rules = {site.id: SiteRules.from_site(site) for site, _ in channels.values()}
        await together(
            self._recheck(item, *channels[item.key.site, item.key.channel], rules[item.key.site]) for item in due
        )

    async def _recheck(self, item: Recheck, site: SiteConfig, channel: ChannelConfig, rules: SiteRules) -> None:
        async with self._in_progress[urlsplit(item.url).netloc]:
            outcome = await self._recheck_one(item, site, rules)
        self.summary.rechecked += 1
        self.progress.article(article_label(item.key), outcome, "rechecked")

    async def _recheck_one(self, item: Recheck, site: SiteConfig, rules: SiteRules) -> ArticleOutcome:
        key = item.key
        label = article_label(key)
        now = utcnow()
        try:
            response = await self.http.get(item.url, etag=item.etag, last_modified=item.last_modified)
        except FetchError as exc:
            if exc.status in GONE_STATUSES:
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
        if redirected and not same_title(item.title, extracted.title):
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


def same_title(stored: str, found: str) -> bool:
    """Does a page titled ``found`` show the article stored as ``stored``? (Sites add their name to titles.)"""
    a, b = " ".join(stored.split()), " ".join(found.split())
    if not a or not b:
        return False
    return a in b or b in a or difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= SAME_TITLE

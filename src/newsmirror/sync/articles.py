"""The article pipeline: one feed item's page fetched, extracted and stored with its images; pages gone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from newsmirror.config import ChannelConfig, SiteConfig
from newsmirror.errors import StoreError, unexpected
from newsmirror.extract import ExtractionError, SiteRules, extract_article, extract_fragment
from newsmirror.feeds import FeedItem
from newsmirror.http import FetchError
from newsmirror.image_fetch import image_urls
from newsmirror.layout import article_label
from newsmirror.models import Article, ArticleKey, utcnow
from newsmirror.store import GONE_CHECKS
from newsmirror.sync.base import GIVE_UP_AFTER, GONE_STATUSES, SyncBase
from newsmirror.sync.outcomes import ArticleOutcome, together

log = logging.getLogger(__name__)


def needs_fetch(item: FeedItem, stored: tuple[str, str] | None, update_markers: Iterable[str]) -> bool:
    """Fetch an item that is new, whose feed entry changed, or whose title now
    carries an update marker (e.g. 更新) it did not carry when stored."""
    if stored is None:
        return True
    title, feed_hash = stored
    if feed_hash != item.feed_hash:
        return True
    return title != item.title and any(marker in item.title for marker in update_markers)


class ArticlePipeline(SyncBase):
    """Fetch, extract and store articles; count the checks that find one gone."""

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
            gone = isinstance(exc, FetchError) and exc.status in GONE_STATUSES
            # A stored article whose page is gone: a check toward a deletion at the source, not a failure.
            if gone and self._gone(ArticleKey(site.id, channel.id, key), label, str(exc)):
                return "unchanged"
            self.summary.failed += 1
            where = label if isinstance(exc, FetchError) else f"{label} ({item.link})"
            detail = f"article {where}: {exc}"
            if isinstance(exc, FetchError) and exc.status in GONE_STATUSES:
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
        self.summary.images, self.summary.shrink_seconds = self.images.shrunk, round(self.images.shrink_seconds, 3)

"""How every feed is doing, read from the store: for `newsmirror status`, its
``--fail-on-stale`` monitoring check and the mirror's ``indexes/health.md``.

Per configured feed: when it last succeeded (a 304 counts), how many checks in
a row failed since, its last error, how many items a day it brought over the
last 7 days, how many articles are stored, when it is polled next, and warnings about what extraction
has been returning lately — empty bodies, very short ones, bodies that are
mostly links, or bodies that suddenly shrank (usually a site redesign that the
site's `content` rule or the generic extractor no longer fits).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from rich import box
from rich.table import Table
from rich.text import Text

from newsmirror.config import Config
from newsmirror.layout import channel_label
from newsmirror.store import Store
from newsmirror.words import counted

RATE_DAYS = 7  # items a day are counted over this many days
RECENT = 10  # the newest articles the body warnings look at
SHORT_BODY = 200  # characters of text: a body under this is "very short"
MOSTLY_LINKS = 0.5  # share of the text that is link text
# A warning about short or link-heavy bodies needs this many of the RECENT: one brief is news, three a pattern.
PATTERN = 3
# Shrinking: the median length of the SHRINK_NEWEST newest bodies against that of up to
# SHRINK_BEFORE before them; under SHRINK_RATIO of it is a warning.
SHRINK_NEWEST = 5
SHRINK_BEFORE = 30
SHRINK_RATIO = 0.4

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"[\s#*>_`|~\-=]+")


@dataclass(frozen=True, slots=True)
class BodyMeasure:
    """The text of an article body, as a reader sees it: characters, and how many of them are link text."""

    chars: int
    link_chars: int


def measure_body(markdown: str) -> BodyMeasure:
    without_images = _IMAGE.sub("", markdown)
    link_text = "".join(_LINK.findall(without_images))
    text = _LINK.sub(lambda m: m.group(1), without_images)
    return BodyMeasure(len(_MARKUP.sub("", text)), len(_MARKUP.sub("", link_text)))


@dataclass(frozen=True, slots=True)
class BodyWarning:
    """One thing wrong with a channel's newest bodies, as numbers: `status` words it in English
    (``str()``), the health page in the mirror's language (its labels)."""

    kind: Literal["empty", "short", "links", "shrank"]
    count: int  # the bodies that show it (shrank: the newest, whose median fell)
    of: int  # the bodies looked at (shrank: those before them)
    median: int = 0  # shrank: the newest bodies' median length in characters
    before: int = 0  # shrank: that of the bodies before them

    def __str__(self) -> str:
        if self.kind == "empty":
            return f"{self.count} of the last {counted(self.of, 'body', 'bodies')} empty"
        if self.kind == "short":
            return f"{self.count} of the last {self.of} bodies very short (under {SHORT_BODY} characters)"
        if self.kind == "links":
            return f"{self.count} of the last {self.of} bodies mostly links"
        return (
            f"bodies shrank: the last {self.count} have a median of {self.median:,} characters, "
            f"the {self.of} before {self.before:,} (a site redesign? try the page with 'newsmirror extract')"
        )


def body_warnings(bodies: list[BodyMeasure]) -> list[BodyWarning]:
    """Warnings about a channel's newest bodies, newest first in ``bodies``."""
    recent = bodies[:RECENT]
    warnings = []
    empty = sum(1 for b in recent if b.chars == 0)
    if empty:
        warnings.append(BodyWarning("empty", empty, len(recent)))
    short = sum(1 for b in recent if 0 < b.chars < SHORT_BODY)
    if short >= PATTERN:
        warnings.append(BodyWarning("short", short, len(recent)))
    links = sum(1 for b in recent if b.chars and b.link_chars / b.chars > MOSTLY_LINKS)
    if links >= PATTERN:
        warnings.append(BodyWarning("links", links, len(recent)))
    newest, before = bodies[:SHRINK_NEWEST], bodies[SHRINK_NEWEST : SHRINK_NEWEST + SHRINK_BEFORE]
    if len(newest) == SHRINK_NEWEST and len(before) >= SHRINK_NEWEST:
        now, then = statistics.median(b.chars for b in newest), statistics.median(b.chars for b in before)
        if then and now < SHRINK_RATIO * then:
            warnings.append(BodyWarning("shrank", SHRINK_NEWEST, len(before), round(now), round(then)))
    return warnings


@dataclass(slots=True)
class FeedHealth:
    site: str
    channel: str
    source: str
    last_check: datetime | None
    last_success: datetime | None
    failures: int  # failed checks in a row
    last_error: str
    last_error_at: datetime | None
    items_per_day: float  # over the last RATE_DAYS days
    stored: int
    next_due: datetime | None = None  # when the scheduler polls it next (None: due now)
    warnings: list[BodyWarning] = field(default_factory=list)

    @property
    def label(self) -> str:
        return channel_label(self.site, self.channel)

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def stale(self, now: datetime, hours: float) -> bool:
        """Not succeeded for ``hours`` (or never)."""
        return self.last_success is None or now - self.last_success > timedelta(hours=hours)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = [str(warning) for warning in self.warnings]
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return data


def feed_health(config: Config, store: Store, now: datetime) -> list[FeedHealth]:
    """The health of every feed in the config, in config order."""
    states = {(s.site, s.channel): s for s in store.feed_states()}
    since = now - timedelta(days=RATE_DAYS)
    health = []
    for site in config.sites:
        for channel in site.channels:
            state = states.get((site.id, channel.id))
            heads = store.article_heads(site.id, channel.id)
            recent_items = sum(1 for h in heads if since <= h.published <= now)
            newest = store.articles(site.id, channel.id, limit=SHRINK_NEWEST + SHRINK_BEFORE)
            health.append(
                FeedHealth(
                    site=site.id,
                    channel=channel.id,
                    source=channel.feed or channel.listing or "",
                    last_check=state.checked_at if state else None,
                    last_success=state.last_success if state else None,
                    failures=state.failures if state else 0,
                    last_error=state.last_error if state else "",
                    last_error_at=state.last_error_at if state else None,
                    items_per_day=round(recent_items / RATE_DAYS, 1),
                    stored=len(heads),
                    next_due=state.next_due if state else None,
                    warnings=body_warnings([measure_body(a.markdown) for a in newest]),
                )
            )
    return health


def last_checked(health: list[FeedHealth]) -> datetime | None:
    """The time of the newest check: what a build dates the health page by, so the same store gives the same page."""
    return max((h.last_check for h in health if h.last_check), default=None)


def stale_feeds(health: list[FeedHealth], now: datetime, hours: float) -> list[str]:
    """One line per feed that has not succeeded for ``hours``."""
    lines = []
    for feed in health:
        if not feed.stale(now, hours):
            continue
        if feed.last_success is None:
            lines.append(f"feed {feed.label}: has never succeeded ({feed.source})")
        else:
            lines.append(
                f"feed {feed.label}: no success for {age(feed.last_success, now)}, "
                f"since {feed.last_success:%Y-%m-%d %H:%M} UTC ({counted(feed.failures, 'failed check')} since)"
            )
    return lines


def age(moment: datetime | None, now: datetime) -> str:
    """'3 min', '5 h', '2 d': how long ago, as short as a table cell."""
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def due_in(moment: datetime | None, now: datetime) -> str:
    """'due' or 'in 25 min': when the scheduler polls a feed next."""
    if moment is None or moment <= now:
        return "due"
    return f"in {age(now, moment)}"


def status_table(health: list[FeedHealth], now: datetime) -> Table:
    """The table `newsmirror status` prints: one row per feed."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name, justify in [
        ("feed", "left"),
        ("last success", "right"),
        ("failures", "right"),
        ("last error", "left"),
        ("items/day", "right"),
        ("stored", "right"),
        ("next check", "right"),
        ("warnings", "left"),
    ]:
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for feed in health:
        error = f"{age(feed.last_error_at, now)} ago: {feed.last_error}" if feed.last_error else ""
        success = f"{age(feed.last_success, now)} ago" if feed.last_success else "never"
        table.add_row(
            Text(feed.label),
            Text(success, style="red" if feed.failing or not feed.last_success else ""),
            Text(str(feed.failures), style="red" if feed.failing else ""),
            Text(error),
            Text(f"{feed.items_per_day:g}"),
            Text(f"{feed.stored:,}"),
            Text(due_in(feed.next_due, now)),
            Text("; ".join(map(str, feed.warnings)), style="yellow"),
        )
    return table

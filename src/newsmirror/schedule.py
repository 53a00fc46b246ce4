"""When each feed is polled next: its own publishing rhythm, what its server asks, backoff after failures.

A feed that publishes every few minutes is polled every ``min_interval``; one
that publishes once a week every ``max_interval``. A server's ``Cache-Control:
max-age`` is honoured (up to ``max_interval``: a feed is never left longer than
that), and so is a ``Retry-After`` on a 429 or 503. A failing feed backs off
exponentially from ``min_interval`` up to ``FAILING_INTERVAL``, so a feed that
has been broken for days costs two requests a day, and is named in every run's
summary until it answers again (``FAILING_NAMED_AFTER``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsmirror.config import ScheduleConfig

# How often a feed that keeps failing is still tried: about twice a day.
FAILING_INTERVAL = timedelta(hours=12)
# A Retry-After further away than this is not believed (a misconfigured server).
MAX_RETRY_AFTER = timedelta(days=1)
# A feed failing for this long is named in the summary of every run.
FAILING_NAMED_AFTER = timedelta(days=1)
# How many of a channel's newest articles tell its rhythm.
RHYTHM_SAMPLE = 20


def publishing_interval(published: Sequence[datetime], now: datetime) -> timedelta | None:
    """The mean time between a channel's articles, from the newest few (any order).

    The span runs from the oldest of them to now, not to the newest, so a feed
    that has gone quiet is polled less and less often. None without any date.
    """
    dates = sorted((min(moment, now) for moment in published), reverse=True)[:RHYTHM_SAMPLE]
    if not dates:
        return None
    return (now - dates[-1]) / len(dates)


@dataclass(frozen=True, slots=True)
class Poll:
    """What one poll of a feed showed, as far as the schedule cares."""

    ok: bool
    # Seconds from the response's Cache-Control: max-age, or the failure's Retry-After.
    max_age: float | None = None
    retry_after: float | None = None


def next_due(
    config: ScheduleConfig,
    poll: Poll,
    *,
    now: datetime,
    published: Sequence[datetime] = (),
    failures: int = 0,
) -> datetime:
    """When to poll a feed again after ``poll``; ``failures`` counts this one if it failed."""
    low, high = timedelta(seconds=config.min_interval), timedelta(seconds=config.max_interval)
    if not poll.ok:
        wait = min(low * 2 ** max(failures - 1, 0), FAILING_INTERVAL)
        if poll.retry_after:
            wait = max(wait, min(timedelta(seconds=poll.retry_after), MAX_RETRY_AFTER))
        return now + wait
    wait = publishing_interval(published, now) or high
    if poll.max_age:
        wait = max(wait, timedelta(seconds=poll.max_age))
    return now + min(max(wait, low), high)

"""Feeds polled when due: rhythm, Cache-Control, Retry-After, backoff; `sync` polls due feeds, `--all` every one."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from newsmirror.config import Config, ScheduleConfig, parse_config
from newsmirror.models import utcnow
from newsmirror.schedule import FAILING_INTERVAL, Poll, next_due, publishing_interval
from newsmirror.store import Store
from newsmirror.sync import sync

NOW = utcnow()
DEFAULTS = ScheduleConfig()


def test_rhythm_is_clamped_between_min_and_max_interval() -> None:
    every_5_min = [NOW - timedelta(minutes=5 * i) for i in range(20)]
    hourly = [NOW - timedelta(hours=i) for i in range(20)]
    weekly = [NOW - timedelta(days=7 * i) for i in range(5)]
    assert next_due(DEFAULTS, Poll(ok=True), now=NOW, published=every_5_min) == NOW + timedelta(minutes=10)
    hourly_due = next_due(DEFAULTS, Poll(ok=True), now=NOW, published=hourly)
    assert timedelta(minutes=50) < hourly_due - NOW < timedelta(minutes=70)
    assert next_due(DEFAULTS, Poll(ok=True), now=NOW, published=weekly) == NOW + timedelta(hours=6)
    assert next_due(DEFAULTS, Poll(ok=True), now=NOW) == NOW + timedelta(hours=6)  # nothing to go by
    # A feed gone quiet: its last items were frequent, but long ago.
    quiet = [NOW - timedelta(days=3, minutes=i) for i in range(20)]
    assert publishing_interval(quiet, NOW) > timedelta(hours=3)
    # Future dates (a wrong clock on the server) count as now, not as a negative interval.
    assert publishing_interval([NOW + timedelta(days=1)] * 3, NOW) == timedelta(0)


def test_server_hints_and_backoff() -> None:
    busy = [NOW - timedelta(minutes=i) for i in range(20)]
    assert next_due(DEFAULTS, Poll(ok=True, max_age=3600), now=NOW, published=busy) == NOW + timedelta(hours=1)
    # max-age never leaves a feed longer than max_interval.
    assert next_due(DEFAULTS, Poll(ok=True, max_age=86400 * 30), now=NOW) == NOW + timedelta(hours=6)
    waits = [next_due(DEFAULTS, Poll(ok=False), now=NOW, failures=n) - NOW for n in range(1, 12)]
    assert waits[:4] == [timedelta(minutes=m) for m in (10, 20, 40, 80)]
    assert waits == sorted(waits) and waits[-1] == FAILING_INTERVAL == timedelta(hours=12)
    # Retry-After is honoured when longer than the backoff, up to a day.
    assert next_due(DEFAULTS, Poll(ok=False, retry_after=7200), now=NOW, failures=1) == NOW + timedelta(hours=2)
    assert next_due(DEFAULTS, Poll(ok=False, retry_after=10**9), now=NOW, failures=1) == NOW + timedelta(days=1)


def rss(count: int, every: timedelta, feed: str = "f") -> str:
    """A feed carrying its articles' bodies (read with body_from_feed: no page is fetched)."""
    items = "".join(
        f"<item><title>Item {i}</title><link>http://127.0.0.1:9/{feed}/{1000 + i}.html</link>"
        f"<content:encoded>&lt;p&gt;Body {i} of {feed}, long enough to be an article.&lt;/p&gt;</content:encoded>"
        f"<pubDate>{format_datetime(NOW - every * i, usegmt=True)}</pubDate></item>"
        for i in range(count)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>t</title>{items}</channel></rss>"
    )


def make_config(server: HTTPServer, location: Path | str, tmp_path: Path) -> Config:
    channels = "".join(
        f'[[site.channel]]\nid = "{name}"\nname = "{name}"\nfeed = "{server.url_for(f"/{name}.xml")}"\n'
        for name in ("busy", "cached", "throttled", "broken")
    )
    text = (
        f'[mirror]\nstore = "{location}"\noutput = "out"\nimages = "link"\n'
        "[http]\nretries = 0\nallow_private = true\n"
        f'[[site]]\nid = "news"\nname = "News"\nbody_from_feed = true\n{channels}'
    )
    return parse_config(text, root=tmp_path)


def test_sync_polls_due_feeds_and_spaces_each_by_what_it_shows(
    httpserver: HTTPServer, store_location: Path | str, tmp_path: Path
) -> None:
    httpserver.expect_request("/busy.xml").respond_with_data(
        rss(20, timedelta(minutes=2), "busy"), content_type="text/xml"
    )
    httpserver.expect_request("/cached.xml").respond_with_data(
        rss(3, timedelta(minutes=1), "cached"),
        content_type="text/xml",
        headers={"Cache-Control": "public, max-age=7200"},
    )
    httpserver.expect_request("/throttled.xml").respond_with_data("slow down", 429, headers={"Retry-After": "5400"})
    httpserver.expect_request("/broken.xml").respond_with_data("gone", 500)
    config = make_config(httpserver, store_location, tmp_path)

    with Store(config.store) as store:
        summary = asyncio.run(sync(config, store))
        assert (summary.feeds_ok, summary.feeds_failed, summary.new) == (2, 2, 23)

        def due_in(channel: str) -> timedelta:
            state = store.feed_state("news", channel)
            assert state is not None and state.next_due is not None
            return state.next_due - utcnow()

        assert timedelta(minutes=9) < due_in("busy") <= timedelta(minutes=10)
        assert timedelta(minutes=119) < due_in("cached") <= timedelta(hours=2)
        assert timedelta(minutes=89) < due_in("throttled") <= timedelta(minutes=90)
        assert timedelta(minutes=9) < due_in("broken") <= timedelta(minutes=10)

        # Nothing is due: a plain sync asks nothing; --all asks every feed.
        requests = len(httpserver.log)
        summary = asyncio.run(sync(config, store))
        assert len(httpserver.log) == requests and summary.feeds_not_due == 4 and summary.ok
        summary = asyncio.run(sync(config, store, all_feeds=True))
        assert len(httpserver.log) == requests + 4 and summary.feeds_not_due == 0

        # Failing for days: backing off to twice a day, and named in every summary meanwhile.
        broken = store.feed_state("news", "broken")
        assert broken is not None and broken.failures == 2
        for _ in range(7):  # a few more failed polls, the first of them three days ago
            store.save_feed_state(replace(broken, failing_since=NOW - timedelta(days=3)))
        summary = asyncio.run(sync(config, store, channels=["broken"], all_feeds=True))
        assert timedelta(hours=11) < due_in("broken") <= timedelta(hours=12)
        (line,) = summary.failing
        assert line.startswith("feed news/broken has failed every poll since ") and "(10 polls)" in line, line
        assert "about every 12 h" in line and "HTTP 500" in line

        # Once it answers, it is back to its rhythm and no longer named.
        httpserver.clear()
        httpserver.expect_request("/broken.xml").respond_with_data(
            rss(2, timedelta(hours=1), "broken"), content_type="text/xml"
        )
        summary = asyncio.run(sync(config, store, channels=["broken"], all_feeds=True))
        assert summary.failing == [] and summary.feeds_ok == 1
        state = store.feed_state("news", "broken")
        assert state is not None and state.failures == 0 and state.failing_since is None


def test_a_second_sync_without_all_is_a_no_op_that_says_so(httpserver: HTTPServer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsmirror.cli import app

    httpserver.expect_request("/busy.xml").respond_with_data(
        rss(5, timedelta(minutes=30), "busy"), content_type="text/xml"
    )
    for name in ("cached", "throttled", "broken"):
        httpserver.expect_request(f"/{name}.xml").respond_with_data(
            rss(1, timedelta(hours=1), name), content_type="text/xml"
        )
    config = make_config(httpserver, tmp_path / "store.db", tmp_path)
    path = tmp_path / "newsmirror.toml"
    path.write_text(
        '[mirror]\nstore = "store.db"\noutput = "out"\nimages = "link"\n'
        '[http]\nallow_private = true\n[schedule]\nmin_interval = "15m"\n'
        + "".join(
            f'[[site]]\nid = "{s.id}"\nname = "News"\nbody_from_feed = true\n'
            + "".join(f'[[site.channel]]\nid = "{c.id}"\nname = "{c.name}"\nfeed = "{c.feed}"\n' for c in s.channels)
            for s in config.sites
        ),
        "utf-8",
    )
    runner = CliRunner()
    first = runner.invoke(app, ["sync", "--config", str(path)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["sync", "--config", str(path)])
    assert second.exit_code == 0 and "4 feeds not due yet (--all polls them)" in second.output, second.output
    assert len(httpserver.log) == 4


@pytest.mark.parametrize(
    ("value", "seconds"), [("90s", 90), ("10m", 600), ("6h", 21600), ("1d", 86400), (45, 45), ("2.5m", 150)]
)
def test_durations_in_the_config(value: object, seconds: float, tmp_path: Path) -> None:
    text = f"[schedule]\nmin_interval = 1\nmax_interval = {value!r}\n".replace("'", '"')
    assert parse_config(text, root=tmp_path).schedule.max_interval == seconds


def test_bad_schedule_values_are_one_line_errors(tmp_path: Path) -> None:
    from newsmirror.config import ConfigError

    with pytest.raises(ConfigError, match=r'schedule.min_interval: "soon" is not a duration'):
        parse_config('[schedule]\nmin_interval = "soon"\n', root=tmp_path)
    with pytest.raises(ConfigError, match="min_interval must not be longer than max_interval"):
        parse_config('[schedule]\nmin_interval = "7h"\n', root=tmp_path)

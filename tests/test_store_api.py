"""The store through its public API: every method, what it returns, and how it fails.

Every test runs on both backends (a SQLite file, then a PostgreSQL database), but for those about
the SQLite file itself. No SQL here: a test that needs a damaged store makes one through the file
system, or, on PostgreSQL, through the server.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newsmirror.image_shrink import ShrunkImage
from newsmirror.models import Article, ArticleKey, FeedState, RunSummary
from newsmirror.store import BuiltFile, Store, StoreError
from postgres import PASSWORD, PASSWORD_USER, PostgresServer

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
KEY = ArticleKey("kzg", "p9", "1029400")
PHOTO = "https://img.example.com/a.jpg"


def article(n: int = 0, channel: str = "p9", **changes: Any) -> Article:
    base = Article(
        site="kzg", channel=channel, id=str(1_029_400 + n), url=f"https://example.com/{1_029_400 + n}.html",
        title=f"标题{n}", markdown=f"正文{n}。", html=f"<p>正文{n}。</p>", published=START + timedelta(hours=n),
        fetched=START + timedelta(hours=n, minutes=5), author="记者", feed_hash=f"f{n}",
    )  # fmt: skip
    return replace(base, **changes)


@pytest.fixture
def store(store_location: Path | str) -> Iterator[Store]:
    """An empty store on each backend."""
    with Store(store_location) as store:
        yield store


def image(data: bytes = b"\xff\xd8\xff-jpeg") -> ShrunkImage:
    return ShrunkImage(data=data, ext="jpg", width=640, height=480)


def test_articles_are_read_back_newest_first_with_and_without_limit(store: Store) -> None:
    for n in (0, 2, 1):
        store.save_article(article(n))
    store.save_article(article(9, channel="p1"))
    assert [a.id for a in store.articles("kzg", "p9")] == ["1029402", "1029401", "1029400"]
    assert [a.id for a in store.articles("kzg", "p9", limit=2)] == ["1029402", "1029401"]
    heads = store.article_heads("kzg", "p9")
    assert [h.key.id for h in heads] == [a.id for a in store.articles("kzg", "p9")]
    assert heads[0].title == "标题2" and heads[0].url.endswith("1029402.html") and heads[0].author == "记者"
    assert heads[0].content_hash == article(2).content_hash
    assert len(store.article_heads("kzg", "p9", limit=1)) == 1
    assert store.article_keys() == {KEY, replace(KEY, id="1029401"), replace(KEY, id="1029402"),
                                    ArticleKey("kzg", "p1", "1029409")}  # fmt: skip
    got = store.article(KEY)
    assert got is not None and (got.title, got.markdown, got.html, got.published) == (
        "标题0",
        "正文0。",
        "<p>正文0。</p>",
        START,
    )
    assert store.article(replace(KEY, id="nope")) is None
    assert store.articles("kzg", "none") == [] and store.article_heads("none", "p9") == []
    assert store.known_articles("kzg", "p9") == {a.id: (a.title, a.feed_hash) for a in map(article, (0, 1, 2))}


def test_two_edits_within_one_second_keep_both_earlier_versions(store: Store) -> None:
    # Revisions are keyed by fetch time to the second: versions fetched within one second must not overwrite.
    for body in ("第一版正文。", "第二版正文，改了。", "第三版正文，又改了。"):
        store.save_article(article(0, markdown=body, html=f"<p>{body}</p>", content_hash=""))
    revisions = store.revisions(KEY)
    assert [r.markdown for r in revisions] == ["第一版正文。", "第二版正文，改了。"]
    assert len({r.fetched for r in revisions}) == 2
    current = store.article(KEY)
    assert current is not None and current.markdown == "第三版正文，又改了。"
    assert current.fetched > revisions[-1].fetched


def test_a_page_gone_is_counted_per_feed_entry_and_given_up(store: Store) -> None:
    assert store.record_gone(KEY, "f0", "404 Not Found") == 1
    assert store.record_gone(KEY, "f0", "410 Gone") == 2
    assert store.given_up("kzg", "p9", 3) == {}
    assert store.record_gone(KEY, "f0", "404 Not Found") == 3
    assert store.given_up("kzg", "p9", 3) == {"1029400": "f0"}
    assert store.record_gone(KEY, "f1", "404 Not Found") == 1  # a changed feed entry starts again
    assert store.given_up("kzg", "p9", 3) == {}
    store.record_gone(KEY, "f1", "404")
    store.record_gone(KEY, "f1", "404")
    store.save_article(article())  # found after all: no longer given up
    assert store.given_up("kzg", "p9", 1) == {}


def test_feed_state_keeps_the_last_success_and_counts_failures(store: Store) -> None:
    assert store.feed_state("kzg", "p9") is None and store.feed_states() == []
    ok = FeedState("kzg", "p9", "https://e.com/f.xml", etag='"v1"', last_modified="Sun, 01 Mar 2026", checked_at=START)
    store.save_feed_state(ok)
    failed = replace(ok, ok=False, error="HTTP 500", checked_at=START + timedelta(minutes=15))
    store.save_feed_state(failed)
    store.save_feed_state(replace(failed, checked_at=START + timedelta(minutes=30)))
    state = store.feed_state("kzg", "p9")
    assert state is not None
    assert (state.url, state.etag, state.last_modified, state.ok, state.error) == (
        ok.url, '"v1"', "Sun, 01 Mar 2026", False, "HTTP 500",
    )  # fmt: skip
    store.save_feed_state(replace(ok, site="a", channel="b"))
    assert [(s.site, s.channel) for s in store.feed_states()] == [("a", "b"), ("kzg", "p9")]


def test_the_run_log_holds_each_run_newest_first(store: Store) -> None:
    first = store.start_run("sync")
    store.finish_run(first, RunSummary(feeds_ok=2, new=5, errors=["feed kzg/p1: HTTP 500"]))
    second = store.start_run("run")
    runs = store.runs(10)
    assert [r.id for r in runs] == [second, first]
    assert runs[0].finished is None and runs[0].summary is None  # still going (or killed)
    done = runs[1]
    assert done.command == "sync" and done.finished is not None and done.summary is not None
    assert (done.summary.feeds_ok, done.summary.new, done.summary.errors) == (2, 5, ["feed kzg/p1: HTTP 500"])
    assert len(store.runs(1)) == 1


def test_views_add_up_per_day_and_rank_the_hot_list(store: Store) -> None:
    for n in range(3):
        store.save_article(article(n))
    a, b, c = (replace(KEY, id=str(1_029_400 + n)) for n in range(3))
    gone = replace(KEY, id="removed")
    store.add_views("2026-03-01", [(a, 5), (b, 1), (gone, 9)])
    store.add_views("2026-03-02", [(b, 3), (c, 2)])
    store.add_views("2026-03-02", [(b, 1)])
    assert store.view_totals() == {a: 5, b: 5, c: 2, gone: 9}
    ranked = store.hot_articles("2026-03-01")
    assert [(h.key, h.views) for h in ranked] == [(b, 5), (a, 5), (c, 2)]  # ties: the newer first; unknown ids out
    assert ranked[0].title == "标题1" and ranked[0].published == START + timedelta(hours=1)
    assert [h.key for h in store.hot_articles("2026-03-02")] == [b, c]
    assert len(store.hot_articles("2026-03-01", limit=1)) == 1
    assert store.hot_articles("2026-04-01") == []


def test_the_build_manifest_is_kept_per_output_tree(store: Store) -> None:
    assert store.build_manifest("/out") == {}
    page, qr = BuiltFile("in1", 10, 1, "d1"), BuiltFile("in2", 20, 2, "d2")
    store.update_build_manifest("/out", {"pages/a.md": page, "pages/a.png": qr}, [])
    store.update_build_manifest("/other", {"pages/a.md": qr}, [])
    newer = replace(page, inputs="in3")
    store.update_build_manifest("/out", {"pages/a.md": newer}, ["pages/a.png", "never/there.md"])
    assert store.build_manifest("/out") == {"pages/a.md": newer}
    assert store.build_manifest("/other") == {"pages/a.md": qr}


def test_images_from_recorded_to_stored_to_published(store: Store) -> None:
    store.save_article(article())
    other = "https://img.example.com/b.png"
    store.set_article_images(KEY, [PHOTO, other])
    assert store.images_to_retry(3) == [(PHOTO, KEY), (other, KEY)]
    assert store.missing_image_urls([other, PHOTO], 3) == [other, PHOTO]
    assert store.missing_image_urls([], 3) == []

    stored = image()
    store.save_image(PHOTO, stored)
    assert store.image_data(PHOTO) == stored.data
    assert store.image_data(other) is None
    assert store.missing_image_urls([other, PHOTO], 3) == [other]
    assert store.article_image_files() == {KEY: {PHOTO: f"{stored.sha1}.jpg"}}
    assert store.image_sizes() == {f"{stored.sha1}.jpg": (640, 480)}
    assert store.unshrunk_images() == []

    # A failing image is tried up to the limit, then left alone; a stored one is never counted as failing.
    assert [store.image_failed(other, "HTTP 404") for _ in range(3)] == [1, 2, 3]
    assert store.missing_image_urls([other], 3) == [] and store.images_to_retry(3) == []
    assert store.images_to_retry(4) == [(other, KEY)]
    store.image_failed(PHOTO, "a later failure")
    assert store.image_data(PHOTO) == stored.data

    store.set_article_images(KEY, [other])  # the article no longer shows PHOTO
    assert store.article_image_files() == {}


def test_a_read_only_store_reads_and_refuses_every_write_in_one_line(store: Store) -> None:
    store.save_article(article())
    readonly = Store(store.path, readonly=True)
    assert readonly.article(KEY) is not None
    writes: list[Callable[[], object]] = [
        lambda: readonly.save_article(article(1)),
        lambda: readonly.record_gone(KEY, "f", "404"),
        lambda: readonly.save_feed_state(FeedState("kzg", "p9", "https://e.com/f")),
        lambda: readonly.start_run("sync"),
        lambda: readonly.finish_run(1, RunSummary()),
        lambda: readonly.add_views("2026-03-01", [(KEY, 1)]),
        lambda: readonly.update_build_manifest("/out", {"x": BuiltFile("i", 1, 1, "d")}, []),
        lambda: readonly.set_article_images(KEY, [PHOTO]),
        lambda: readonly.save_image(PHOTO, image()),
        lambda: readonly.image_failed(PHOTO, "x"),
    ]
    for write in writes:
        with pytest.raises(StoreError, match="cannot write to the store") as error:
            write()
        assert "\n" not in str(error.value) and store.where in str(error.value)
    readonly.close()
    assert [a.id for a in store.articles("kzg", "p9")] == ["1029400"]  # nothing was half-written


def test_opening_what_is_not_a_store_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store yet; run 'newsmirror sync' first"):
        Store(tmp_path / "missing.db", readonly=True)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an SQLite database, just some bytes " * 100)
    with pytest.raises(StoreError, match="cannot open the store") as error:
        Store(garbage)
    assert "\n" not in str(error.value) and str(garbage) in str(error.value)


def test_a_postgresql_store_that_cannot_be_reached_or_logged_into_is_one_line_without_its_password(
    postgres: PostgresServer, postgres_url: str
) -> None:
    database = postgres_url.split("/")[3].split("?")[0]
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    cases = {
        f"postgresql://{PASSWORD_USER}:{PASSWORD}@127.0.0.1:{port}/{database}": "Connection refused",
        postgres.url(database, user=PASSWORD_USER, password="wrong-password"): "password authentication failed",
        postgres.url("no_such_database", user=PASSWORD_USER, password=PASSWORD): "does not exist",
    }
    for url, reason in cases.items():
        with pytest.raises(StoreError, match="cannot open the store") as error:
            Store(url)
        message = str(error.value)
        assert reason in message and "\n" not in message, message
        assert message.startswith(url.replace(url.split(":")[2].split("@")[0], "***")), message
        assert PASSWORD not in message and "wrong-password" not in message
    # An empty database is no store yet, as a missing file is.
    with pytest.raises(StoreError, match="no store yet; run 'newsmirror sync' first"):
        Store(postgres_url, readonly=True)


def test_a_postgresql_user_that_does_not_own_the_database_is_told_so_and_the_store_is_untouched(
    postgres: PostgresServer, postgres_url: str
) -> None:
    database = postgres_url.split("/")[3].split("?")[0]
    url = postgres.url(database, user=PASSWORD_USER, password=PASSWORD)
    with pytest.raises(StoreError, match="permission denied for schema public") as error:
        Store(url)
    message = str(error.value)
    assert "the store's user must own its database" in message and "\n" not in message and PASSWORD not in message
    with pytest.raises(StoreError, match="no store yet"):  # the failed upgrade left nothing behind
        Store(postgres_url, readonly=True)
    postgres.give_database(database, PASSWORD_USER)  # createdb --owner, as the README says
    with Store(url) as store:
        store.save_article(article())
        assert store.article(KEY) is not None


def test_a_postgresql_store_whose_server_drops_the_connection_fails_in_one_line(
    postgres: PostgresServer, postgres_url: str
) -> None:
    with Store(postgres_url) as store:
        store.save_article(article())
        assert postgres.drop_connections(postgres_url.split("/")[3].split("?")[0]) == 1  # as a restart does
        with pytest.raises(StoreError, match="cannot write to the store") as error:
            store.save_article(article(1))
        assert "terminating connection" in str(error.value) and "\n" not in str(error.value)
        with pytest.raises(StoreError, match="cannot read the store: the connection is closed"):
            store.article(KEY)
    with Store(postgres_url) as again:  # the next run's store has all that was committed
        assert [a.id for a in again.articles("kzg", "p9")] == ["1029400"]

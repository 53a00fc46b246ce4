"""The store's own promises: save outcomes, what an update keeps, errors as one line."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from newsmirror.image_shrink import ShrunkImage
from newsmirror.models import Article, ArticleKey, RunSummary, utcnow
from newsmirror.store import BuiltFile, Store, StoreError

NOW = utcnow()


def article(**changes: object) -> Article:
    base = Article(
        site="kzg", channel="p9", id="1029400", url="https://example.com/1029400.html", title="标题",
        markdown="正文。", html="<p>正文。</p>", published=NOW, fetched=NOW, feed_hash="f1",
    )  # fmt: skip
    return replace(base, content_hash="", **changes)


def test_new_updated_unchanged_and_what_an_update_keeps(store_location: Path | str) -> None:
    with Store(store_location) as store:
        assert store.save_article(article()) == "new"
        assert store.save_article(article()) == "unchanged"
        # Only the feed entry changed: nothing to show, but the new feed hash is remembered.
        assert store.save_article(article(feed_hash="f2")) == "unchanged"
        assert store.known_articles("kzg", "p9") == {"1029400": ("标题", "f2")}
        later = NOW + timedelta(days=2)
        assert store.save_article(
            article(title="标题（更新）", markdown="新正文。", published=later, fetched=later)
        ) == ("updated")
        saved = store.article(ArticleKey("kzg", "p9", "1029400"))
        assert saved is not None
        assert (saved.title, saved.markdown, saved.fetched) == ("标题（更新）", "新正文。", later)
        assert saved.published == NOW  # it stays where readers found it in the index
        assert list(store.known_articles("kzg", "p9")) == ["1029400"]


def test_a_store_that_cannot_be_written_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    with Store(path, readonly=True) as store, pytest.raises(StoreError, match="cannot write to the store") as error:
        store.save_article(article())
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_a_failed_write_rolls_back_and_says_so(store_location: Path | str) -> None:
    with Store(store_location) as store:
        store.save_article(article())
        store._db.execute("DROP TABLE views")  # a store damaged under a running counter
        with pytest.raises(StoreError, match=r'no such table: views|relation "views" does not exist'):
            store.add_views("2026-11-27", [(ArticleKey("kzg", "p9", "1029400"), 3)])
        assert not store._db.in_transaction
        assert store.save_article(article(title="新标题", markdown="新")) == "updated"


def test_every_kind_of_record_round_trips(store_location: Path | str) -> None:
    key = ArticleKey("kzg", "p9", "1029400")
    with Store(store_location) as store:
        store.save_article(article())
        assert store.article(key) == replace(article(), content_hash=store.article(key).content_hash)  # type: ignore[union-attr]
        assert [a.id for a in store.articles("kzg", "p9", limit=None)] == ["1029400"]
        assert [h.key for h in store.article_heads("kzg", "p9")] == [key]
        assert store.record_gone(ArticleKey("kzg", "p9", "gone"), "h", "404") == 1
        assert store.record_gone(ArticleKey("kzg", "p9", "gone"), "h", "404") == 2
        assert store.given_up("kzg", "p9", 2) == {"gone": "h"}
        # Counts add up, as several counters writing at once need; a view of 2**31 and more is kept.
        store.add_views("2026-11-27", [(key, 3)])
        store.add_views("2026-11-27", [(key, 2**31)])
        assert store.view_totals() == {key: 2**31 + 3}
        assert [(h.key, h.views) for h in store.hot_articles("2026-11-01")] == [(key, 2**31 + 3)]
        store.set_article_images(key, ["https://img.example/a.png", "https://img.example/a.png"])
        assert store.images_to_retry(3) == [("https://img.example/a.png", key)]
        store.image_failed("https://img.example/a.png", "HTTP 404")
        image = ShrunkImage(b"\x89PNG\x00\xff", "png", 640, 480)
        store.save_image("https://img.example/a.png", image)
        assert store.image_data("https://img.example/a.png") == b"\x89PNG\x00\xff"
        assert store.article_image_files() == {key: {"https://img.example/a.png": f"{image.sha1}.png"}}
        assert store.image_sizes() == {f"{image.sha1}.png": (640, 480)}
        manifest = {"pages/a.md": BuiltFile("in", 10, 1_700_000_000_123_456_789, "d")}
        store.update_build_manifest("/out", manifest, [])
        store.update_build_manifest("/out", {"pages/a.md": BuiltFile("in2", 11, 2, "e")}, [])
        assert store.build_manifest("/out") == {"pages/a.md": BuiltFile("in2", 11, 2, "e")}
        run = store.start_run("sync")
        store.finish_run(run, RunSummary(new=1))
        assert store.start_run("sync") == run + 1


def test_claims_give_each_due_feed_to_one_owner_until_its_lease_runs_out(store_location: Path | str) -> None:
    feeds = [("a", f"c{i}", f"https://a.example/{i}.xml") for i in range(6)]
    with Store(store_location) as one, Store(store_location) as two:
        one.register_feeds(feeds)
        lease = NOW + timedelta(minutes=2)
        first = one.claim_feeds("w1", now=NOW, lease_until=lease, limit=4)
        second = two.claim_feeds("w2", now=NOW, lease_until=lease)
        assert len(first) == 4 and len(second) == 2 and not set(first) & set(second)
        assert two.claim_feeds("w2", now=NOW, lease_until=lease) == []  # nothing twice, not even to itself
        assert one.next_due(NOW) == lease  # every feed is held: the first lease may run out then
        # w1 dies: once its lease has run out, w2 takes its feeds; a renewed lease is kept.
        assert two.renew_leases("w2", NOW + timedelta(minutes=10)) == 2
        later = NOW + timedelta(minutes=3)
        assert sorted(two.claim_feeds("w2", now=later, lease_until=later + timedelta(minutes=2))) == sorted(first)
        # A poll releases the feed and says when it is due; not due, it is not claimed.
        state = two.feed_state("a", "c0")
        assert state is not None
        two.save_feed_state(replace(state, next_due=later + timedelta(hours=1)))
        two.release_feeds("w2")
        assert ("a", "c0") not in one.claim_feeds("w1", now=later, lease_until=later + timedelta(minutes=2))
        assert ("a", "c0") in one.claim_feeds("w1", now=later, lease_until=later, due_only=False)
        # A feed gone from the config is never claimed again.
        one.release_feeds("w1")
        one.register_feeds(feeds[1:])
        claimed = one.claim_feeds("w1", now=later, lease_until=later, due_only=False)
        assert ("a", "c0") not in claimed and len(claimed) == 5


def test_counters_writing_at_once_lose_no_count(store_location: Path | str) -> None:
    """Several `counter` instances share one views table: every count they add is kept."""
    import threading

    key = ArticleKey("kzg", "p9", "1029400")
    Store(store_location).close()

    def counter() -> None:
        with Store(store_location) as store:
            for _ in range(50):
                store.add_views("2026-11-27", [(key, 1), (ArticleKey("kzg", "p9", "other"), 2)])

    threads = [threading.Thread(target=counter) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Store(store_location) as store:
        assert store.view_totals() == {key: 200, ArticleKey("kzg", "p9", "other"): 400}

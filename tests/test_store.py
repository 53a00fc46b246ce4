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


def test_claims_take_turns_between_hosts_and_hold_few_of_one(store_location: Path | str) -> None:
    """A worker claims each host's most overdue feed first, and at most per_host of one host: the
    first worker to claim cannot take a big site's feeds all, to poll them one by one behind the limit."""
    feeds = [("big", f"c{i}", f"https://big.example/{i}.xml") for i in range(8)]
    feeds += [("small", "c0", "https://small.example/0.xml"), ("other", "c0", "https://other.example/0.xml")]
    with Store(store_location) as one, Store(store_location) as two:
        one.register_feeds(feeds)
        lease = NOW + timedelta(minutes=2)
        first = one.claim_feeds("w1", now=NOW, lease_until=lease, limit=3, per_host=2)
        assert sorted(site for site, _ in first) == ["big", "other", "small"]  # one of each host first
        more = one.claim_feeds("w1", now=NOW, lease_until=lease, limit=10, per_host=2)
        assert more == [("big", "c1")]  # a second of big's, never a third
        assert one.claim_feeds("w1", now=NOW, lease_until=lease, per_host=2) == []
        # The other worker gets its share of big's feeds, and the rest stay for a third one.
        second = two.claim_feeds("w2", now=NOW, lease_until=lease, per_host=2)
        assert second == [("big", "c2"), ("big", "c3")]
        # A poll ends with the feed released: the worker may take the next one of that host.
        state = one.feed_state("big", "c0")
        assert state is not None
        one.save_feed_state(replace(state, next_due=NOW + timedelta(hours=1)))
        assert one.claim_feeds("w1", now=NOW, lease_until=lease, per_host=2) == [("big", "c4")]


def test_claims_at_the_same_moment_never_share_a_feed(store_location: Path | str) -> None:
    import threading

    feeds = [(f"s{i % 5}", f"c{i}", f"https://s{i % 5}.example/{i}.xml") for i in range(60)]
    with Store(store_location) as store:
        store.register_feeds(feeds)
    claims: list[list[tuple[str, str]]] = []

    def worker(name: str) -> None:
        with Store(store_location) as store:
            for _ in range(4):
                claims.append(store.claim_feeds(name, now=NOW, lease_until=NOW + timedelta(minutes=2), limit=4))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [feed for claim in claims for feed in claim]
    assert len(claimed) == len(set(claimed)) == 60


def test_host_slots_hold_the_limit_across_stores_and_expire(store_location: Path | str) -> None:
    """http.per_host across processes: each request holds one of its host's slots in the store."""
    with Store(store_location) as one, Store(store_location) as two:
        lease = NOW + timedelta(minutes=2)
        taken = [store.take_host_slot("a.example", name, limit=2, now=NOW, lease_until=lease) for store, name in
                 ((one, "w1"), (two, "w2"), (one, "w1"))]  # fmt: skip
        assert taken == [0, 1, None]
        assert two.take_host_slot("b.example", "w2", limit=2, now=NOW, lease_until=lease) == 0  # hosts apart
        assert one.host_slots_held(NOW) == {"a.example": 2, "b.example": 1}
        # A process with a higher limit of its own gets a slot beyond the others'.
        assert one.take_host_slot("a.example", "w1", limit=3, now=NOW, lease_until=lease) == 2
        two.give_host_slot("a.example", 1, "w2")
        assert one.take_host_slot("a.example", "w1", limit=2, now=NOW, lease_until=lease) == 1
        # w1 holds slots 0-2 of a: renewed, they outlive the lease; given back when it stops.
        two.give_host_slot("a.example", 0, "w2")  # not w2's: nothing happens
        later = NOW + timedelta(minutes=3)
        one.renew_leases("w1", later + timedelta(minutes=2))
        assert two.take_host_slot("a.example", "w2", limit=2, now=later, lease_until=later) is None
        # w2 dies holding b's slot: once its lease has run out, the slot is free again.
        assert one.take_host_slot("b.example", "w1", limit=1, now=later, lease_until=later) == 0
        one.release_feeds("w1")
        assert two.take_host_slot("a.example", "w2", limit=2, now=later, lease_until=later) == 0


def test_host_slots_taken_at_the_same_moment_never_exceed_the_limit(store_location: Path | str) -> None:
    import threading

    Store(store_location).close()
    taken: list[int | None] = []

    def taker(name: str) -> None:
        with Store(store_location) as store:
            for _ in range(3):
                taken.append(store.take_host_slot("a.example", name, limit=2, now=NOW, lease_until=NOW + timedelta(1)))

    threads = [threading.Thread(target=taker, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(slot for slot in taken if slot is not None) == [0, 1] and len(taken) == 18


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

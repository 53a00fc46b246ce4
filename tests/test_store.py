"""The store's own promises: save outcomes, what an update keeps, errors as one line."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from newsmirror.models import Article, ArticleKey, utcnow
from newsmirror.store import Store, StoreError

NOW = utcnow()


def article(**changes: object) -> Article:
    base = Article(
        site="kzg", channel="p9", id="1029400", url="https://example.com/1029400.html", title="标题",
        markdown="正文。", html="<p>正文。</p>", published=NOW, fetched=NOW, feed_hash="f1",
    )  # fmt: skip
    return replace(base, content_hash="", **changes)


def test_new_updated_unchanged_and_what_an_update_keeps(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
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


def test_a_failed_write_rolls_back_and_says_so(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.save_article(article())
        store._db.execute("DROP TABLE views")  # a store damaged under a running counter
        with pytest.raises(StoreError, match="no such table: views"):
            store.add_views("2026-11-27", [(ArticleKey("kzg", "p9", "1029400"), 3)])
        assert not store._db.in_transaction
        assert store.save_article(article(title="新标题", markdown="新")) == "updated"

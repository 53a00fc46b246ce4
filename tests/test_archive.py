"""The archive end to end over real HTTP: edits kept as revisions, rechecks, deletions at the source."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsmirror import layout
from newsmirror.config import Config, load_config
from newsmirror.demosite import DemoSite
from newsmirror.models import Article, ArticleKey, article_id
from newsmirror.render import build
from newsmirror.revisions import diff_markdown, text_fingerprint
from newsmirror.signing import generate_key
from newsmirror.store import Store
from newsmirror.sync import sync

CLIMATE = "1031311"  # 晨光新闻 world: a Chinese article the tests edit
ONE_HOUR = timedelta(hours=1)


@pytest.fixture
def demo():
    with DemoSite(slow_delay=0.1) as site:
        yield site


def configure(tmp_path: Path, demo: DemoSite, **mirror: object) -> Config:
    text = demo.config_toml(output=str(tmp_path / "mirror"), store=str(tmp_path / "store.db"))
    # The sample articles are from March 2026: recheck them whatever today's date.
    settings = {"recheck_days": 10000, "recheck_hours": 0, "recheck_share": 0.9, **mirror}
    lines = "".join(
        f"{key} = {str(value).lower() if isinstance(value, bool) else value}\n" for key, value in settings.items()
    )
    text = text.replace("[mirror]\n", "[mirror]\n" + lines, 1)
    text = text.replace('id = "harbor"\n', 'id = "harbor"\nlanguage = "en"\n', 1)  # its pages speak English
    (tmp_path / "newsmirror.toml").write_text(text, "utf-8")
    return load_config(tmp_path / "newsmirror.toml")


def url_of(demo: DemoSite, key: str) -> str:
    item = next(i for items in demo._items.values() for i in items if i.key == key)
    return demo.base_url + item.path


def key_of(demo: DemoSite, url: str) -> ArticleKey:
    item = next(i for items in demo._items.values() for i in items if demo.base_url + i.path == url)
    return ArticleKey(item.site, item.channel, article_id(url))


def run(cfg: Config, store: Store, **filters: object):
    # Every feed, due or not: rechecks ride on the requests of a run that polls feeds.
    return asyncio.run(sync(cfg, store, all_feeds=True, **filters))  # type: ignore[arg-type]


def test_a_page_edited_twice_has_two_revisions_and_a_history_page(tmp_path: Path, demo: DemoSite) -> None:
    cfg = configure(tmp_path, demo)
    url = url_of(demo, CLIMATE)
    key = key_of(demo, url)
    with Store(cfg.store_path) as store:
        run(cfg, store)
        build(cfg, store)
        page = (tmp_path / "mirror" / layout.page_path(key)).read_text("utf-8")
        assert "修改记录" not in page and not (tmp_path / "mirror" / layout.history_path(key)).exists()

        # Silent edits: the feed stays as it was, only a recheck of the page sees them.
        demo.edit_article(url, "二十个沿海国家", "二十二个沿海国家")
        assert run(cfg, store, sites=["cgw"], channels=["world"]).updated == 1
        demo.edit_article(url, "最难谈成的部分", "最难谈妥的部分")
        demo.clear_requests()
        assert run(cfg, store, sites=["cgw"], channels=["world"]).updated == 1
        # Its feed entry did not change: the recheck's conditional GET (not a fetch for the feed) found the new text.
        path = url.removeprefix(demo.base_url)
        assert [(r.status, r.conditional) for r in demo.requests if r.path == path] == [(200, True)]
        # Only whitespace changes: not a revision.
        demo.edit_article(url, "最难谈妥的部分。", "最难谈妥的部分。  \n  ")
        assert run(cfg, store, sites=["cgw"], channels=["world"]).updated == 0

        revisions = store.revisions(key)
        assert len(revisions) == 2
        assert "二十个沿海国家" in revisions[0].markdown and "二十二个" in revisions[1].markdown
        current = store.article(key)
        assert current is not None and "最难谈妥的部分" in current.markdown and current.updated

        build(cfg, store)
    page = (tmp_path / "mirror" / layout.page_path(key)).read_text("utf-8")
    assert re.search(rf"本文更新于 \d{{4}}-\d\d-\d\d \d\d:\d\d UTC · \[修改记录\]\({CLIMATE}\.history\.md\)", page)
    history = (tmp_path / "mirror" / layout.history_path(key)).read_text("utf-8")
    assert history.count("的修改\n") == 2
    # Per character in Chinese: the one added 二, the one changed 成 → 妥; nothing else of the sentence marked.
    assert "二十**二**个沿海国家" in history
    assert "最难谈~~成~~**妥**的部分" in history
    assert history.index("~~成~~") < history.index("**二**")  # the newest change first


def test_diffs_are_per_word_outside_cjk_and_boilerplate_is_not_a_revision() -> None:
    old = "Crews on the island ferries stopped work on Monday.\n\nTalks resume on Friday.\n\n1,204 views"
    new = "Crews on the island ferries stopped work on Tuesday.\n\nTalks resume on Friday.\n\n1,388 views"
    assert diff_markdown("T", old, "T", new) == ["Crews on the island ferries stopped work on ~~Monday~~**Tuesday**."]
    assert text_fingerprint("T", old.replace("1,204", "1,388")) == text_fingerprint("T", old)
    assert text_fingerprint("T", "a  b\n\n\n阅读 12 次") == text_fingerprint("T", "a b\n\n阅读 40 次")
    # A number in the text itself is the text: a changed count of victims is a revision.
    assert text_fingerprint("T", "死亡人数升至10人，救援仍在继续。") != text_fingerprint(
        "T", "死亡人数升至12人，救援仍在继续。"
    )
    # Punctuation next to a letter would stop GitHub seeing the marks: the change takes in a neighbour.
    assert diff_markdown("标题", "", "标题（更新）", "") == ["标~~题~~**题（更新）**"]


def test_deleted_at_the_source_after_two_checks_kept_and_listed(tmp_path: Path, demo: DemoSite) -> None:
    cfg = configure(tmp_path, demo, keep_per_channel=1)
    world = [i for i in demo._items["cgw"] if i.channel == "world" and not i.missing and not i.video]
    gone_url = demo.base_url + world[-1].path  # the oldest: retention alone would drop it
    moved_url = demo.base_url + next(i for i in demo._items["harbor"] if i.channel == "world").path
    unlisted_url = demo.base_url + world[1].path
    gone, moved = key_of(demo, gone_url), key_of(demo, moved_url)
    with Store(cfg.store_path) as store:
        run(cfg, store)
        demo.delete_article(gone_url, "404")
        demo.delete_article(moved_url, "home")  # the address now redirects to the site's home page
        demo.unlist_article(unlisted_url)  # leaves the feed, the page stays: not a deletion
        first = run(cfg, store)
        assert first.deleted == 0  # one check that finds it gone is not enough
        assert store.deleted_heads() == []
        second = run(cfg, store)
        assert second.deleted == 2
        deleted = {h.key: h for h in store.deleted_heads()}
        assert set(deleted) == {gone, moved}
        build(cfg, store)

    mirror = tmp_path / "mirror"
    page = (mirror / layout.page_path(gone)).read_text("utf-8")  # kept although keep_per_channel = 1
    day = f"{deleted[gone].deleted:%Y-%m-%d}"
    assert f"> **原文已被删除** · 首次发现于 {day}，本站保留存档" in page
    assert world[-1].title.split("（")[0][:8] in page  # its text stays
    moved_page = (mirror / layout.page_path(moved)).read_text("utf-8")
    assert f"> **The original has been deleted** · first seen gone {deleted[moved].deleted:%Y-%m-%d}" in moved_page
    listing = (mirror / "indexes" / "deleted.md").read_text("utf-8")
    assert f"../{layout.page_path(gone)}" in listing and f"../{layout.page_path(moved)}" in listing
    assert f"../{layout.page_path(key_of(demo, unlisted_url))}" not in listing
    home = (mirror / "README.md").read_text("utf-8")
    assert "[原文已被删除的文章](indexes/deleted.md" in home


def test_a_single_404_does_not_mark_and_an_article_that_comes_back_is_not_deleted(
    tmp_path: Path, demo: DemoSite
) -> None:
    cfg = configure(tmp_path, demo)
    url = url_of(demo, CLIMATE)
    with Store(cfg.store_path) as store:
        run(cfg, store, sites=["cgw"], channels=["world"])
        demo.delete_article(url, "410")
        run(cfg, store, sites=["cgw"], channels=["world"])
        item = next(i for i in demo._items["cgw"] if i.key == CLIMATE)
        item.deleted = ""  # back online: the count of checks in a row starts again
        demo._render(demo._site("cgw"))
        run(cfg, store, sites=["cgw"], channels=["world"])
        demo.delete_article(url, "410")
        run(cfg, store, sites=["cgw"], channels=["world"])
        assert store.deleted_heads() == []


def test_rechecks_take_at_most_their_share_of_a_run_and_use_conditional_get(tmp_path: Path, demo: DemoSite) -> None:
    cfg = configure(tmp_path, demo, recheck_share=0.5)
    pages = {i.path for items in demo._items.values() for i in items}
    with Store(cfg.store_path) as store:
        run(cfg, store)
        demo.clear_requests()
        summary = run(cfg, store)
    served = demo.requests
    # A recheck asks with the page's validators; the feeds answer 304, the missing article its 404.
    rechecks = [r for r in served if r.path in pages and r.status != 404]
    others = len(served) - len(rechecks)
    assert summary.rechecked == len(rechecks) > 0
    assert len(rechecks) <= others  # half of the run's requests at most
    # Nothing changed: a 304 each, but for pages never fetched before (a site whose text comes from its feed).
    assert [r for r in rechecks if r.status != 304 and not r.path.startswith("/qingsong/")] == []
    assert any(r.conditional for r in rechecks)
    assert summary.rechecked < sum(1 for items in demo._items.values() for i in items if i.listed)  # the rest wait


def test_every_page_shows_the_key_and_the_traditional_copy_has_the_archive(tmp_path: Path) -> None:
    """Markdown and HTML, the mirror's and its zh-Hant copy's: every page ends with the key's short
    fingerprint; the copy also has the history pages, the deleted notice and the deleted list, in
    traditional script."""
    text = (
        '[mirror]\ntitle = "测试镜像"\nbase_url = "https://example.org/m"\noutput = "out"\nstore = "store.db"\n'
        'html = true\nsearch = true\nhealth_page = true\nvariants = ["zh-Hant"]\n'
        '\n[[site]]\nid = "kzg"\nname = "看中国"\n\n  [[site.channel]]\n  id = "p9"\n  name = "看世界"\n'
        '  feed = "https://www.example.com/p9.xml"\n'
    )
    (tmp_path / "newsmirror.toml").write_text(text, "utf-8")
    cfg = load_config(tmp_path / "newsmirror.toml")
    short = generate_key(cfg.signing_key_path, "test").short_fingerprint
    when = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    edited, gone = ArticleKey("kzg", "p9", "1029400"), ArticleKey("kzg", "p9", "1029401")
    with Store(cfg.store_path) as store:
        for key, body in ((edited, "协定规定，数据共享是最难谈成的部分。"), (gone, "这篇报道说，菜价上涨。")):
            store.save_article(
                Article(site="kzg", channel="p9", id=key.id, url=f"https://www.example.com/{key.id}.html",
                        title=f"标题 {key.id}", markdown=body, html="", published=when, fetched=when)
            )  # fmt: skip
        stored = store.article(edited)
        assert stored is not None
        later = replace(
            stored, markdown="协定规定，数据共享是最难谈妥的部分。", fetched=when + ONE_HOUR, content_hash=""
        )
        assert store.save_article(later) == "updated"
        store.record_gone_check(gone, when + ONE_HOUR)
        assert store.record_gone_check(gone, when + 2 * ONE_HOUR).deleted  # type: ignore[union-attr]
        result = build(cfg, store)
    assert result.ok, result.errors
    out = cfg.output_dir
    pages = sorted(p for p in out.rglob("*") if p.suffix in (".md", ".html") and "pagefind" not in p.parts)
    names = {p.relative_to(out).as_posix() for p in pages}
    # Every kind of page, in both trees: home, index, most read, deleted, health, article, history, search.
    for tree in ("", "zh-hant/"):
        for name in ("README.md", "index.html", "indexes/kzg-p9.md", "indexes/hot.html", "indexes/deleted.md",
                     f"{layout.history_path(edited)}", f"{layout.history_path(edited)[:-3]}.html",
                     f"{layout.page_path(gone)}", "search.html"):  # fmt: skip
            assert tree + name in names, tree + name
    assert "indexes/health.md" in names
    for page in pages:
        body = page.read_text("utf-8")
        rel = page.relative_to(out).as_posix()
        assert f"`{short}`" in body or f"<code>{short}</code>" in body, rel
        # Its link to SHA256SUMS leads to the top of the tree from wherever the page is.
        sums = "../" * rel.count("/") + layout.SUMS
        assert f"]({sums})" in body or f'href="{sums}"' in body, rel
    hant = out / "zh-hant"
    history = (hant / layout.history_path(edited)).read_text("utf-8")
    assert "# 修改記錄：標題 1029400" in history and "最難談~~成~~**妥**的部分" in history
    assert "本鏡像的簽名密鑰指紋" in history
    page = (hant / layout.page_path(edited)).read_text("utf-8")
    assert f"[修改記錄]({edited.id}.history.md)" in page  # the copy's own history page, beside it
    notice = (hant / layout.page_path(gone)).read_text("utf-8")
    assert "> **原文已被刪除** · 首次發現於 2026-03-09，本站保留存檔" in notice
    listing = (hant / layout.DELETED).read_text("utf-8")
    assert "# 原文已被刪除的文章" in listing and f"../{layout.page_path(gone)}" in listing
    assert f"../{layout.page_path(edited)}" not in listing
    assert "原文已被刪除的文章](indexes/deleted.md" in (hant / "README.md").read_text("utf-8")
    with Store(cfg.store_path) as store:
        assert build(cfg, store).written == []  # and nothing changes when nothing changed


def test_pollers_sharing_a_store_never_recheck_an_article_twice_in_a_period(store_location: Path | str) -> None:
    """Two workers (or a worker and a timer's run) may find the same rechecks due at once: each is
    claimed by one of them only, as two checks that find a page gone must be a period apart."""
    when = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    with Store(store_location) as store:
        for number in (1, 2):
            store.save_article(
                Article(site="kzg", channel="p9", id=str(number), url=f"https://www.example.com/{number}.html",
                        title=f"标题 {number}", markdown=f"正文 {number}。", html="", published=when, fetched=when)
            )  # fmt: skip
        now, period_start = when + 7 * ONE_HOUR, when + ONE_HOUR
        due = store.due_rechecks(when - ONE_HOUR, period_start, 10)
        assert len(due) == 2
        first = store.claim_rechecks(due[:1], now, period_start)
        assert first == due[:1]
        # The other poller read the same list before the claim: it gets only what is left.
        assert store.claim_rechecks(due, now, period_start) == due[1:]
        assert store.claim_rechecks(due, now, period_start) == []
        assert store.due_rechecks(when - ONE_HOUR, period_start, 10) == []
        # A period later they are due again.
        assert len(store.due_rechecks(when - ONE_HOUR, now + ONE_HOUR, 10)) == 2

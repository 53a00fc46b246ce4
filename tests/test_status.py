"""Feed health: `newsmirror status` (table, --json, --fail-on-stale), `newsmirror log`, and the store's side of it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from newsmirror.cli import app
from newsmirror.demosite import DemoSite
from newsmirror.models import Article, FeedState, RunSummary, utcnow
from newsmirror.status import BodyMeasure, body_warnings, measure_body
from newsmirror.store import Store

# Set by make_store: the ages in the tests are measured from when the store was made, not from collection.
NOW = utcnow()
LONG = "记者报道，" * 300  # some 1,500 characters of text
CONFIG = """
[mirror]
base_url = "https://github.com/someone/mirror/blob/main"
store = "store.db"

[[site]]
id = "kzg"
name = "看中国"
{channels}
"""


def channel(cid: str) -> str:
    return f'\n  [[site.channel]]\n  id = "{cid}"\n  name = "{cid}"\n  feed = "https://www.kzg.io/{cid}.xml"\n'


def article(cid: str, n: int, markdown: str, age: timedelta) -> Article:
    when = NOW - age
    return Article(
        site="kzg", channel=cid, id=str(1000 + n), url=f"https://www.kzg.io/{cid}/{1000 + n}.html",
        title=f"第{n}篇", markdown=markdown, html="", published=when, fetched=when,
    )  # fmt: skip


def state(cid: str, ok: bool, age: timedelta, error: str = "") -> FeedState:
    return FeedState("kzg", cid, f"https://www.kzg.io/{cid}.xml", checked_at=NOW - age, ok=ok, error=error)


def make_store(tmp_path: Path) -> Path:
    """Four feeds: healthy, failing (three checks in a row), stale (last success three days ago), shrunk bodies."""
    global NOW
    NOW = utcnow()
    config = tmp_path / "newsmirror.toml"
    config.write_text(CONFIG.format(channels="".join(channel(c) for c in ("ok", "failing", "stale", "shrunk"))))
    with Store(tmp_path / "store.db") as store:
        for cid in ("ok", "failing", "stale", "shrunk"):
            store.save_feed_state(state(cid, True, timedelta(hours=5) if cid != "stale" else timedelta(days=3)))
        for hours in (3, 2, 1):
            store.save_feed_state(state("failing", False, timedelta(hours=hours), f"feed kzg/failing: HTTP 50{hours}"))
        store.save_feed_state(state("ok", True, timedelta(minutes=10)))
        for n in range(14):  # two a day over the last week
            store.save_article(article("ok", n, LONG, timedelta(hours=12 * n + 1)))
        for n in range(20):  # the site was redesigned: the newest five bodies are a line each
            body = "只剩摘要。" * 60 if n < 5 else LONG  # 300 characters: not "very short", but a fifth
            store.save_article(article("shrunk", n, body, timedelta(days=n + 1)))
        store.save_article(article("stale", 1, LONG, timedelta(days=30)))
    return config


def test_status_shows_a_failing_a_stale_and_a_shrinking_feed(tmp_path: Path) -> None:
    config = make_store(tmp_path)
    result = CliRunner().invoke(app, ["status", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    feeds = {f["channel"]: f for f in json.loads(result.stdout)}
    assert list(feeds) == ["ok", "failing", "stale", "shrunk"]
    healthy, failing, stale, shrunk = feeds.values()
    assert (healthy["failures"], healthy["warnings"], healthy["stored"], healthy["items_per_day"]) == (0, [], 14, 2)
    assert failing["failures"] == 3 and failing["last_error"] == "feed kzg/failing: HTTP 501"
    assert failing["last_success"] == (NOW - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stale["last_success"] == (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stale["failures"] == 0 and stale["items_per_day"] == 0 and stale["stored"] == 1
    assert len(shrunk["warnings"]) == 1 and shrunk["warnings"][0].startswith("bodies shrank: the last 5 have a median")
    assert healthy["warnings"] == failing["warnings"] == stale["warnings"] == []

    table = CliRunner().invoke(app, ["status", "--config", str(config)], env={"COLUMNS": "250"})
    assert table.exit_code == 0
    rows = {line.split()[0]: line for line in table.stdout.splitlines() if line.startswith("kzg/")}
    assert "5 h ago" in rows["kzg/failing"] and "1 h ago: feed kzg/failing: HTTP 501" in rows["kzg/failing"]
    assert "3 d ago" in rows["kzg/stale"]
    assert "bodies shrank" in rows["kzg/shrunk"] and "10 min ago" in rows["kzg/ok"]
    assert healthy["next_due"] is None and " due " in rows["kzg/ok"]  # never scheduled: due now


def test_fail_on_stale_exits_non_zero_naming_the_stale_feeds(tmp_path: Path) -> None:
    config = make_store(tmp_path)
    result = CliRunner().invoke(app, ["status", "--config", str(config), "--json", "--fail-on-stale", "24"])
    assert result.exit_code == 1
    stale = [line for line in result.stderr.splitlines() if line.startswith("stale:")]
    assert stale == [
        f"stale: feed kzg/stale: no success for 3 d, since {NOW - timedelta(days=3):%Y-%m-%d %H:%M} UTC "
        "(0 failed checks since)"
    ]
    # A wider window: the failing feed succeeded 5 hours ago, so nothing is stale for 100 hours.
    assert CliRunner().invoke(app, ["status", "--config", str(config), "--fail-on-stale", "100"]).exit_code == 0
    assert CliRunner().invoke(app, ["status", "--config", str(config), "--fail-on-stale", "4"]).exit_code == 1


def test_a_recovered_feed_keeps_its_last_error_and_counts_again_from_zero(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.save_feed_state(state("p9", False, timedelta(hours=2), "boom"))
        store.save_feed_state(state("p9", True, timedelta(hours=1)))
        (saved,) = store.feed_states()
        assert (saved.failures, saved.last_error, saved.ok) == (0, "boom", True)
        assert saved.last_success == NOW - timedelta(hours=1) and saved.last_error_at == NOW - timedelta(hours=2)


def test_body_warnings_empty_short_and_mostly_links() -> None:
    assert measure_body("正文**加粗**。\n\n![图](https://x/y.png)") == BodyMeasure(5, 0)
    assert measure_body("[相关链接](https://x/1) 正文") == BodyMeasure(6, 4)
    empty, short, links = BodyMeasure(0, 0), BodyMeasure(50, 0), BodyMeasure(400, 300)
    assert list(map(str, body_warnings([empty] + [BodyMeasure(1500, 0)] * 9))) == ["1 of the last 10 bodies empty"]
    assert list(map(str, body_warnings([short] * 3 + [links] * 3))) == [
        "3 of the last 6 bodies very short (under 200 characters)",
        "3 of the last 6 bodies mostly links",
    ]
    assert body_warnings([short] * 2 + [BodyMeasure(1500, 0)] * 8) == []  # two briefs are news, not a pattern


def test_sync_records_health_and_the_run_log_reads_back(tmp_path: Path) -> None:
    with DemoSite(slow_delay=0.2) as demo:
        config = tmp_path / "newsmirror.toml"
        config.write_text(demo.config_toml(output=str(tmp_path / "mirror"), store=str(tmp_path / "store.db")))
        for _ in range(2):
            assert CliRunner().invoke(app, ["sync", "--all", "--config", str(config)]).exit_code == 1  # the broken feed
    result = CliRunner().invoke(app, ["status", "--config", str(config), "--json"])
    feeds = json.loads(result.stdout)
    broken = [f for f in feeds if f["failures"]]
    assert len(broken) == 1 and broken[0]["failures"] == 2 and broken[0]["last_success"] is None
    assert broken[0]["last_error"].startswith(f"feed {broken[0]['site']}/{broken[0]['channel']}")
    # The second sync was answered 304 by the good feeds: a success all the same.
    assert all(f["last_success"] and f["last_success"] == f["last_check"] for f in feeds if not f["failures"])
    # The scheduler's next-due time shows, later than the check; the failing feed backs off.
    assert all(f["next_due"] > f["last_check"] for f in feeds)
    table = CliRunner().invoke(app, ["status", "--config", str(config)], env={"COLUMNS": "250"})
    label = f"{broken[0]['site']}/{broken[0]['channel']} "
    row = next(line for line in table.stdout.splitlines() if line.startswith(label))
    assert " in " in row and " due " not in row, row

    log = CliRunner().invoke(app, ["log", "--config", str(config), "--last", "1"])
    assert log.exit_code == 0
    first, *errors = log.stdout.splitlines()
    assert " sync (" in first and "not modified" in first and "1 failed;" in first
    assert errors and all(line.startswith("    ") for line in errors)
    assert any(broken[0]["last_error"] in line for line in errors)
    assert len(CliRunner().invoke(app, ["log", "--config", str(config)]).stdout.splitlines()) > len(errors) + 1


def test_log_of_an_empty_store_and_summaries_written_by_finish_run(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        assert store.runs(5) == []
        first = store.start_run("sync")
        store.finish_run(first, RunSummary(feeds_ok=2, new=3, errors=["feed a/b: HTTP 404"]))
        store.start_run("sync")  # killed before its end
        unfinished, done = store.runs(5)
        assert unfinished.finished is None and unfinished.summary is None
        assert done.summary == RunSummary(feeds_ok=2, new=3, errors=["feed a/b: HTTP 404"])


def test_health_page_shows_which_sources_are_current_and_only_changes_with_them(tmp_path: Path) -> None:
    from newsmirror.config import load_config
    from newsmirror.render import build

    config_path = make_store(tmp_path)
    text = config_path.read_text().replace('store = "store.db"', 'store = "store.db"\nhealth_page = true')
    config_path.write_text(text)
    config = load_config(config_path)
    with Store(config.store_path) as store:
        first = build(config, store)
        assert first.ok and "indexes/health.md" in first.written
        page = (config.output_dir / "indexes/health.md").read_text()
        home = (config.output_dir / "README.md").read_text()
        assert "[来源状态](indexes/health.md" in home
        rows = {line.split(" | ")[0]: line for line in page.splitlines() if line.startswith("| 看中国")}
        assert "读取失败，上次成功" in rows["| 看中国 · failing"] and "HTTP 50" not in page  # no error text published
        assert " 正常 | 2.0 | 14 |" in rows["| 看中国 · ok"]
        # Its words are the mirror's, like the rest of the page: none of status's English.
        assert "正文变短：最近 5 篇的长度中位数为 300 字，此前 15 篇为 1500 字" in rows["| 看中国 · shrunk"]
        assert "bodies" not in page and "characters" not in page
        # Another check of every feed (a 304 each) changes nothing on the page: no commit for it.
        for cid in ("ok", "stale", "shrunk"):
            store.save_feed_state(state(cid, True, timedelta(0)))
        assert "indexes/health.md" not in build(config, store).written
        store.save_feed_state(state("failing", True, timedelta(0)))  # it recovered
        assert "indexes/health.md" in build(config, store).written
        assert "读取失败" not in (config.output_dir / "indexes/health.md").read_text()


def test_health_page_speaks_the_mirrors_language(tmp_path: Path) -> None:
    from newsmirror.config import load_config
    from newsmirror.render import build

    config_path = make_store(tmp_path)
    text = config_path.read_text().replace(
        'store = "store.db"', 'store = "store.db"\nhealth_page = true\nlanguage = "en"'
    )
    config_path.write_text(text)
    config = load_config(config_path)
    with Store(config.store_path) as store:
        assert build(config, store).ok
    page = (config.output_dir / "indexes/health.md").read_text()
    rows = {line.split(" | ")[0]: line for line in page.splitlines() if line.startswith("| 看中国")}
    assert page.startswith("# Source status") and "| Source | State | Per day | Stored | Warnings |" in page
    assert " current | 2.0 | 14 |" in rows["| 看中国 · ok"] and "failing; last success" in rows["| 看中国 · failing"]
    assert "bodies shrank: the last 5 have a median of 300 characters, the 15 before 1,500" in rows["| 看中国 · shrunk"]
    assert not [word for word in ("来源", "正常", "正文", "每日", "读取", "首页") if word in page]

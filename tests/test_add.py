"""`newsmirror add`: a site's feeds found over real HTTP on 127.0.0.1, added to a commented config
without touching a byte of what was there."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from newsmirror.cli import app
from newsmirror.config import load_config

# An operator's config: comments everywhere, odd spacing, a commented-out channel, a remote after the sites.
CONFIG = """\
# Our mirror — edited by hand, keep these notes!
[mirror]
base_url = "https://github.com/someone/mirror/blob/main"   # share links
title   =   "镜像"

[http]
retries = 0        # the sample server answers at once
allow_private = true   # it is served on 127.0.0.1

[[site]]
id = "kzg"           # 看中国
name = "看中国"
  # the main channel
  [[site.channel]]
  id = "p9"
  name = "看世界"
  feed = "https://www.kzg.io/p9.xml"

  # [[site.channel]]
  # id = "old"

[[remote]]
name = "github"     # the main copy
url = "git@github.com:someone/mirror.git"
"""


def rss(title: str, base: str, count: int = 2) -> str:
    items = "".join(
        f"<item><title>消息 {n}</title><link>{base}/a/2026/{1029400 + n}.html</link></item>" for n in range(count)
    )
    channel = f"<channel><title>{title}</title>{items}</channel>"
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">{channel}</rss>'


def page(head: str = "", body: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>要闻 - 山海日报</title>{head}</head>"
        f"<body><nav><a href='/'>首页</a><a href='/world/'>国际新闻频道</a><a href='/china/'>中国新闻频道</a></nav>"
        f"{body}<footer><a href='/about.html'>关于我们和联系方式</a></footer></body></html>"
    )


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    httpserver.no_handler_status_code = 404  # every path not served is a 404, as on a real site
    return httpserver


def run_add(config: Path, url: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["add", url, "--config", str(config), *args])


def only_inserted(before: str, after: str) -> list[str]:
    """The lines added; fails if any line of ``before`` was changed, moved or lost."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    assert all(tag in ("equal", "insert") for tag, *_ in ops), list(difflib.unified_diff(a, b))
    return [line for tag, _, _, j1, j2 in ops if tag == "insert" for line in b[j1:j2]]


def test_feeds_from_link_rel_alternate_become_a_new_site(tmp_path: Path, site: HTTPServer) -> None:
    base = f"http://127.0.0.1:{site.port}"
    head = (
        '<link rel="alternate" type="application/rss+xml" title="World news" href="/rss/world.xml">'
        '<link rel="alternate" type="application/atom+xml" href="feeds/china.atom">'
        '<link rel="alternate" type="application/rss+xml" href="/rss/broken.xml">'
        '<link rel="stylesheet" href="/style.css">'
    )
    site.expect_request("/").respond_with_data(page(head), content_type="text/html; charset=utf-8")
    site.expect_request("/rss/world.xml").respond_with_data(rss("World", base), content_type="application/rss+xml")
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>中国</title>'
        f'<entry><title>一</title><link href="{base}/a/2026/1.html"/><id>1</id><updated>2026-01-01T00:00:00Z</updated>'
        "</entry></feed>"
    )
    site.expect_request("/feeds/china.atom").respond_with_data(atom, content_type="application/atom+xml")
    config = tmp_path / "newsmirror.toml"
    config.write_text(CONFIG, "utf-8")

    dry = run_add(config, f"{base}/", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert config.read_text("utf-8") == CONFIG
    assert f"  feed: {base}/rss/world.xml — World news, 2 items" in dry.output
    assert f"  not a feed: {base}/rss/broken.xml: HTTP 404 NOT FOUND" in dry.output
    assert "would add to new [[site]] 'site': channel 'world' (World news)" in dry.output

    result = run_add(config, f"{base}/")
    assert result.exit_code == 0, result.output
    added = only_inserted(CONFIG, config.read_text("utf-8"))
    assert f'feed = "{base}/rss/world.xml"\n' in added and f'feed = "{base}/feeds/china.atom"\n' in added
    cfg = load_config(config)
    new = cfg.site("site")
    assert new.name == "山海日报"  # the shortest part of the page title
    assert [(c.id, c.name) for c in new.channels] == [("world", "World news"), ("china", "中国")]
    assert [s.id for s in cfg.sites] == ["kzg", "site"] and [r.name for r in cfg.remotes] == ["github"]

    again = run_add(config, f"{base}/")
    assert again.exit_code == 0 and f"already in {config}: {base}/rss/world.xml" in again.output
    assert "added" not in again.output


def test_feeds_only_at_a_common_path_go_to_the_given_site(tmp_path: Path, site: HTTPServer) -> None:
    base = f"http://127.0.0.1:{site.port}"
    site.expect_request("/news/").respond_with_data(page(body="<p>没有订阅链接</p>"), content_type="text/html")
    site.expect_request("/feed.xml").respond_with_data(rss("山海 · 全部", base, 5), content_type="text/xml")
    config = tmp_path / "newsmirror.toml"
    config.write_text(CONFIG, "utf-8")
    result = run_add(config, f"{base}/news/", "--site", "kzg")
    assert result.exit_code == 0, result.output
    assert f"added to site 'kzg': channel 'news' (山海 · 全部), feed {base}/feed.xml" in result.output
    added = only_inserted(CONFIG, config.read_text("utf-8"))
    assert "[[site.channel]]\n" in added
    assert [c.id for c in load_config(config).site("kzg").channels] == ["p9", "news"]

    unknown = run_add(config, f"{base}/news/", "--site", "nosuch")
    assert unknown.exit_code == 2 and "no site 'nosuch'" in unknown.output


def test_a_site_without_feeds_gets_a_listing_proposal(tmp_path: Path, site: HTTPServer) -> None:
    base = f"http://127.0.0.1:{site.port}"
    items = "".join(
        f'<li><a href="/a/2026/{1029400 + n}.html">第{n}条：港口工人投票结束罢工</a><span>01-0{n}</span></li>'
        for n in range(1, 6)
    )
    body = (
        f'<div class="main"><ul class="news-list">{items}</ul>'
        '<div class="side"><a href="/tags/港口">港口专题页面</a><a href="https://ads.other.net/x">广告链接文字</a></div></div>'
    )
    site.expect_request("/").respond_with_data(page(body=body), content_type="text/html")
    config = tmp_path / "newsmirror.toml"
    config.write_text(CONFIG, "utf-8")
    result = run_add(config, f"{base}/")
    assert result.exit_code == 0, result.output
    assert f"no feed; a listing page: {base}/, links = 'ul.news-list a'" in result.output
    assert f"    {base}/a/2026/1029401.html" in result.output
    assert "newsmirror extract" in result.output
    added = only_inserted(CONFIG, config.read_text("utf-8"))
    assert any(line.startswith('links = "ul.news-list a"') and "guessed by newsmirror add" in line for line in added)
    channel = load_config(config).site("site").channels[0]
    assert (channel.listing, channel.links, channel.feed) == (f"{base}/", "ul.news-list a", None)


def test_nothing_found_and_an_unreachable_page_are_one_line_errors(tmp_path: Path, site: HTTPServer) -> None:
    base = f"http://127.0.0.1:{site.port}"
    site.expect_request("/").respond_with_data(page(body="<p>空页面</p>"), content_type="text/html")
    config = tmp_path / "newsmirror.toml"
    config.write_text(CONFIG, "utf-8")
    empty = run_add(config, f"{base}/")
    assert empty.exit_code == 1 and f"error: {base}/: no feed found" in empty.output
    gone = run_add(config, f"{base}/missing/")
    assert gone.exit_code == 2 and gone.output.strip() == f"error: {base}/missing/: HTTP 404 NOT FOUND"
    assert config.read_text("utf-8") == CONFIG

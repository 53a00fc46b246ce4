"""The sample news sites: real HTTP requests to a running DemoSite."""

from __future__ import annotations

import gzip
import html
import time
from collections.abc import Iterator
from urllib.parse import urljoin

import feedparser
import httpx
import lxml.html
import pytest

from newsmirror import charset
from newsmirror.config import parse_config
from newsmirror.demosite import DemoSite
from newsmirror.models import canonical_url

SLOW = 0.6  # seconds; small, so the suite stays fast


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite(slow_delay=SLOW) as demo:
        yield demo


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def parse_feed(response: httpx.Response) -> feedparser.FeedParserDict:
    return feedparser.parse(response.content, response_headers=dict(response.headers))


def feed_links(site: DemoSite, key: tuple[str, str], response: httpx.Response) -> list[str]:
    parsed = parse_feed(response)
    return [canonical_url(urljoin(site.expected.feeds[key], e.link)) for e in parsed.entries]


def test_expected_describes_the_required_situations(site: DemoSite) -> None:
    expected = site.expected
    assert len(expected.all_articles()) >= 40
    assert len({s for s, _ in expected.articles}) >= 3
    assert len([k for k in expected.articles if k not in expected.malformed]) >= 6
    assert expected.not_found and expected.slow and expected.malformed and expected.listing
    assert expected.chinese_path and expected.update_marked
    assert all("视频" in a.title or "Video" in a.title for a in expected.skipped) and expected.skipped
    assert expected.gbk_site and expected.feed_content_site and expected.generic_site
    urls = [a.url for a in expected.all_articles()]
    assert len(urls) == len(set(urls))
    assert all(a.text and a.title for a in expected.all_articles())


def test_feeds_parse_and_list_every_expected_article(site: DemoSite, client: httpx.Client) -> None:
    expected = site.expected
    versions = set()
    for key, url in expected.feeds.items():
        if key in expected.malformed or key in expected.listing:
            continue
        response = client.get(url)
        assert response.status_code == 200
        parsed = parse_feed(response)
        versions.add(parsed.version)
        titles = [e.title for e in parsed.entries]
        links = feed_links(site, key, response)
        for article in expected.articles[key]:
            assert article.title in titles, (key, article.title)
            assert article.url in links, (key, article.url)
        # The skipped video items and the 404 are in the feed too: the mirror must handle them.
        for article in expected.skipped:
            if (article.site, article.channel) == key:
                assert article.url in links
    assert {"rss20", "atom10"} <= versions


def test_feeds_use_relative_links_and_chinese_paths(site: DemoSite, client: httpx.Client) -> None:
    raw_links = []
    for key, url in site.expected.feeds.items():
        if key not in site.expected.malformed and key not in site.expected.listing:
            raw_links += [e.link for e in parse_feed(client.get(url)).entries]
    assert any(not link.startswith("http") for link in raw_links)
    assert any("专题" in link for link in raw_links)
    chinese = site.expected.chinese_path[0]
    assert "%E4%B8%93%E9%A2%98" in chinese  # 专题, percent-encoded in the canonical URL
    response = client.get(chinese)
    assert response.status_code == 200
    assert site.expected.article(chinese).title in response.text


def test_feed_content_site_carries_full_text_that_its_pages_lack(site: DemoSite, client: httpx.Client) -> None:
    expected = site.expected
    key = next(k for k in expected.articles if k[0] == expected.feed_content_site)
    parsed = parse_feed(client.get(expected.feeds[key]))
    contents = {canonical_url(e.link): e.content[0].value for e in parsed.entries}
    for article in expected.articles[key]:
        assert article.text in contents[article.url]
        assert article.text not in client.get(article.url).text  # the page is a JavaScript shell


def test_malformed_feed_is_not_a_feed(site: DemoSite, client: httpx.Client) -> None:
    for key in site.expected.malformed:
        response = client.get(site.expected.feeds[key])
        parsed = parse_feed(response)
        assert parsed.version == "" and parsed.entries == []
        assert site.expected.articles[key] == []


def test_listing_page_links_to_its_articles(site: DemoSite, client: httpx.Client) -> None:
    config = parse_config(site.config_toml())
    for site_id, channel_id in site.expected.listing:
        channel = next(c for c in config.site(site_id).channels if c.id == channel_id)
        response = client.get(channel.listing)
        tree = lxml.html.fromstring(response.text)
        links = [canonical_url(urljoin(channel.listing, a.get("href"))) for a in tree.cssselect(channel.links)]
        assert links == [a.url for a in site.expected.articles[(site_id, channel_id)]]
        assert len(tree.cssselect("a")) > len(links)  # other links on the page are not articles


def test_conditional_get_answers_304(site: DemoSite, client: httpx.Client) -> None:
    site.clear_requests()
    feed = site.expected.feeds[("cgw", "world")]
    page = site.expected.articles[("cgw", "world")][0].url
    for url in (feed, page):
        first = client.get(url)
        etag, last_modified = first.headers["etag"], first.headers["last-modified"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
        stale = client.get(url, headers={"If-None-Match": '"something-else"'})
        assert stale.status_code == 200 and stale.content == first.content
        older = client.get(url, headers={"If-Modified-Since": "Sun, 01 Feb 2026 00:00:00 GMT"})
        assert older.status_code == 200
    served = site.requests
    assert [r.status for r in served] == [200, 304, 304, 200, 200] * 2
    assert [r.conditional for r in served] == [False, True, True, True, True] * 2


def test_gzip_only_when_accepted(site: DemoSite, client: httpx.Client) -> None:
    url = site.expected.feeds[("cgw", "china")]
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as zipped:
        raw = b"".join(zipped.iter_raw())
        assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == plain.content
    # A gzipped copy's weak ETag still validates the resource.
    weak = client.get(url, headers={"Accept-Encoding": "gzip"}).headers["etag"]
    assert weak.startswith("W/")
    assert client.get(url, headers={"If-None-Match": weak}).status_code == 304


def test_gbk_site_mislabels_itself_as_utf8(site: DemoSite, client: httpx.Client) -> None:
    expected = site.expected
    key = next(k for k in expected.articles if k[0] == expected.gbk_site and expected.articles[k])
    article = expected.articles[key][0]
    response = client.get(article.url)
    assert "charset=utf-8" in response.headers["content-type"]
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    assert article.title in response.content.decode("gbk")
    assert b"gbk" not in response.content.lower() and b"gb2312" not in response.content.lower()
    text = charset.decode(response.content, response.headers["content-type"])
    assert article.title in text and article.text in text
    # Its feed is GBK too, with an XML declaration feedparser believes over the header.
    feed = client.get(expected.feeds[key])
    assert "charset=utf-8" in feed.headers["content-type"]
    assert next(e.title for e in parse_feed(feed).entries if "视频" not in e.title) == article.title


def test_missing_article_404s(site: DemoSite, client: httpx.Client) -> None:
    for url in site.expected.not_found:
        assert client.get(url).status_code == 404


def test_slow_article_honours_its_delay(site: DemoSite) -> None:
    url = site.expected.slow[0]
    with httpx.Client(timeout=httpx.Timeout(5, read=SLOW / 4)) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get(url)
    with httpx.Client(timeout=httpx.Timeout(5, read=SLOW * 5)) as patient:
        started = time.monotonic()
        response = patient.get(url)
        assert time.monotonic() - started >= SLOW
        assert response.status_code == 200
        started = time.monotonic()
        assert patient.get(site.expected.articles[("cgw", "world")][0].url).status_code == 200
        assert time.monotonic() - started < SLOW


def test_pages_carry_the_mess_and_the_article(site: DemoSite, client: httpx.Client) -> None:
    expected = site.expected
    cgw = [client.get(a.url).text for a in expected.articles[("cgw", "world")]]
    everywhere = ['id="hideid"', 'id="txt-mid1-', "诚征荣誉会员", "本文短网址", "<input", "onclick=", "<script>"]
    everywhere += ['href="javascript:', "document.cookie", 'width="1" height="1"', "style="]
    for mess in everywhere:
        assert all(mess in page for page in cgw), mess
    for mess in ("<ok>", 'src="//127.0.0.1', 'data-src="', 'href="/cgw/news/gb/tag/'):
        assert any(mess in page for page in cgw), mess
    for article in expected.all_articles():
        if article.site == expected.feed_content_site:
            continue
        response = client.get(article.url)
        text = html.unescape(charset.decode(response.content, response.headers["content-type"]))
        assert article.title in text and article.text in text, article.url
        assert any(b in text for b in expected.boilerplate[article.site]), article.url
        for image in article.images:
            assert client.get(image).headers["content-type"].startswith("image/")


def test_rich_blocks_are_present(site: DemoSite, client: httpx.Client) -> None:
    pages = [client.get(a.url).text for a in site.expected.articles[("cgw", "world")]]
    for tag in ("<table", "<blockquote", "<ul", "<h4>", "<img"):
        assert any(tag in page for page in pages), tag


def test_config_mirrors_the_demo_sites(site: DemoSite, tmp_path) -> None:
    text = site.config_toml(output="out", store="s.db", base_url="https://example.org/m")
    config = parse_config(text, root=tmp_path)
    assert config.mirror.base_url == "https://example.org/m"
    assert config.output_dir == (tmp_path / "out").resolve()
    expected = site.expected
    configured = {(s.id, c.id): canonical_url(c.feed or c.listing or "") for s in config.sites for c in s.channels}
    assert configured == expected.feeds
    assert config.site(expected.feed_content_site).body_from_feed
    assert config.site(expected.generic_site).content is None
    rules = config.site("cgw")
    assert rules.content and rules.remove and rules.drop_blocks_matching and "视频" in rules.skip_titles_matching


def test_add_article_changes_the_feed_and_its_etag(client: httpx.Client) -> None:
    with DemoSite(slow_delay=SLOW) as demo:
        feed_url = demo.expected.feeds[("cgw", "world")]
        china = demo.expected.feeds[("cgw", "china")]
        before = client.get(feed_url)
        china_etag = client.get(china).headers["etag"]
        url = demo.add_article("cgw", "world", "临江新桥今日通车", "<p>新桥全长八百米，连接南北两岸。</p>")
        after = client.get(feed_url, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        entries = parse_feed(after).entries
        assert entries[0].title == "临江新桥今日通车"
        assert canonical_url(urljoin(feed_url, entries[0].link)) == canonical_url(url)
        assert [e.title for e in entries[1:]] == [e.title for e in parse_feed(before).entries]
        page = client.get(url)
        assert page.status_code == 200 and "新桥全长八百米" in page.text
        added = demo.expected.articles[("cgw", "world")][0]
        assert added.url == canonical_url(url) and added.text == "新桥全长八百米，连接南北两岸。"
        # Other channels are untouched, so their conditional GETs still get 304.
        assert client.get(china, headers={"If-None-Match": china_etag}).status_code == 304


def test_update_article_changes_its_page_and_feed(client: httpx.Client) -> None:
    with DemoSite(slow_delay=SLOW) as demo:
        article = demo.expected.articles[("shanhai", "finance")][2]
        feed_url = demo.expected.feeds[("shanhai", "finance")]
        feed_etag = client.get(feed_url).headers["etag"]
        page_etag = client.get(article.url).headers["etag"]
        demo.update_article(article.url, title=article.title + "（更新）", body_html="<p>数据已经修订。</p>")
        assert client.get(feed_url, headers={"If-None-Match": feed_etag}).status_code == 200
        page = client.get(article.url, headers={"If-None-Match": page_etag})
        assert page.status_code == 200 and "数据已经修订。" in page.content.decode("gbk")
        assert article.url in demo.expected.update_marked
        assert demo.expected.article(article.url).text == "数据已经修订。"
        with pytest.raises(KeyError):
            demo.update_article(demo.base_url + "/no/such/article.html", title="x")

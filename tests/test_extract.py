"""Article extraction: site rules, generic extraction, metadata, the sample sites and the `extract` command."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import httpx
import lxml.html
import pytest
from typer.testing import CliRunner

from newsmirror.charset import decode
from newsmirror.cli import app
from newsmirror.config import parse_config
from newsmirror.demosite import DemoSite
from newsmirror.extract import ExtractionError, SiteRules, extract_article, extract_fragment
from newsmirror.extract.dom import parse_fragment, parse_html

PAGES = Path(__file__).parent / "pages"
EN_URL = "https://www.harbourtimes.example/world/2026/03/09/ferry-strike"
ZH_URL = "https://www.chenguang.example/news/gb/2026/03/09/1031320.html"
ZH_RULES = SiteRules(
    content="div.article_right",
    remove=["#hideid", "div[id^=txt-mid]", "input"],
    drop_blocks_matching=["本文短网址", "诚征荣誉会员"],
)
ZH_JUNK = ("首发于晨光新闻网", "晨光推荐", "本文短网址", "cg.io", "版权所有", "严禁建立镜像网站", "诚征荣誉会员",
           "荣誉会员", "membership.gif", "pixel.gif", "tracker.example.net", "相关新闻", "广告合作",
           "首页")  # fmt: skip
EN_JUNK = ("150x100", "thumb", "cookies", "Share on", "Sign up", "newsletter", "Related articles", "Night trains",
           "Comments", "Great news", "All rights reserved", "pixel.gif", "Privacy", "Home", "steal",
           "Nadia Okafor")  # fmt: skip


def page(name: str) -> str:
    return (PAGES / name).read_text("utf-8")


def assert_clean_markdown(markdown: str) -> None:
    assert "<" not in markdown and "\n\n\n" not in markdown and "style" not in markdown


@pytest.mark.parametrize("rules", [ZH_RULES, None], ids=["site-rules", "generic"])
def test_chinese_page(rules: SiteRules | None) -> None:
    article = extract_article(page("chenguang-zh.html"), ZH_URL, rules)
    assert article.title == "维斯堡气候会议闭幕 二十国签署防洪协定"
    assert article.author == "林远"
    assert article.published == datetime(2026, 3, 9, 13, 10, tzinfo=UTC)  # 21:10 in Beijing
    # No og:image: the body's first image leads, with the caption beside it.
    assert article.lead_image == "https://img.chenguang.example/pic/2026/3-9/sign.jpg"
    assert article.lead_caption == "签署仪式现场。（图片来源：晨光新闻）"
    md = article.markdown
    assert "为期五天的维斯堡气候会议9日晚间闭幕，二十个沿海国家的代表签署了一份防洪协定" in md
    assert "#### 协定的主要内容" in md
    assert "　　据悉，协定将于明年一月生效" in md  # full-width indent kept
    # The caption is shown once: not again as the image's alt text.
    assert "![](https://img.chenguang.example/pic/2026/3-9/sign.jpg)\n\n签署仪式现场。（图片来源：晨光新闻）" in md
    assert "(https://www.chenguang.example/pic/2026/3-9/map-large.png)" in md  # lazy image's real address
    assert "# 维斯堡" not in md  # the title is not repeated in the body
    assert_clean_markdown(md)
    for junk in ZH_JUNK:
        assert junk not in md and junk not in article.html and junk not in article.text, junk


def test_english_page_generic() -> None:
    article = extract_article(page("harbour-en.html"), EN_URL, outbound_links="keep")
    assert article.title == "Ferry workers vote to end strike after pay deal"
    assert article.author == "Nadia Okafor"
    assert article.published == datetime(2026, 3, 9, 16, 20, tzinfo=UTC)
    assert article.lead_image == "https://www.harbourtimes.example/media/ferry.jpg"
    assert article.lead_caption == "A ferry leaves the north pier on Monday."
    md = article.markdown
    # The opening picture comes back before the first paragraph; the logo does not.
    assert md.startswith(
        "![A ferry](https://www.harbourtimes.example/media/ferry.jpg)\n\n*A ferry leaves the north pier on Monday.*"
        "\n\nFerry workers on the northern routes voted on Monday"
    )
    assert "logo" not in md
    assert "![The north pier at dawn](https://www.harbourtimes.example/media/pier.jpg)\n\n" in md  # alt ≠ caption
    assert "*Commuters waited at the north pier during the strike.*" in md
    assert "[earlier talks](https://www.harbourtimes.example/world/earlier-talks)" in md
    assert "## What changes for passengers" in md
    assert "- Season tickets are extended by eleven days." in md
    assert "> We are glad to be back" in md
    assert "| North pier | 5:40 |" in md
    # An embedded post, which trafilatura drops, comes back in its place.
    assert "| Harbour island | 6:10 |\n\n> Boats are back on Wednesday, thank you all" in md
    tweet = "https://twitter.com/harbourcommuters/status/1"
    assert f"> — Harbour Commuters (@harbourcommuters) [March 9, 2026]({tweet})\n\nThe mayor" in md
    assert md.rstrip().endswith("when ferries do not run.")
    assert_clean_markdown(md)
    for junk in EN_JUNK:
        assert junk not in md and junk not in article.text, junk
    # The text is the running prose: no captions, no Markdown.
    assert "Commuters waited" not in article.text and "![" not in article.text
    assert "Services resume on Wednesday morning." in article.text


def test_metadata_from_opengraph_and_htmldate() -> None:
    body = "".join(
        f"<p>Paragraph {i} of a plain article with no structured data at all, only text.</p>" for i in range(8)
    )
    html = (
        "<html><head><title>Plain page</title><meta property='og:title' content='The OG title'>"
        "<meta property='og:image' content='/img/lead.png'></head>"
        f"<body><article><h1>The OG title</h1>{body}</article></body></html>"
    )
    article = extract_article(html, "https://blog.example.org/2025/11/20/plain-page/")
    assert article.title == "The OG title"
    assert article.lead_image == "https://blog.example.org/img/lead.png"
    assert article.published == datetime(2025, 11, 20, tzinfo=UTC)  # htmldate, from the URL
    assert article.markdown.startswith("Paragraph 0 of a plain article")
    assert "The OG title" not in article.markdown


def test_json_ld_articlebody_brings_back_what_fast_extraction_missed() -> None:
    paragraphs = [f"Sentence number {i} belongs to the article body and carries its own words." for i in range(12)]
    html = (
        "<html><head><script type='application/ld+json'>"
        + json.dumps({"@type": "NewsArticle", "headline": "H", "articleBody": " ".join(paragraphs)})
        + "</script></head><body><div itemprop='articleBody'>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</div></body></html>"
    )
    article = extract_article(html, "https://example.com/a")
    assert all(p in article.text for p in paragraphs)


def test_json_ld_articlebody_is_the_body_of_a_javascript_shell() -> None:
    body = "第一段：页面只在浏览器里渲染，正文在结构化数据里。\n第二段：提取器应当使用它，而不是报告没有正文。"
    html = (
        "<html><head><title>壳页面</title><script type='application/ld+json'>"
        + json.dumps({"@type": "NewsArticle", "headline": "壳页面", "articleBody": body}, ensure_ascii=False)
        + "</script></head><body><div id='app'>请启用JavaScript</div></body></html>"
    )
    article = extract_article(html, "https://example.com/p/1.html")
    assert (
        article.markdown
        == "第一段：页面只在浏览器里渲染，正文在结构化数据里。\n\n第二段：提取器应当使用它，而不是报告没有正文。\n"
    )
    assert article.title == "壳页面"


def test_extract_fragment_applies_rules_and_cleaning() -> None:
    fragment = (
        "<p>正文第一段。<span id='hideid' style='display:none'>首发于某站</span></p>"
        "<div id='txt-mid1'>推广</div><p>喜欢本文请转发。</p><p><img src='//img.example.com/a.jpg' alt='图'></p>"
    )
    rules = SiteRules(remove=["#hideid", "div[id^=txt-mid]"], drop_blocks_matching=["喜欢本文请"])
    article = extract_fragment(fragment, "https://blog.example.com/p/1.html", rules)
    assert article.title == "" and article.published is None
    assert article.markdown == "正文第一段。\n\n![图](https://img.example.com/a.jpg)\n"


def test_extraction_errors_say_why() -> None:
    with pytest.raises(ExtractionError, match="empty page"):
        extract_article("  ", "https://example.com/")
    with pytest.raises(ExtractionError, match=r"content selector 'div\.missing'"):
        extract_article(page("chenguang-zh.html"), ZH_URL, SiteRules(content="div.missing"))
    with pytest.raises(ExtractionError, match="no article"):
        extract_article("<html><body><nav><a href='/'>Home</a></nav></body></html>", "https://example.com/")
    with pytest.raises(ExtractionError, match="no content"):
        extract_fragment("", "https://example.com/")


def test_rules_from_site_config() -> None:
    config = parse_config(
        '[[site]]\nid = "kzg"\nname = "看中国"\ncontent = "div.article_right"\n'
        'remove = ["#hideid"]\ndrop_blocks_matching = ["本文短网址"]\n'
    )
    assert SiteRules.from_site(config.site("kzg")) == SiteRules("div.article_right", ["#hideid"], ["本文短网址"])


@pytest.fixture(scope="module")
def demo() -> DemoSite:
    with DemoSite(slow_delay=0.01) as site:
        yield site


@pytest.mark.parametrize("with_rules", [True, False], ids=["site-rules", "generic"])
def test_sample_sites_pages(demo: DemoSite, with_rules: bool) -> None:
    """Every article page of the sample sites, fetched over HTTP, with the rules the sites come with
    and without any (generic extraction must drop the same junk on its own)."""
    config = parse_config(demo.config_toml())
    expected = demo.expected
    checked = 0
    with httpx.Client() as client:
        for wanted in expected.all_articles():
            site = config.site(wanted.site)
            if site.body_from_feed:
                continue
            response = client.get(wanted.url)
            page_text = decode(response.content, response.headers.get("content-type"))
            rules = SiteRules.from_site(site) if with_rules else None
            article = extract_article(page_text, wanted.url, rules)
            assert article.title == wanted.title
            assert wanted.text in article.text, wanted.url
            assert article.published == wanted.published.astimezone(UTC)
            if wanted.author:
                assert article.author == wanted.author
            for image in wanted.images:
                assert f"]({image})" in article.markdown, (wanted.url, image)
            for junk in [*expected.boilerplate[wanted.site], expected.tracker]:
                assert junk not in article.markdown and junk not in article.html, (wanted.url, junk)
            assert_clean_markdown(article.markdown)
            checked += 1
    assert checked >= 20


def test_sample_site_feed_content(demo: DemoSite) -> None:
    config = parse_config(demo.config_toml())
    expected = demo.expected
    site = config.site(expected.feed_content_site)
    channel = site.channels[0]
    feed = feedparser.parse(httpx.get(expected.feeds[(site.id, channel.id)]).content)
    for entry in feed.entries:
        wanted = expected.article(entry.link)
        article = extract_fragment(entry.content[0].value, entry.link, SiteRules.from_site(site))
        assert wanted.text in article.text
        for junk in expected.boilerplate[site.id]:
            assert junk not in article.markdown, junk


# ---------------------------------------------------------------- the command


def test_command_prints_one_page(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["extract", str(PAGES / "chenguang-zh.html"), "--url", ZH_URL])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# 维斯堡气候会议闭幕 二十国签署防洪协定\n\n![](https://img.chenguang.example/")
    assert "本文短网址" not in result.stdout


def test_command_does_a_folder_of_gzipped_pages(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "en.html.gz").write_bytes(gzip.compress((PAGES / "harbour-en.html").read_bytes()))
    (pages / "zh.html").write_bytes((PAGES / "chenguang-zh.html").read_text("utf-8").encode("gb18030"))
    (pages / "notes.txt").write_text("not a page")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["extract", str(pages), "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["en.json", "zh.json"]
    en = json.loads((out / "en.json").read_text("utf-8"))
    assert en["title"] == "Ferry workers vote to end strike after pay deal"
    assert en["author"] == "Nadia Okafor" and en["published"] == "2026-03-09T16:20:00+00:00"
    assert en["lead_image"] == "https://www.harbourtimes.example/media/ferry.jpg"
    zh = json.loads((out / "zh.json").read_text("utf-8"))  # GB18030 bytes under a utf-8 meta: detected
    assert "二十个沿海国家的代表签署了一份防洪协定" in zh["markdown"]


def test_command_uses_a_sites_rules_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "newsmirror.toml"
    config.write_text(
        '[[site]]\nid = "cg"\nname = "晨光"\ncontent = "div.article_right"\nremove = ["#hideid"]\n'
        'drop_blocks_matching = ["本文短网址", "诚征荣誉会员", "来源"]\n',
        "utf-8",
    )
    args = ["extract", str(PAGES / "chenguang-zh.html"), "--url", ZH_URL, "--config", str(config), "-f", "text"]
    result = CliRunner().invoke(app, [*args, "--site", "cg"])
    assert result.exit_code == 0, result.output
    assert "来源" not in result.stdout and "协定规定" in result.stdout
    result = CliRunner().invoke(app, [*args, "--site", "nope"])
    assert result.exit_code == 2 and "no site 'nope'" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.html"], "no such file or folder"),
        ([str(PAGES), "--format", "pdf"], "--format 'pdf'"),
        ([str(PAGES)], "pass --out OUTDIR"),
    ],
)
def test_command_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["extract", *args])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("head", "body", "title"),
    [
        (
            "<title>维斯堡气候会议闭幕 - 晨光新闻</title>",
            "<h1>维斯堡气候会议闭幕</h1><h1>其他</h1>",
            "维斯堡气候会议闭幕",
        ),
        (
            "<title>Ferry strike ends after eleven days | Harbour Times</title>",
            "",
            "Ferry strike ends after eleven days",
        ),
        ("<title>x</title><meta property='og:title' content='OG 标题'>", "<h1>H1</h1>", "OG 标题"),
        ("<title>Site</title>", "<h1>The only headline</h1>", "The only headline"),
    ],
)
def test_title_sources(head: str, body: str, title: str) -> None:
    text = "".join(f"<p>Paragraph {i} of the story, long enough to count as article text here.</p>" for i in range(6))
    article = extract_article(f"<html><head>{head}</head><body>{body}{text}</body></html>", "https://e.com/a")
    assert article.title == title


def test_dates_in_other_shapes() -> None:
    from newsmirror.extract import parse_date

    assert parse_date("Mon, 09 Mar 2026 21:10:00 +0800") == datetime(2026, 3, 9, 13, 10, tzinfo=UTC)
    assert parse_date("2026-03-09T21:10:00+0800") == datetime(2026, 3, 9, 13, 10, tzinfo=UTC)
    assert parse_date("2026年3月9日 21:10") == datetime(2026, 3, 9, 21, 10, tzinfo=UTC)
    assert parse_date("not a date") is None


def test_a_selector_matching_several_elements_takes_them_all() -> None:
    html = (
        "<html><body><div class='s'><p>第一段。</p></div><p>导航</p><div class='s'><p>第二段。</p></div></body></html>"
    )
    article = extract_article(html, "https://e.com/a", SiteRules(content="div.s, div.s p"))
    assert article.markdown == "第一段。\n\n第二段。\n"


def test_headline_worded_differently_from_og_title_is_not_repeated() -> None:
    text = "".join(f"<p>Paragraph {i} of the story, long enough to count as article text here.</p>" for i in range(6))
    html = (
        "<html><head><meta property='og:title' content='Swift row over'></head><body><article>"
        f"<h1>Taylor Swift is allowed to play her music after all</h1>{text}<h1>Reaction</h1>{text}"
        "</article></body></html>"
    )
    md = extract_article(html, "https://e.com/a").markdown
    assert md.startswith("Paragraph 0 of the story")
    assert "allowed to play" not in md and "\n## Reaction\n" in md


def test_og_title_loses_the_site_name() -> None:
    text = "".join(f"<p>Paragraph {i} of the story, long enough to count as article text here.</p>" for i in range(6))
    head = (
        "<meta property='og:title' content='Bike book review | MoreBikes'>"
        "<meta property='og:site_name' content='MoreBikes'>"
    )
    article = extract_article(f"<html><head>{head}</head><body>{text}</body></html>", "https://e.com/a")
    assert article.title == "Bike book review"


def test_parsed_pages_read_an_elements_text_as_lxml_html_does() -> None:
    """Extraction's elements read their text their own (faster) way: the same text, every element."""
    html = (
        "<html><body><div id='a'>前言<p>One <b>bold</b> &amp; <i>it</i>alic tail</p>"
        "<script>var a = '<p>';</script>尾<br>行<table><tr><td>格 1</td><td></td></tr></table>"
        "<ul><li>一<span>二</span>三</li></ul><p></p>&#x4e2d;&nbsp;文</div>after</body></html>"
    )
    ours, theirs = list(parse_html(html).iter()), list(lxml.html.document_fromstring(html).iter())
    assert [e.tag for e in ours] == [e.tag for e in theirs]
    assert [e.text_content() for e in ours] == [e.text_content() for e in theirs]
    assert parse_fragment("lead <b>bold</b> tail").text_content() == "lead bold tail"

"""Generic extraction on small pages written for the tests, one per class of page that went wrong.

Each page is made like the pages of its kind (old table-layout portals,
government notices, pages that break lines with <br>...), not like any one
page of the benchmark sets.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsmirror.cli import app
from newsmirror.extract import extract_article

ZH_PARAGRAPHS = [
    "　　本报讯 昨天上午，市政府召开新闻发布会，介绍今年城市防"
    "汛工作的准备情况。据介绍，全市已经完成河道清淤一百二十公里，"
    "新建排水泵站六座，汛期应急队伍也已组建完毕。",
    "　　市水务局负责人表示，今年汛期预计来得早、雨量大，各区要提前做好低洼地区居民的转移预案，确保群众生命财产安全。"
    "对于地铁、隧道等重点部位，将安排专人值守，发现积水及时处置。",
    "　　据了解，去年汛期全市共发生内涝点四十余处，今年已经逐一"
    "整改。市民如发现积水、井盖缺失等情况，可拨打热线电话反映，"
    "有关部门将在两小时内到场处理。",
]
EN_PARAGRAPHS = [
    "The city council voted on Tuesday to extend the night bus n"
    "etwork to the northern suburbs, ending a two-year campaign "
    "by residents who said the last train left them stranded after late shifts.",
    "The new routes will run every thirty minutes from midnight u"
    "ntil five in the morning, the council said, and will be paid "
    "for by a small rise in the parking charges levied in the city centre.",
    "Opponents argued that the buses would run half empty, but a"
    " survey of eight hundred households found that one in four "
    "would use the service at least once a week.",
]


def portal(paragraphs: list[str], nav: list[str], junk: list[str], title: str) -> str:
    """An old table-layout portal: navigation rows, a tool "
    "bar, the story in a cell, related links and notices."""
    nav_row = "<tr>" + "".join(f'<td><a href="/{i}/">{item}</a></td>' for i, item in enumerate(nav)) + "</tr>"
    story = "".join(f"<p>{p}</p>" for p in paragraphs)
    related = "".join(f'<tr><td><a href="/r/{i}.html">{line}</a></td></tr>' for i, line in enumerate(junk))
    return (
        f"<html><head><title>{title}</title></head><body>"
        f"<table width=760><tr><td><img src='/logo.gif' width=200 height=60></td></tr></table>"
        f"<table width=760>{nav_row}</table>"
        f"<table width=760><tr><td width=160 valign=top><table>{related}</table></td>"
        f"<td width=600 valign=top><table><tr><td><b>{title.split('-')[0]}</b></td></tr>"
        f"<tr><td>{story}</td></tr>"
        f"<tr><td>【打印本稿】 【关闭窗口】</td></tr></table>"
        f"<table><tr><td>相关报道：</td></tr>{related}</table>"
        f"<table><tr><td>免责声明：本网转载作品均注明出处，转载目的在于传递更多信息，并不代表本网赞同其观点和对其真实性负责。</td></tr>"
        f"<tr><td>版权所有 2005 某某网 All rights reserved</td></tr></table>"
        f"</td></tr></table></body></html>"
    )


ZH_NAV = ["首页", "新闻", "体育", "娱乐", "财经", "科技", "汽车", "房产", "女性", "短信"]
ZH_RELATED = ["市区新建三座人行天桥", "地铁五号线下月试运行", "本周末气温将回升", "老城区改造启动", "短信订阅每日新闻"]
EN_NAV = ["Home", "News", "Sport", "Business", "Travel", "Weather", "Jobs", "Cars", "Property", "Contact"]
EN_RELATED = ["New bridge opens to traffic", "Library hours extended", "Weekend weather", "Parking charges explained"]


@pytest.mark.parametrize(
    ("paragraphs", "nav", "related", "title"),
    [
        (ZH_PARAGRAPHS, ZH_NAV, ZH_RELATED, "全市防汛准备工作就绪-某某新闻网"),
        (EN_PARAGRAPHS, EN_NAV, EN_RELATED, "Night buses to reach the northern suburbs - Example Gazette"),
    ],
    ids=["zh", "en"],
)
def test_table_layout_portal_gives_the_story_alone(
    paragraphs: list[str], nav: list[str], related: list[str], title: str
) -> None:
    article = extract_article(portal(paragraphs, nav, related, title), "https://portal.example/a/1.html")
    for paragraph in paragraphs:
        assert paragraph.strip()[:30] in article.text
    story = "".join(paragraphs)
    for junk in [*nav, *related, "打印", "关闭", "免责声明", "版权所有", "相关报道"]:
        assert junk in story or junk not in article.text, junk
    assert "|" not in article.markdown  # no navigation row kept as a table


def test_split_body_keeps_both_halves() -> None:
    first, second = (
        ZH_PARAGRAPHS[:2],
        [
            *ZH_PARAGRAPHS[2:],
            "　　市气象台预计，今年入汛时间比常年偏早一周左右，降雨总量偏"
            "多一到两成，局地可能出现极端强降雨天气，请市民关注预警信息。",
        ],
    )
    html = (
        "<html><head><title>全市防汛准备工作就绪</title></head><body><div class='main'>"
        "<div class='content'>" + "".join(f"<p>{p}</p>" for p in first) + "</div>"
        "<div class='ad-row'><a href='/ad/1'><img src='/ad/1.jpg' width=600 height=90></a></div>"
        "<div class='content'>" + "".join(f"<p>{p}</p>" for p in second) + "</div>"
        "</div><div class='footer'>关于我们 | 联系方式 | 网站地图</div></body></html>"
    )
    text = extract_article(html, "https://portal.example/a/2.html").text
    for paragraph in first + second:
        assert paragraph.strip()[:30] in text


def test_notice_in_bare_styled_divs_is_kept_whole() -> None:
    # Government notices: every paragraph a bare <div style=...>, the kind of
    # text trafilatura's precise mode drops.
    divs = "".join(f'<div style="text-align: justify;">{p}</div>' for p in ZH_PARAGRAPHS)
    html = (
        "<html><head><title>关于做好防汛工作的通告</title></head><body>"
        "<div class='nav'><a href='/'>首页</a> <a href='/zw/'>政务公开</a> <a href='/tz/'>通知公告</a></div>"
        "<div class='info'>索引号：11220000/2022-00001 发布日期：2022年01月27日</div>"
        f"<div class='contents'>{divs}<div style='text-align: right;'>市人民政府</div></div>"
        "</body></html>"
    )
    text = extract_article(html, "https://gov.example/tz/1.html").text
    for paragraph in ZH_PARAGRAPHS:
        assert paragraph.strip() in text


@pytest.mark.parametrize(
    "sentence", ["市政府今天宣布，明年起全市公交免费。", "The bridge reopens on Monday."], ids=["zh", "en"]
)
def test_a_one_sentence_article_is_an_article(sentence: str, tmp_path: Path) -> None:
    html = (
        "<html><head><title>快讯</title></head><body><div class"
        "='nav'><a href='/'>首页</a> <a href='/n/'>新闻</a></div>"
        f"<div class='article'><h1>快讯</h1><p>{sentence}</p></div></body></html>"
    )
    assert extract_article(html, "https://e.example/n/1.html").text == sentence
    saved = tmp_path / "short.html"
    saved.write_text(html, "utf-8")
    result = CliRunner().invoke(app, ["extract", str(saved), "--format", "text"])
    assert result.exit_code == 0, result.output
    assert sentence in result.output


@pytest.mark.parametrize(
    ("title", "logo", "headline"),
    [
        ("劳伦斯：一个无法定义的洛克菲勒-搜狐财经", "搜狐", "劳伦斯：一个无法定义的洛克菲勒"),
        ("多数夫妻生活有名无实(图)--雅虎新闻", "导航", "多数夫妻生活有名无实(图)"),
        ("Night buses reach the northern suburbs | The Gazette", "Gazette", "Night buses reach the northern suburbs"),
    ],
)
def test_a_logo_h1_loses_to_the_headline_in_the_title(title: str, logo: str, headline: str) -> None:
    html = (
        f"<html><head><title>{title}</title></head><body><h1><a href='/'>{logo}</a></h1>"
        + "".join(f"<p>{p}</p>" for p in ZH_PARAGRAPHS + EN_PARAGRAPHS)
        + "</body></html>"
    )
    assert extract_article(html, "https://e.example/a.html").title == headline


def test_br_broken_chinese_lines_join_into_their_paragraph() -> None:
    text = ZH_PARAGRAPHS[0].strip() + ZH_PARAGRAPHS[1].strip()
    lines = [text[i : i + 20] for i in range(0, len(text), 20)]
    html = (
        "<html><head><title>防汛</title></head><body><div class='article'><p>"
        + "<br>\n".join(lines)
        + "</p><p>　　第二段：本周末全市将开展防汛演练。</p></div></body></html>"
    )
    article = extract_article(html, "https://e.example/a.html")
    assert article.text.splitlines()[0] == text
    assert "\\" not in article.markdown.split("\n\n")[0]


TEASERS_ZH = "<table>" + "".join(
    f'<tr><td>·<a href="/r/{i}.html">{headline}</a>{decoration}</td></tr>'
    for i, (headline, decoration) in enumerate(
        [
            ("市区新建三座人行天桥", "（2005-04-03 17:19）"),
            ("地铁五号线下月试运行", "(图)"),
            ("老城区改造启动", " 04-01"),
        ]
    )
)
TEASERS_EN = "".join(
    f'<p><a href="/r/{i}.html">{headline}</a></p>'
    for i, headline in enumerate(["New bridge opens to traffic", "Library hours extended", "Parking charges explained"])
)


@pytest.mark.parametrize(
    ("page", "teasers", "headlines"),
    [
        (
            "<article><div itemprop='articleBody'>{story}{teasers}</div></article>",
            TEASERS_ZH,
            ["市区新建三座人行天桥", "地铁五号线下月试运行", "老城区改造启动"],
        ),
        (
            "<table><tr><td>{story}{teasers}</td></tr></table>",
            TEASERS_EN,
            ["New bridge opens to traffic", "Library hours extended", "Parking charges"],
        ),
    ],
    ids=["zh", "en"],
)
def test_teasers_of_other_articles_inside_the_body_go(page: str, teasers: str, headlines: list[str]) -> None:
    # Other articles' headlines inside the article's container (an articleBody
    # element, a layout cell), with no class to tell them apart: each a link on
    # the page, with a bullet, "(图)" or a date beside it; the article's lines are not links.
    paragraphs = ZH_PARAGRAPHS if "市区" in teasers else EN_PARAGRAPHS
    story = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = f"<html><head><title>Story</title></head><body>{page.format(story=story, teasers=teasers)}</body></html>"
    text = extract_article(html, "https://e.example/a/3.html").text
    for paragraph in paragraphs:
        assert paragraph.strip()[:30] in text
    for headline in headlines:
        assert headline not in text, headline


def test_links_in_a_table_of_data_stay() -> None:
    # A table of works, each linked, beside plain cells of years and roles: data, not teasers.
    rows = "".join(
        f'<tr><td>{2000 + i}</td><td><a href="/w/{i}">{work}</a></td><td>{role}</td></tr>'
        for i, (work, role) in enumerate(
            [("原地踏步", "主唱"), ("一个男人", "作曲"), ("讨人喜欢", "主唱"), ("夏天", "制作")]
        )
    )
    html = (
        "<html><head><title>作品</title></head><body><article>"
        + "".join(f"<p>{p}</p>" for p in ZH_PARAGRAPHS)
        + f"<table>{rows}</table></article></body></html>"
    )
    text = extract_article(html, "https://e.example/a/4.html").text
    for work in ("原地踏步", "一个男人", "讨人喜欢", "夏天"):
        assert work in text


@pytest.mark.parametrize(
    ("title", "logo", "headline"),
    [
        ("土豆不“土” 土豆无“土” 松花江网", "松花江网", "土豆不“土” 土豆无“土”"),
        ("Night buses reach the northern suburbs The Gazette", "The Gazette", "Night buses reach the northern suburbs"),
    ],
    ids=["zh", "en"],
)
def test_a_headline_joined_to_the_site_name_by_a_space_is_the_title(title: str, logo: str, headline: str) -> None:
    html = (
        f"<html><head><title>{title}</title></head><body><h1><a href='/'>{logo}</a></h1><h2>{headline}</h2>"
        + "".join(f"<p>{p}</p>" for p in ZH_PARAGRAPHS + EN_PARAGRAPHS)
        + "</body></html>"
    )
    assert extract_article(html, "https://e.example/a.html").title == headline


def test_the_sites_own_copyright_notice_after_the_article_goes() -> None:
    # No heading of the kind "免责声明": the notice names the site (本网, 本报社…) and its rights.
    notice = [
        "根据《中华人民共和国著作权法》等法律法规，未经书面许可，擅自转载本报社作品的，将涉嫌侵犯著作权人合法权益。本报社郑重公告：",
        "一、任何单位或个人使用本报社的原创内容，必须事先取得书面授权；",
        "二、对于各类非法转载行为，欢迎读者提供侵权线索。",
    ]
    html = (
        "<html><head><title>全市防汛准备工作就绪</title></head><body><div class='article'>"
        + "".join(f"<p>{p}</p>" for p in ZH_PARAGRAPHS + notice)
        + "</div></body></html>"
    )
    text = extract_article(html, "https://e.example/a/5.html").text
    for paragraph in ZH_PARAGRAPHS:
        assert paragraph.strip() in text
    for line in notice:
        assert line[:12] not in text


def test_split_body_keeps_both_halves_english() -> None:
    first, second = (
        EN_PARAGRAPHS[:2],
        [
            *EN_PARAGRAPHS[2:],
            "The council will review the routes after a year, and said it would publish the numbers of passengers "
            "on every route each month so that residents can see whether the service is used.",
        ],
    )
    html = (
        "<html><head><title>Night buses</title></head><body><div class='main'>"
        "<div class='story-body'>" + "".join(f"<p>{p}</p>" for p in first) + "</div>"
        "<div class='ad-slot'><a href='/ad/1'><img src='/ad/1.jpg' width=600 height=90></a></div>"
        "<div class='story-body'>" + "".join(f"<p>{p}</p>" for p in second) + "</div>"
        "</div><div class='footer'>About us | Contact | Site map</div></body></html>"
    )
    text = extract_article(html, "https://gazette.example/a/2.html").text
    for paragraph in first + second:
        assert paragraph.strip()[:40] in text


def test_notice_in_bare_styled_divs_is_kept_whole_english() -> None:
    divs = "".join(f'<div style="text-align: justify;">{p}</div>' for p in EN_PARAGRAPHS)
    html = (
        "<html><head><title>Public notice: night bus routes</title></head><body>"
        "<div class='nav'><a href='/'>Home</a> <a href='/notices/'>Notices</a> <a href='/council/'>Council</a></div>"
        "<div class='info'>Reference: 2022/0001 Published: 27 January 2022</div>"
        f"<div class='contents'>{divs}<div style='text-align: right;'>City Council</div></div>"
        "</body></html>"
    )
    text = extract_article(html, "https://council.example/notices/1.html").text
    for paragraph in EN_PARAGRAPHS:
        assert paragraph.strip() in text


def test_br_broken_english_lines_join_into_their_paragraph() -> None:
    # Lines broken every ~40 characters by the page's <br>s, mid-sentence: a
    # line that goes on in lower case belongs with the one before it.
    text = EN_PARAGRAPHS[0] + " " + EN_PARAGRAPHS[1]
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) > 40:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    lines.append(line)
    assert sum(1 for line in lines[1:] if line[0].islower()) >= 5
    html = (
        "<html><head><title>Night buses</title></head><body><div class='article'><p>"
        + "<br>\n".join(lines)
        + "</p><p>Second paragraph: the first buses run next month.</p></div></body></html>"
    )
    article = extract_article(html, "https://e.example/a.html")
    joined = article.text.splitlines()
    # Only where a line opens in lower case is it the same sentence going on.
    expected = [lines[0]]
    for line in lines[1:]:
        if line[0].islower():
            expected[-1] += " " + line
        else:
            expected.append(line)
    assert joined[: len(expected)] == expected
    assert joined[len(expected)] == "Second paragraph: the first buses run next month."


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("5:45 AM PST 11/19/2019 by Jane Doe", "Additional reporting by John Smith"),
        ("By Jane Doe, Transport Correspondent", "SOURCE: News agencies"),
        ("Updated at 1:23 p.m.", "Photos by John Smith"),
    ],
)
def test_english_bylines_and_datelines_at_the_edges_go(first: str, last: str) -> None:
    html = (
        "<html><head><title>Night buses</title></head><body><div class='article'>"
        f"<p>{first}</p>" + "".join(f"<p>{p}</p>" for p in EN_PARAGRAPHS) + f"<p>{last}</p></div></body></html>"
    )
    text = extract_article(html, "https://e.example/a.html").text
    assert text.splitlines() == EN_PARAGRAPHS


def test_video_player_labels_go() -> None:
    player = (
        "<div><p>Chapters</p><p>descriptions off, selected</p><p>captions settings, opens captions settings dialog</p>"
        "<p>This is a modal window.</p><p>Beginning of dialog window. Escape will cancel and close the window.</p>"
        "<p>End of dialog window.</p></div>"
    )
    html = (
        "<html><head><title>Night buses</title></head><body><div class='article'>"
        f"<p>{EN_PARAGRAPHS[0]}</p>{player}"
        + "".join(f"<p>{p}</p>" for p in EN_PARAGRAPHS[1:])
        + "</div></body></html>"
    )
    text = extract_article(html, "https://e.example/a.html").text
    assert text.splitlines() == EN_PARAGRAPHS


def test_math_keeps_its_formula() -> None:
    # MathML with its alt text, and MathJax's script: the formula stays as its TeX, in its sentence.
    html = (
        "<html><head><title>Energy</title></head><body><div class='article'>"
        + "".join(f"<p>{p}</p>" for p in EN_PARAGRAPHS)
        + "<p>The energy of a body at rest is <math alttext='E = mc^2'><mi>E</mi><mo>=</mo><mi>m</mi>"
        "<msup><mi>c</mi><mn>2</mn></msup></math>, and the sum of the series is "
        "<script type='math/tex'>\\sum_{n=1}^\\infty 1/n^2 = \\pi^2/6</script>, as Euler showed.</p>"
        "</div></body></html>"
    )
    article = extract_article(html, "https://e.example/a.html")
    assert "E = mc^2" in article.text
    assert "\\sum_{n=1}^\\infty 1/n^2 = \\pi^2/6" in article.text
    assert "is E = mc^2, and" in article.text
    assert "E = mc^2" in article.markdown


def test_a_page_of_dated_posts_gives_the_first_post() -> None:
    # A blog's front page in a table layout: each post a title cell, a cell holding
    # only its time stamp, its text, and a footer; the first post is the article.
    posts = [
        ("湘菜粤菜兵分两路", "2005-06-14 03:25:55", ZH_PARAGRAPHS),
        ("澳坛真的累了", "2005-06-13 15:00:14", [p.replace("市", "县") for p in ZH_PARAGRAPHS]),
        ("爱上侦探小说", "2005-06-11 14:05:50", [p.replace("汛", "火") for p in ZH_PARAGRAPHS]),
    ]
    rows = "".join(
        f"<tr><td><b>{title}</b></td></tr><tr><td>{stamp}</td></tr>"
        f"<tr><td>{''.join(f'<p>{p}</p>' for p in text)}</td></tr>"
        f"<tr><td>由海姑娘张贴 @ {stamp} 共 11 篇评论</td></tr>"
        for title, stamp, text in posts
    )
    html = (
        "<html><head><title>blog.example.com</title></head><body>"
        f"<table><tr><td>博客书架</td></tr>{rows}</table></body></html>"
    )
    text = extract_article(html, "https://blog.example.com/1.html").text
    for paragraph in ZH_PARAGRAPHS:
        assert paragraph.strip()[:30] in text
    for title, stamp, other in posts[1:]:
        assert title not in text
        assert other[0].strip()[:30] not in text
        assert stamp not in text

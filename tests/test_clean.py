"""Sanitising an article body: each kind of junk, on small pages written for the tests."""

from __future__ import annotations

from typing import Any

import pytest

from newsmirror.extract.clean import clean_tree
from newsmirror.extract.dom import parse_fragment

BASE = "https://news.example.com/world/2026/03/09/story.html"


def clean_html(fragment: str, base_url: str = BASE, **options: Any) -> str:
    """A fragment as a feed gives it, through the one cleaning step."""
    return clean_tree(parse_fragment(fragment), base_url, **options)


def clean(fragment: str, **rules: list[str]) -> str:
    """Only the site's rules, without the generic passes."""
    return clean_html(fragment, generic=False, **rules)


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<style>p{color:red}</style>",
        "<iframe src='https://ads.example.net/x'></iframe>",
        "<p onclick='steal()' onmouseover='steal()'>正文</p>",
        "<a href='javascript:steal()'>正文</a>",
        "<img src='x.jpg' onerror='steal()'>",
        "<object data='x.swf'></object><embed src='x.swf'>",
        "<form action='/x'><input name='q' value='kzg.io/x'><button>go</button></form>",
    ],
)
def test_nothing_executable_survives(hostile: str) -> None:
    html = clean(f"<p>新闻正文。</p>{hostile}")
    for marker in ("<script", "<style", "<iframe", "onclick", "onmouseover", "onerror", "javascript:", "<object",
                   "<embed", "<input", "<form", "<button", "steal", "alert", "color:red"):  # fmt: skip
        assert marker not in html
    assert "新闻正文" in html


def test_hidden_elements_are_dropped() -> None:
    html = clean(
        "<p>正文一<span id='hideid' style='color:red;display:none;'>看中国版权</span></p>"
        "<div style='visibility: hidden'>隐藏块</div><p hidden>隐藏段</p><p>正文二</p>"
    )
    assert "正文一" in html and "正文二" in html
    for hidden in ("看中国版权", "隐藏块", "隐藏段"):
        assert hidden not in html


def test_site_remove_selectors_and_block_phrases() -> None:
    html = clean(
        "<p>正文。</p><div id='txt-mid1-t21-2017'><a href='/promo'>推广视频</a></div>"
        "<p>本文短网址: <input value='http://kzg.io/x'> 版权所有，任何形式转载需授权。</p>"
        "<div><hr>【诚征荣誉会员】溪流能够汇成大海，小善可以成就大爱。</div><p>结尾段。</p>",
        remove=["div[id^=txt-mid]"],
        drop_blocks_matching=["本文短网址", "诚征荣誉会员"],
    )
    assert "正文。" in html and "结尾段。" in html
    for junk in ("推广视频", "本文短网址", "版权所有", "诚征荣誉会员", "溪流"):
        assert junk not in html


def test_block_phrase_drops_only_the_innermost_block() -> None:
    html = clean("<div><p>第一段正文。</p><p>责任编辑：王五</p></div>", drop_blocks_matching=["责任编辑"])
    assert "第一段正文" in html and "责任编辑" not in html


def test_generic_boilerplate_is_dropped_without_rules() -> None:
    html = clean_html(
        "<p>A real paragraph about the harbour strike and its end after a long week.</p>"
        "<p>Sign up for our newsletter to get the day's news.</p><p>© Copyright 2026. All rights reserved.</p>"
        "<p>本文短网址: http://kzg.io/x</p>",
        BASE,
    )
    assert "harbour strike" in html
    for junk in ("newsletter", "All rights reserved", "本文短网址"):
        assert junk not in html


def test_generic_phrase_spares_a_long_paragraph() -> None:
    long = "The court heard that the label printed 'all rights reserved' on every copy. " * 6
    assert "label printed" in clean_html(f"<p>{long}</p>", BASE)


def test_odd_tags_unwrapped_pseudo_links_become_text_and_styles_go() -> None:
    html = clean(
        "<p style='text-indent:2em'><ok>中共</ok>中央外事办主任"
        "<ok><span href='https://www.example.com/tag/王毅' target='_blank'>王毅</span></ok>抵达莫斯科。</p>"
    )
    assert html == "<p>中共中央外事办主任王毅抵达莫斯科。</p>"


def test_urls_made_absolute() -> None:
    html = clean(
        "<p><a href='/news/a.html'>甲</a><a href='//cdn.example.com/b.html'>乙</a><a href='c.html'>丙</a>"
        "<img src='/pic/1.jpg' alt='图'></p>"
    )
    assert 'href="https://news.example.com/news/a.html"' in html
    assert 'href="https://cdn.example.com/b.html"' in html
    assert 'href="https://news.example.com/world/2026/03/09/c.html"' in html
    assert 'src="https://news.example.com/pic/1.jpg"' in html


def test_tracking_pixels_are_removed() -> None:
    html = clean(
        "<p>正文<img src='https://track.example.net/p.gif' width='1' height='1'>"
        "<img src='/stats/pixel.gif' style='width:1px;height:1px'>"
        "<img src='https://track.example.net/q.gif' width='0' height='0'></p><p><img src='/pic/real.jpg'></p>"
    )
    assert "track.example.net" not in html and "pixel.gif" not in html
    assert "https://news.example.com/pic/real.jpg" in html


def test_lazy_images_resolved() -> None:
    html = clean(
        "<p><img src='/static/grey.gif' data-src='/pic/lazy.jpg' alt='懒加载'></p>"
        "<p><img data-srcset='/pic/s.jpg 320w, /pic/l.jpg 1280w' alt='srcset'></p>"
        "<p><img src='data:image/gif;base64,R0lGOD' class='lazy'>"
        "<noscript><img src='/pic/noscript.jpg' alt='noscript'></noscript></p>"
    )
    assert 'src="https://news.example.com/pic/lazy.jpg"' in html
    assert 'src="https://news.example.com/pic/l.jpg"' in html
    assert 'src="https://news.example.com/pic/noscript.jpg"' in html
    assert "grey.gif" not in html and "data:" not in html and "noscript>" not in html


def test_chinese_line_breaks_join_and_full_width_spaces_stay() -> None:
    html = clean("<p>　　第一行\n   继续，<b>\n 重点 </b>\n  说明。\nEnglish\n words</p>")
    assert html == "<p>　　第一行继续，<b>重点</b>说明。 English words</p>"


def test_generic_promo_lines_and_widgets_inside_the_text() -> None:
    html = clean_html(
        "<p>The governor <a href='/people/kn'>Kristi Noem</a><span class='rollover-people-block'>"
        "<a href='/x'>Noem doubles down on campaign</a></span> defended the slogan on Monday.</p>"
        "<p>Related: Europa's plumes in pictures</p><p>SEE MORE: Students under siege</p>"
        "<p>相关阅读：维斯堡会议前瞻</p><div class='share-buttons'><a href='/s'>Facebook</a></div>"
        "<div id='newsletter'><p>Get the morning briefing in your inbox.</p></div>"
        "<p>Follow us on Twitter and Instagram.</p><p>Image credit: Harbour Times</p>"
        "<p>Read more about the strike in this long paragraph, which is article text because it goes on to "
        "explain, over many words and several clauses, what the union asked for, what the operator offered, "
        "and why the two sides took eleven days to meet in the middle on pay and night-shift allowances.</p>",
        BASE,
    )
    assert "The governor Kristi Noem defended the slogan on Monday." in nh3_text(html)
    for junk in ("doubles down", "Related:", "SEE MORE", "相关阅读", "Facebook", "morning briefing", "Follow us",
                 "Image credit"):  # fmt: skip
        assert junk not in html, junk
    assert "Read more about the strike" in html  # long: article text, not a promo line


def nh3_text(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", html)


def test_a_wrapper_with_a_widget_like_class_is_not_a_widget() -> None:
    text = "The council approved the flood wall after a long debate about the harbour and its fishermen. " * 3
    html = clean_html(f"<div class='article-body social-share-enabled'><p>{text}</p></div>", BASE)
    assert "approved the flood wall" in html


def test_without_a_base_relative_urls_stay_relative_and_unsafe_ones_still_go() -> None:
    html = clean_html("<p><a href='javascript:x()'>甲</a><a href='/rel.html'>乙</a><img src='/a.jpg'></p>", "")
    assert html == '<p><a href="/rel.html">乙</a><img src="/a.jpg"></p>'


def test_a_caption_whose_image_is_gone_goes_too() -> None:
    html = clean("<figure><img src='https://t.example.net/p.gif' width='1' height='1'><figcaption>统计</figcaption>"
                 "</figure><p>正文。</p>")  # fmt: skip
    assert html == "<p>正文。</p>"


def test_generic_rules_spare_article_sentences() -> None:
    html = clean_html(
        "<p>“Read more books,” the minister told the students.</p>"
        "<p>警方称这是一次未经授权的集会。</p>"
        "<p>The council backed <a class='related-link' href='/flood-wall'>the flood wall</a> on Monday.</p>",
        BASE,
    )
    assert "Read more books" in html and "未经授权的集会" in html and "the flood wall</a> on Monday" in html


def test_an_image_shown_twice_is_kept_once() -> None:
    html = clean(
        "<p><img src='/pic/a.jpg' alt='甲'></p><p><img src='https://news.example.com/pic/a.jpg'></p><p>正文</p>"
    )
    assert html.count("<img") == 1


def test_text_in_bare_divs_does_not_run_together() -> None:
    html = clean("<div>第一段</div><div>第二段</div><section><p>第三段</p></section><center>第四段</center>")
    assert markdown_of(html) == "第一段\n\n第二段\n\n第三段\n\n第四段\n"


def test_layout_tables_become_blocks_and_data_tables_stay() -> None:
    layout = clean("<table><tr><td><p>段一</p><p>段二</p></td><td>侧栏</td></tr></table>"
                   "<table><tr><td>只有一列</td></tr><tr><td>第二行</td></tr></table>")  # fmt: skip
    assert "<table" not in layout and markdown_of(layout) == "段一\n\n段二\n\n侧栏\n\n只有一列\n\n第二行\n"
    data = clean("<table><tr><th>城市</th><th>雨量</th></tr><tr><td>维斯堡</td><td>120</td></tr></table>")
    assert markdown_of(data) == "| 城市 | 雨量 |\n| --- | --- |\n| 维斯堡 | 120 |\n"


def markdown_of(html: str) -> str:
    from newsmirror.extract.markdown import to_markdown

    return to_markdown(html)


def test_a_caption_doubled_as_alt_text_is_shown_once() -> None:
    html = clean(
        "<p><img src='/a.jpg' alt='俄罗斯不排除会面的可能性。'><br>俄罗斯不排除会面的可能性。（图片来源：Getty）</p>"
        "<figure><img src='/b.jpg' alt='The pier at dawn'><figcaption>The pier at dawn. (AP)</figcaption></figure>"
        "<figure><img src='/d.jpg' alt='A ferry'><figcaption>A ferry leaves the pier.</figcaption></figure>"
        "<p><img src='/c.jpg' alt='A map of the warning stations'></p>"
    )
    assert '<img src="https://news.example.com/a.jpg" alt="">' in html
    assert '<img src="https://news.example.com/b.jpg" alt="">' in html
    assert 'alt="A map of the warning stations"' in html  # no caption beside it: the alt stays
    assert 'alt="A ferry"' in html  # only the caption's opening words: a description of its own


def test_script_controls_and_appeals_go_without_rules() -> None:
    html = clean_html(
        "<p>茶园一景。<a href=\"javascript:openBig('tea.jpg')\">[查看大图]</a></p>"
        "<p>【订阅本报】每月一杯咖啡的钱，支持我们继续做深度报道。<a href='/subscribe.html'>立即订阅</a></p>"
        "<p>Support our journalism: <a href='https://example.com/donate'>give today</a>.</p><p>正文继续。</p>",
        BASE,
    )
    assert html == "<p>茶园一景。</p>\n<p>正文继续。</p>"


def test_stand_in_images_go_and_real_names_stay() -> None:
    html = clean(
        "<p><img src='/graphics/sr-loader.png'></p><p><img src='/x.jpg' data-src='{\"default\":{\"w\":80}}'></p>"
        "<p><img src='/reviews/pixel-phone.jpg' alt='Pixel'></p><p>正文。</p>"
    )
    assert "loader" not in html and "default" not in html
    assert 'src="https://news.example.com/x.jpg"' in html  # the template in data-src is ignored
    assert 'src="https://news.example.com/reviews/pixel-phone.jpg"' in html


def test_a_form_wrapping_the_whole_page_is_not_a_form() -> None:
    text = "The council approved the flood wall after a long debate about the harbour. " * 3
    html = clean(f"<form id='aspnetForm'><p>{text}</p><form><input name='q'><button>Search</button></form></form>")
    assert "approved the flood wall" in html and "Search" not in html


def test_advertisement_images_go() -> None:
    html = clean(
        "<p><img src='https://advintage.net/adserver/www/delivery/avw.php?zoneid=908'></p>"
        "<p><a href='https://ads.example.net/click?id=7'><img src='/cgw/pic/promo.gif'></a></p>"
        "<p><img src='/ad/banner.gif'></p><p><img src='/pic/2026/harbor.jpg' alt='港口'></p>"
    )
    assert html == '<p><img src="https://news.example.com/pic/2026/harbor.jpg" alt="港口"></p>'

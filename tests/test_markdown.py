"""Clean HTML → Markdown: each construct, Chinese and English, and the outbound-link policy."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from newsmirror.extract.markdown import same_site, to_markdown

ARTICLE = "https://www.example.com/news/gb/2026/03/09/1031320.html"


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


def test_headings_paragraphs_and_emphasis() -> None:
    md = to_markdown(
        "<h2>会议闭幕</h2><p>第一段，<strong>重点</strong>内容。</p><h3>Background</h3><p>Second <em>one</em>.</p>"
    )
    assert md == "## 会议闭幕\n\n第一段，**重点**内容。\n\n### Background\n\nSecond *one*.\n"


def test_lists_and_quotes() -> None:
    md = to_markdown(
        "<ul><li>第一条</li><li>第二条</li></ul><ol><li>One</li><li>Two</li></ol>"
        "<blockquote><p>“我们不排除会面的可能。”</p></blockquote>"
    )
    assert "- 第一条\n- 第二条" in md
    assert "1. One\n2. Two" in md
    assert "> “我们不排除会面的可能。”" in md
    html = rendered(md)
    assert html.count("<li>") == 4 and "<blockquote>" in html


def test_tables_render_as_tables() -> None:
    md = to_markdown(
        "<table><tr><th>城市</th><th>降雨量</th></tr><tr><td>维斯堡</td><td>120 mm</td></tr>"
        "<tr><td>Harbor</td><td>80 mm</td></tr></table>"
    )
    html = rendered(md)
    assert "<table>" in html and "<th>城市</th>" in html and "<td>维斯堡</td>" in html


def test_images_with_captions() -> None:
    md = to_markdown(
        "<figure><img src='https://img.example.com/a.jpg' alt='防洪演练'>"
        "<figcaption>市民观看防洪演练。（图片来源：晨光新闻）</figcaption></figure><p>正文。</p>"
    )
    assert "![防洪演练](https://img.example.com/a.jpg)\n\n*市民观看防洪演练。（图片来源：晨光新闻）*\n\n正文。" in md
    assert '<img src="https://img.example.com/a.jpg" alt="防洪演练"' in rendered(md)


def test_link_policy_plain_keeps_only_text() -> None:
    html = "<p>见<a href='https://www.example.com/tag/x'>本站</a>与<a href='https://other.org/y'>外站</a>。</p>"
    assert to_markdown(html, ARTICLE, "plain") == "见本站与外站。\n"


def test_link_policy_keep_keeps_every_link() -> None:
    html = "<p>See <a href='https://www.example.com/a'>ours</a> and <a href='https://other.org/b'>theirs</a>.</p>"
    assert to_markdown(html, ARTICLE, "keep") == (
        "See [ours](https://www.example.com/a) and [theirs](https://other.org/b).\n"
    )


def test_link_policy_original_keeps_only_the_articles_own_site() -> None:
    html = (
        "<p>见<a href='https://img.example.com/a'>本站</a>、<a href='https://example.com/b'>主站</a>"
        "与<a href='https://other.org/c'>外站</a>。</p>"
    )
    md = to_markdown(html, ARTICLE, "original")
    assert md == "见[本站](https://img.example.com/a)、[主站](https://example.com/b)与外站。\n"


def test_same_site() -> None:
    assert same_site("https://m.example.com/x", "https://www.example.com/y")
    assert same_site("https://news.bbc.co.uk/x", "https://www.bbc.co.uk/y")
    assert not same_site("https://example.org/x", "https://www.example.com/y")
    assert not same_site("https://other.co.uk/x", "https://www.bbc.co.uk/y")


def test_no_stray_html_and_no_runs_of_blank_lines() -> None:
    md = to_markdown("<div><p>一</p><br><br><br><p></p><div><p>二</p></div></div><p>三<br>四</p>")
    assert "<" not in md
    assert "\n\n\n" not in md
    assert md.startswith("一\n\n二\n\n三")


def test_chinese_punctuation_and_full_width_spaces_kept() -> None:
    text = "　　【晨光新闻2026年3月9日讯】“协定”签署——代表们说：《宣言》已生效！（完）"
    assert to_markdown(f"<p>{text}</p>") == text + "\n"


def test_markdown_specials_in_text_are_escaped() -> None:
    md = to_markdown("<p>5*3 = 15 and snake_case_name</p>")
    assert re.search(r"5\\\*3", md) and "snake\\_case\\_name" in md
    assert "<em>" not in rendered(md)


def test_angle_brackets_in_text_stay_text() -> None:
    md = to_markdown("<p>观众观看了&lt;The Palace: Tale of Jang Noksu&gt;。</p>")
    assert md == "观众观看了&lt;The Palace: Tale of Jang Noksu>。\n"
    assert "<p>观众观看了&lt;The Palace: Tale of Jang Noksu&gt;。</p>" in rendered(md)


def test_double_line_breaks_separate_paragraphs() -> None:
    md = to_markdown("<div>　　第一段。<br><br>　　第二段。<br>\n<br>　　第三段<br>\n   同段换行。</div>")
    assert md == "　　第一段。\n\n　　第二段。\n\n　　第三段\\\n同段换行。\n"

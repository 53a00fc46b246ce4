"""Built pages rendered the way GitHub renders Markdown (markdown-it-py's GFM preset): no raw HTML, no tag
text, no Markdown syntax left showing, no broken image or link."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import lxml.html
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsmirror.config import parse_config
from newsmirror.demosite import DemoSite
from newsmirror.extract.markdown import to_markdown
from newsmirror.models import Article, article_id
from newsmirror.render import build
from newsmirror.store import Store
from newsmirror.sync import sync

# Roughly what the cleaner makes of ../shared/seed/original-page.md.
BODY = """\
![俄罗斯不排除普京总统与王毅进行会面的可能性。](https://img.example.com/pic/2023/2-20/p3290852a987547522-ss.jpg)

俄罗斯不排除普京总统与王毅进行会面的可能性。（图片来源：Johannes Simon/Getty Images）

【看中国2023年2月20日讯】（看中国记者闻天清编译）中共中央外事工作委员会办公室主任王毅抵达莫斯科，\
开始其访问俄罗斯行程。

#### 俄罗斯不排除普京会晤王毅的可能性

俄罗斯卫星通讯社报导，[克里姆林宫](https://www.example.com/news/gb/tag/kremlin)不排除普京总统与他进行会面的可能性。\
他说：“我们不排除普京总统与王毅先生举行会面的可能……我们将通知你们日期。”

> 美国没有资格向中国提出要求……

- 法国
- 意大利

来源：看中国"""

TAG_TEXT = re.compile(r"</?(span|div|p|br|img|ok|input|center|a|hr|script|style)\b", re.I)


def walk(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        out.append(token)
        out.extend(walk(token.children or []))
    return out


def test_built_pages_render_cleanly_as_gfm(tmp_path: Path) -> None:
    config = parse_config(
        """
[mirror]
title = "新闻镜像"
output = "out"
counter_url = "https://counter.example.org"
index_size = 1
mirrors = [ { name = "GitLab", url = "https://gitlab.com/example/mirror" } ]
[[site]]
id = "kzg"
name = "看中国"
  [[site.channel]]
  id = "p9"
  name = "看世界"
  feed = "https://www.example.com/p9.xml"
""",
        root=tmp_path,
    )
    start = datetime(2023, 2, 20, 10, tzinfo=UTC)
    with Store(tmp_path / "store.db") as store:
        for n in range(2):
            store.save_article(
                Article(
                    site="kzg",
                    channel="p9",
                    id=str(1029400 + n),
                    url=f"https://www.secretchina.com/news/gb/2023/02/20/{1029400 + n}.html",
                    title="王毅抵达斯莫斯科 不排除与普京会晤可能性(图)",
                    markdown=BODY,
                    html="",
                    published=start + timedelta(hours=n),
                    fetched=start + timedelta(hours=n),
                    author="闻天清",
                )
            )
        build(config, store)

    md = MarkdownIt("gfm-like", {"linkify": False})
    pages = sorted(config.output_dir.rglob("*.md"))
    assert len(pages) == 7  # 2 articles, 2 index pages, hot, deleted, home
    for page in pages:
        tokens = walk(md.parse(page.read_text()))
        assert not [t for t in tokens if t.type in ("html_block", "html_inline")], f"{page}: raw HTML"
        text = "".join(t.content for t in tokens if t.type in ("text", "code_inline"))
        assert not TAG_TEXT.search(text), f"{page}: tag text shows: {TAG_TEXT.search(text)}"
        assert "![" not in text and "](" not in text, f"{page}: Markdown syntax shows as text"
        for token in tokens:
            if token.type == "image":
                src = str(token.attrGet("src"))
                assert src, f"{page}: image without a source"
                if not src.startswith("https://"):  # the QR code: beside the page, described
                    assert (page.parent / src).is_file(), f"{page}: broken image {src}"
                    assert token.content, f"{page}: image {src} has no alt text"
            if token.type == "link_open":
                href = str(token.attrGet("href"))
                if not href.startswith("https://"):
                    assert (page.parent / href.split("?")[0]).is_file(), f"{page}: broken link {href}"

    article = md.render((config.output_dir / "pages/kzg/p9/1029401.md").read_text())
    assert "<h1>王毅抵达斯莫斯科 不排除与普京会晤可能性(图)</h1>" in article
    assert '<img src="1029401.png" alt="本文二维码" />' in article
    assert (
        '<a href="https://github.com/example/mirror/blob/main/pages/kzg/p9/1029401.md">'
        "https://github.com/example/mirror/blob/main/pages/kzg/p9/1029401.md</a>"
    ) in article
    assert "<h4>俄罗斯不排除普京会晤王毅的可能性</h4>" in article and "<blockquote>" in article


# Constructs that showed their Markdown syntax on GitHub: Chinese bold next to ：、，。「」 and
# ideographic spaces on either side, a line break closing a paragraph, a list item or a quote,
# empty tables. (html, the text that must render bold or italic)
CONSTRUCTS = [
    ("<p><strong>李金泽：</strong>政府表示将继续推进改革。</p>", ["李金泽"]),
    ("<p><strong>　　宝洁自曝财务造假</strong></p>", ["宝洁自曝财务造假"]),
    ("<p>他说<strong>「重要」</strong>然后离开。</p>", ["重要"]),
    ("<p>文字<b>，逗号在内</b>文字</p>", ["逗号在内"]),
    ("<p>名单<b>、</b>顿号</p>", []),
    ("<p>前文<strong>（注：括号）</strong>后文</p>", ["注：括号"]),
    ("<p>答<strong>“是的。”</strong>他说</p>", ["是的"]),
    ("<p>文字<strong>　加粗　</strong>文字</p>", ["加粗"]),
    ("<p>这是<em>强调</em>的文字，<i>斜体，</i>继续</p>", ["强调", "斜体"]),
    ("<p><b>记者：</b><b>张三</b>报导</p>", ["记者：张三"]),
    ("<p><strong>问：</strong><br>答：好的<br></p>", ["问："]),
    ("<p>段落末尾<br></p><p>下一段<br>　　</p>", []),
    ("<p><strong>粗体<br></strong>后文</p>", ["粗体"]),
    ("<ul><li>一项<br></li><li>二项</li></ul><blockquote><p>引文<br></p></blockquote>", []),
    ("<table></table><table><tr><td></td><td>&nbsp;</td></tr></table><p>表后</p>", []),
    ("<p>A<strong> bold </strong>word and <em>italic.</em></p>", ["bold", "italic."]),
    ("<p>文<strong><a href='https://x.example/a'>链接</a></strong>文</p>", []),
    (
        "<figure><img src='https://x.example/a.jpg' alt='图'>"
        "<figcaption>市民观看演练。（图片来源：本报）</figcaption></figure>",
        ["市民观看演练。（图片来源：本报）"],
    ),
]


def visible(tokens: list[Token]) -> list[Token]:
    """Every token a reader sees, in order (an image's alt text is not read as text)."""
    out: list[Token] = []
    for token in tokens:
        out.append(token)
        if token.type != "image":
            out.extend(visible(token.children or []))
    return out


def rendered_text(tokens: list[Token]) -> str:
    return "".join(t.content for t in tokens if t.type in ("text", "code_inline"))


def emphasised(tokens: list[Token]) -> list[str]:
    """The text of every bold or italic run, as the renderer found them."""
    runs, depth, current = [], 0, []
    for token in tokens:
        if token.type in ("strong_open", "em_open"):
            depth += 1
        elif token.type in ("strong_close", "em_close"):
            depth -= 1
            if depth == 0:
                runs.append("".join(current))
                current = []
        elif depth and token.type == "text":
            current.append(token.content)
    return runs


@pytest.mark.parametrize(("html", "bold"), CONSTRUCTS)
def test_emphasis_and_breaks_render_as_written(html: str, bold: list[str]) -> None:
    md = MarkdownIt("gfm-like", {"linkify": False})
    markdown = to_markdown(html, "https://x.example/", "keep")
    tokens = visible(md.parse(markdown))
    text = rendered_text(tokens)
    source = lxml.html.fromstring(f"<div>{html}</div>").text_content()
    for marker in "*_\\":
        assert marker not in text or marker in source, f"{markdown!r} renders a literal {marker!r}: {text!r}"
    assert [t for t in tokens if t.type == "table_open"] == []
    assert emphasised(tokens) == bold, markdown
    # Nothing of the text is lost on the way (spaces aside; an image's alt text is not text).
    assert re.sub(r"\s", "", text) == re.sub(r"\s", "", source)


def test_every_demo_page_renders_without_markdown_showing(tmp_path: Path) -> None:
    with DemoSite(slow_delay=0.2) as demo:
        config = parse_config(demo.config_toml(output="out", store="store.db"), root=tmp_path)
        with Store(config.store_path) as store:
            asyncio.run(sync(config, store))
            build(config, store)
        sources = {}
        for article in demo.expected.all_articles():
            page = httpx.get(article.url, timeout=10)
            sources[article_id(article.url)] = lxml.html.fromstring(page.content).text_content()
    md = MarkdownIt("gfm-like", {"linkify": False})
    pages = sorted(config.output_dir.rglob("*.md"))
    assert len(pages) > 50
    bold_subheads = 0
    for page in pages:
        tokens = visible(md.parse(page.read_text("utf-8")))
        text = rendered_text(tokens)
        source = sources.get(page.stem, "")
        for marker in "*_\\":
            assert marker not in text or marker in source, f"{page}: a literal {marker!r} shows"
        bold_subheads += sum(run in ("三市停课停工一天", "租金涨了三成") for run in emphasised(tokens))
    assert bold_subheads == 2  # the sample sites' bold subheads with a full-width indent render bold

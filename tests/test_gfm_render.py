"""Built pages rendered the way GitHub renders Markdown (markdown-it-py's GFM preset): no raw HTML, no tag
text, no Markdown syntax left showing, no broken image or link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsmirror.config import parse_config
from newsmirror.models import Article
from newsmirror.render import build
from newsmirror.store import Store

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
    assert len(pages) == 6  # 2 articles, 2 index pages, hot, home
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

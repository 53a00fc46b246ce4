"""mirror.asset_base_url: images and QR codes that reach readers on github.com, pages still linked relatively."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import lxml.html
from markdown_it import MarkdownIt
from markdown_it.token import Token
from PIL import Image

from newsmirror.config import parse_config
from newsmirror.image_shrink import shrink_image
from newsmirror.models import Article
from newsmirror.render import build
from newsmirror.store import Store

CDN = "https://cdn.jsdelivr.net/gh/example/mirror@main/"
CONFIG = """
[mirror]
output = "out"
html = true
index_size = 1
{extra}
[[site]]
id = "kzg"
name = "看中国"
  [[site.channel]]
  id = "p9"
  name = "看世界"
  feed = "https://www.example.com/p9.xml"
"""


def tokens(markdown: str) -> list[Token]:
    out: list[Token] = []
    for token in MarkdownIt("gfm-like", {"linkify": False}).parse(markdown):
        out.extend(token.children or [])
    return out


def make_mirror(root: Path, extra: str) -> Path:
    config = parse_config(CONFIG.format(extra=extra), root=root)
    picture = BytesIO()
    Image.new("RGB", (640, 480), "navy").save(picture, "JPEG")
    when = datetime(2026, 3, 1, tzinfo=UTC)
    with Store(root / "newsmirror.db") as store:
        for n in range(2):
            url = f"https://img.example.com/{n}.jpg"
            article = Article(
                site="kzg", channel="p9", id=str(n), url=f"https://www.example.com/{n}.html", title=f"标题{n}",
                markdown=f"第一段。\n\n![图片{n}]({url})\n\n第二段。", html="",
                published=when + timedelta(hours=n), fetched=when + timedelta(hours=n),
            )  # fmt: skip
            store.save_article(article)
            store.set_article_images(article.key, [url])
            store.save_image(url, shrink_image(url, picture.getvalue(), max_width=1080, budget=150 * 1024))
        assert build(config, store).ok
    return config.output_dir


def test_images_and_qr_codes_are_absolute_under_the_asset_base_and_pages_stay_relative(tmp_path: Path) -> None:
    out = make_mirror(tmp_path, 'asset_base_url = "https://cdn.jsdelivr.net/gh/example/mirror@main"')
    images = links = 0
    for page in sorted(out.rglob("*.md")):
        for token in tokens(page.read_text("utf-8")):
            if token.type == "image":
                src = str(token.attrGet("src"))
                assert src.startswith(CDN), f"{page}: {src}"
                assert (out / src.removeprefix(CDN)).is_file(), f"{page}: {src} is not a file of the tree"
                images += 1
            elif token.type == "link_open":
                href = str(token.attrGet("href"))
                if ".md" in href and not href.startswith("https://github.com/"):  # the share URL is absolute
                    assert not href.startswith(("http:", "https:", "/")), f"{page}: {href}"
                    assert (page.parent / href.split("?")[0]).resolve().is_file(), f"{page}: {href}"
                    links += 1
    assert images == 4 and links > 10  # two photos and two QR codes; nav, index and home links

    # The HTML site shows the tree's own files, by relative paths.
    for html in sorted(out.rglob("*.html")):
        for src in lxml.html.parse(str(html)).getroot().xpath("//img/@src"):
            assert not src.startswith("http"), f"{html}: {src}"
            assert (html.parent / src).resolve().is_file(), f"{html}: {src}"
    page = lxml.html.parse(str(out / "pages/kzg/p9/1.html")).getroot()
    assert page.xpath("//img/@src")[:2] == ["../../../images/" + next((out / "images").iterdir()).name, "1.png"]


def test_without_an_asset_base_nothing_changes(tmp_path: Path) -> None:
    out = make_mirror(tmp_path, "")
    page = (out / "pages/kzg/p9/1.md").read_text("utf-8")
    assert "](../../../images/" in page and "](1.png)" in page and "jsdelivr" not in page

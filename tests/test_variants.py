"""The mirror in the other script: a simplified article's traditional twin, converted by OpenCC with the
site's regional words, its URLs, paths and code untouched, linked both ways, built incrementally."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html

from newsmirror.config import Config, parse_config
from newsmirror.models import Article
from newsmirror.render import build
from newsmirror.render.variants import convert_markdown
from newsmirror.store import Store

BASE = "https://mirror.example.org/news"
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
LINK = "https://www.example.com/软件/这里?q=这个"
BODY = (
    f"这个软件的鼠标很好用，见[这份报道]({LINK})。\n\n"
    "代码 `这个软件` 不变，网址 https://www.example.com/这个软件 也不变。\n\n"
    "```\n这个代码块\n```"
)


def make_config(root: Path, variants: str = "[]", script: str = 'script = "s2twp"', html: str = "true") -> Config:
    text = f"""
[mirror]
title = "测试镜像"
base_url = "{BASE}"
output = "out"
store = "store.db"
html = {html}
search = {html}
variants = {variants}

[[site]]
id = "kzg"
name = "看中国"
{script}

  [[site.channel]]
  id = "p9"
  name = "软件世界"
  feed = "https://www.example.com/p9.xml"
"""
    return parse_config(text, root=root)


def article(n: int, body: str = BODY) -> Article:
    return Article(
        site="kzg",
        channel="p9",
        id=str(1_029_400 + n),
        url=f"https://www.example.com/gb/这个/{1_029_400 + n}.html",
        title=f"这个软件发布了 第{n}篇",
        markdown=body,
        html="",
        published=START + timedelta(hours=n),
        fetched=START + timedelta(hours=n, minutes=3),
    )


def test_conversion_leaves_urls_paths_and_code_alone() -> None:
    converted = convert_markdown(f"{BODY}\n\n![这个图片](../../../images/ab.jpg) <https://example.com/这>", "s2twp")
    assert "這個軟體的滑鼠很好用" in converted
    assert f"]({LINK})" in converted and "https://www.example.com/这个软件" in converted
    assert "`这个软件`" in converted and "```\n这个代码块\n```" in converted
    assert "![這個圖片](../../../images/ab.jpg)" in converted and "<https://example.com/这>" in converted


def test_traditional_twin_is_converted_linked_both_ways_and_points_at_itself(
    tmp_path: Path, store: Store, decode_qr: Callable[[Path], str]
) -> None:
    store.save_article(article(1))
    config = make_config(tmp_path)  # the site's script alone asks for the zh-Hant copy
    result = build(config, store)
    assert result.ok, result.errors
    out = config.output_dir
    page, twin = out / "pages/kzg/p9/1029401.md", out / "zh-hant/pages/kzg/p9/1029401.md"
    text, copy = page.read_text("utf-8"), twin.read_text("utf-8")

    assert copy.startswith("# 這個軟體釋出了 第1篇\n")  # s2twp: Taiwan's words
    assert "這個軟體的滑鼠很好用" in copy and "[軟體世界]" in copy and "首頁" in copy
    assert f"]({LINK})" in copy  # the link's address as it was
    original = re.findall(r"<https://www\.example\.com/gb/[^>]+>", text)
    assert original and re.findall(r"<https://www\.example\.com/gb/[^>]+>", copy) == original  # as it was
    assert "`这个软件`" in copy and "这个代码块" in copy  # code is never converted
    # Links both ways, relative, to files that are there.
    assert "[繁體](../../../zh-hant/pages/kzg/p9/1029401.md)" in text
    assert "[簡體](../../../../pages/kzg/p9/1029401.md)" in copy
    assert (page.parent / "../../../zh-hant/pages/kzg/p9/1029401.md").resolve() == twin.resolve()
    for target in re.findall(r"\]\(((?:\.\./)*(?:README|indexes/)[^)?]*)", copy):
        assert (twin.parent / target).resolve().is_file(), target  # links stay inside the copy
    # The copy's share URL and QR code point at the copy.
    assert f"<{BASE}/zh-hant/pages/kzg/p9/1029401.md>" in copy
    assert decode_qr(twin.with_suffix(".png")) == f"{BASE}/zh-hant/pages/kzg/p9/1029401.md"
    assert decode_qr(page.with_suffix(".png")) == f"{BASE}/pages/kzg/p9/1029401.md"

    home, copy_home = (out / "README.md").read_text("utf-8"), (out / "zh-hant/README.md").read_text("utf-8")
    assert "[繁體](zh-hant/README.md)" in home and "[簡體](../README.md)" in copy_home
    assert "# 測試鏡像" in copy_home and "這個軟體釋出了 第1篇" in copy_home
    assert "[RSS 訂閱](../feed.xml)" in copy_home
    index = (out / "zh-hant/indexes/kzg-p9.md").read_text("utf-8")
    assert "[簡體](../../indexes/kzg-p9.md)" in index and "這個軟體釋出了" in index

    # The HTML site: the copy's pages say their language, its home is zh-hant/index.html, and it is searchable.
    html = lxml.html.parse(str(twin.with_suffix(".html"))).getroot()
    assert html.get("lang") == "zh-Hant"
    assert "../../../../pages/kzg/p9/1029401.html" in html.xpath("//a/@href")
    assert (out / "zh-hant/index.html").is_file() and (out / "zh-hant/search.html").is_file()
    entry = json.loads((out / "pagefind/pagefind-entry.json").read_bytes())
    assert len(entry["languages"]) == 2  # the simplified pages and their traditional copies


def test_copies_are_incremental_and_leave_with_the_setting(tmp_path: Path, store: Store) -> None:
    for n in (1, 2):
        store.save_article(article(n))
    config = make_config(tmp_path, variants='["zh-Hant"]', script="", html="false")
    assert build(config, store).ok
    out = config.output_dir
    assert "這個軟件" in (out / "zh-hant/pages/kzg/p9/1029401.md").read_text("utf-8")  # s2t: no regional words
    assert build(config, store).written == []  # unchanged: nothing converted or written again

    store.save_article(article(2, body="这是更新后的正文。"))
    written = set(build(config, store).written)
    assert {"pages/kzg/p9/1029402.md", "zh-hant/pages/kzg/p9/1029402.md"} <= written
    assert not written & {"pages/kzg/p9/1029401.md", "zh-hant/pages/kzg/p9/1029401.md"}
    assert "這是更新後的正文" in (out / "zh-hant/pages/kzg/p9/1029402.md").read_text("utf-8")

    off = build(make_config(tmp_path, script="", html="false"), store)
    assert off.ok and not [p for p in (out / "zh-hant").rglob("*") if p.is_file()]
    assert "繁體" not in (out / "pages/kzg/p9/1029401.md").read_text("utf-8")

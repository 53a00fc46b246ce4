"""Page chrome in the site's language: labels from the one table, the HTML lang, the feed's language."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from newsmirror.config import ConfigError, parse_config
from newsmirror.models import Article
from newsmirror.render import build
from newsmirror.render.labels import LABELS, TEXT, ArchiveWords, Labels, labels_for
from newsmirror.store import Store

CONFIG = """
[mirror]
output = "out"
html = true
language = "{mirror_language}"
mirrors = [ {{ name = "GitLab", url = "https://gitlab.com/example/mirror" }} ]
[[site]]
id = "harbor"
name = "Harbor Daily"
language = "en"
  [[site.channel]]
  id = "world"
  name = "World"
  feed = "https://harbor.example/world.xml"
[[site]]
id = "tw"
name = "臺灣日報"
language = "zh-Hant"
  [[site.channel]]
  id = "news"
  name = "新聞"
  feed = "https://tw.example/news.xml"
[[site]]
id = "fr"
name = "Le Quotidien"
language = "fr"
  [[site.channel]]
  id = "monde"
  name = "Monde"
  feed = "https://fr.example/monde.xml"
"""


def test_each_site_speaks_its_language_and_the_shared_pages_the_mirrors(tmp_path: Path) -> None:
    config = parse_config(CONFIG.format(mirror_language="en"), root=tmp_path)
    when = datetime(2026, 3, 1, 8, tzinfo=UTC)
    with Store(tmp_path / "store.db") as store:
        for site, channel in (("harbor", "world"), ("tw", "news"), ("fr", "monde")):
            store.save_article(
                Article(
                    site=site, channel=channel, id="a1", url=f"https://{site}.example/a1", title=f"{site} story",
                    author="Reporter", markdown="First paragraph.", html="", published=when, fetched=when,
                )
            )  # fmt: skip
        build(config, store)
    out = config.output_dir
    english = (out / "pages/harbor/world/a1.md").read_text("utf-8")
    for label in ("[Home](", "[Most read](", "Source: Harbor Daily", "Author: Reporter", LABELS["en"].share):
        assert label in english, label
    assert "![QR code of this article](a1.png)" in english and "Original address" in english
    assert not any(word in english for word in ("首页", "来源", "作者", "二维码", "原文地址", "镜像"))
    traditional = (out / "pages/tw/news/a1.md").read_text("utf-8")
    assert "[首頁](" in traditional and "來源：臺灣日報" in traditional and "本文二維碼" in traditional
    french = (out / "pages/fr/monde/a1.md").read_text("utf-8")
    assert "[Home](" in french and "Source: Le Quotidien" in french  # no French table: English labels
    assert "[首頁](" in (out / "indexes/tw-news.md").read_text("utf-8")  # a channel index: its site's language
    home = (out / "README.md").read_text("utf-8")
    assert "## Most read" in home and "首页" not in home and "RSS feed" in home

    langs = {
        path: lxml.html.parse(str(out / path)).getroot().get("lang")
        for path in ("pages/harbor/world/a1.html", "pages/tw/news/a1.html", "pages/fr/monde/a1.html", "index.html")
    }
    assert langs == {
        "pages/harbor/world/a1.html": "en",
        "pages/tw/news/a1.html": "zh-Hant",
        "pages/fr/monde/a1.html": "fr",
        "index.html": "en",
    }
    feed = lxml.etree.parse(str(out / "feed.xml")).getroot()
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert feed.get(lang) == "en"
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert sorted(e.get(lang) or "en" for e in entries) == ["en", "fr", "zh-Hant"]


def test_the_default_is_simplified_chinese_and_bad_tags_are_refused(tmp_path: Path) -> None:
    config = parse_config('[[site]]\nid = "s"\nname = "S"\n', root=tmp_path)
    assert config.mirror.language == "zh-Hans" and config.sites[0].language == "zh-Hans"
    assert labels_for("zh-Hans").home == "首页" and labels_for("zh-CN").home == "首页"
    assert labels_for("zh-TW").home == "首頁" and labels_for("zh-Hant-HK").home == "首頁"
    assert labels_for("de") is LABELS["en"]
    with pytest.raises(ConfigError, match=r"mirror\.language.*not a language tag.*zh-Hans") as error:
        parse_config('[mirror]\nlanguage = "Chinese (simplified)"\n', root=tmp_path)
    assert "\n" not in str(error.value)


def test_every_row_of_the_table_is_a_label_of_one_view() -> None:
    names = [field.name for view in (Labels, ArchiveWords) for field in fields(view)]
    assert sorted(names) == sorted(TEXT)  # no row that no page reads, none that two views share

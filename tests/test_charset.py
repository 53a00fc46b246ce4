"""The one decoding policy (pages over HTTP, saved pages for `extract`, feeds) on byte-level traps."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from newsmirror.charset import clean_text, decode
from newsmirror.config import HttpConfig
from newsmirror.extract import read_page
from newsmirror.feeds import parse_feed
from newsmirror.http import HttpClient

SIMPLIFIED = "国务院发布通知，要求各地做好今年的防汛工作。我们的记者在现场看到，这个城市的居民已经开始准备。"
TRADITIONAL = "這是一個關於香港經濟發展的報道。我們的記者在現場看到，這個城市的居民對於未來的發展很有信心。"


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>News</title></head><body><p>{body}</p></body></html>"


def test_gb2312_declared_only_in_an_odd_attribute_with_a_bad_byte_stays_chinese() -> None:
    # The only declaration is an encoding= attribute on a wrapper element, and
    # two bytes are not valid GB2312: the page must not become a Cyrillic code page.
    # (A forum page: rows of short links, then the post; detection alone reads it as Cyrillic.)
    rows = b"".join(
        b'<tr><td><a href="/f/%d.html">' % i + "论坛版块".encode("gb2312") + b"</a></td></tr>" for i in range(40)
    )
    head, tail = SIMPLIFIED[:20].encode("gb2312"), SIMPLIFIED[20:].encode("gb2312")
    data = (
        b'<text id="x" encoding="gb2312"><table>' + rows + b"</table><p>" + head + b"\xc7 \xff" + tail + b"</p></text>"
    )
    text = decode(data)
    assert SIMPLIFIED[:20] in text and SIMPLIFIED[20:] in text
    assert text.count("\ufffd") <= 2


def test_gb2312_characters_beyond_the_narrow_set_survive() -> None:
    # 镕 is in GBK/GB18030, not GB2312: pages labelled GB2312 use it anyway.
    data = page("朱镕基" + SIMPLIFIED, '<meta charset="gb2312">').encode("gb18030")
    assert "朱镕基" in decode(data)


@pytest.mark.parametrize("label", ["iso-8859-1", "windows-1252"])
@pytest.mark.parametrize(("text", "encoding"), [(SIMPLIFIED, "gb2312"), (TRADITIONAL, "big5")])
def test_chinese_labelled_as_latin_reads_as_chinese(label: str, text: str, encoding: str) -> None:
    data = page(text).encode(encoding)
    assert text in decode(data, f"text/html; charset={label}")
    meta = page(text, f'<meta http-equiv="Content-Type" content="text/html; charset={label}">').encode(encoding)
    assert text in decode(meta)


def test_big5_labelled_gb2312_reads_as_big5_and_the_reverse() -> None:
    big5 = page(TRADITIONAL, '<meta charset="gb2312">').encode("big5")
    assert TRADITIONAL in decode(big5)
    gb = page(SIMPLIFIED, '<meta charset="big5">').encode("gb2312")
    assert SIMPLIFIED in decode(gb)


def test_latin_text_labelled_latin_stays_latin() -> None:
    text = "Café “Déjà vu” – naïve résumé, señor. Œuvres complètes à 5 €."
    assert text in decode(page(text).encode("cp1252"), "text/html; charset=iso-8859-1")
    assert text in decode(page(text, '<meta charset="windows-1252">').encode("cp1252"))


def test_other_single_byte_labels_are_believed() -> None:
    text = "Новости дня: правительство объявило о новых мерах."
    assert text in decode(page(text, '<meta charset="koi8-r">').encode("koi8-r"))


def test_utf8_wins_over_a_wrong_label() -> None:
    assert SIMPLIFIED in decode(page(SIMPLIFIED, '<meta charset="gb2312">').encode("utf-8"))


def feed(title: str, declared: str) -> str:
    return (
        f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>Channel</title>'
        f"<item><title>{title[:12]}</title><link>https://example.org/a</link>"
        f"<description>{title}</description></item></channel></rss>"
    )


@pytest.mark.parametrize(
    ("text", "encoding", "declared"),
    [(SIMPLIFIED, "gb2312", "iso-8859-1"), (TRADITIONAL, "big5", "iso-8859-1"), (TRADITIONAL, "big5", "gb2312")],
)
def test_feeds_labelled_wrongly_read_as_chinese(text: str, encoding: str, declared: str) -> None:
    parsed = parse_feed(feed(text, declared).encode(encoding), "https://example.org/feed.xml")
    assert parsed.items[0].title == text[:12]
    assert parsed.items[0].summary == text


def test_pages_over_http_and_saved_pages_share_the_policy(tmp_path: Path) -> None:
    data = page(TRADITIONAL).encode("big5")
    with HTTPServer(host="127.0.0.1") as server:
        server.expect_request("/big5.html").respond_with_data(data, content_type="text/html; charset=ISO-8859-1")

        async def fetch() -> str:
            async with HttpClient(HttpConfig(retries=0, allow_private=True)) as http:
                return (await http.get(server.url_for("/big5.html"))).text

        assert TRADITIONAL in asyncio.run(fetch())
    saved = tmp_path / "page.html.gz"
    saved.write_bytes(gzip.compress(page(SIMPLIFIED, '<meta charset="iso-8859-1">').encode("gb2312")))
    assert SIMPLIFIED in read_page(saved)


def test_clean_text_skips_only_the_very_text_it_returned() -> None:
    cleaned = clean_text("一\x00二\ud800三")
    assert cleaned == "一二\ufffd三"
    assert clean_text(cleaned) is cleaned  # the same string again: known clean
    assert clean_text("一\x00二\ud800三") == cleaned  # an equal dirty one is cleaned again
    assert clean_text("\U0001fffe" + cleaned + "\x7f") == cleaned

"""Offline bundles from a real store: ZIM read back with libzim and served by kiwix-serve, EPUB read back
with ebooklib and checked by epubcheck, single-file HTML shown in headless Chromium with the network off."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import socket
import struct
import subprocess
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from io import BytesIO
from pathlib import Path

import httpx
import lxml.etree
import lxml.html
import pytest
from ebooklib import epub
from libzim.reader import Archive
from libzim.search import Query, Searcher
from PIL import Image
from typer.testing import CliRunner

from newsmirror.bundle import bundle_files, offline_mirror, write_bundles
from newsmirror.cli import app
from newsmirror.config import Config, parse_config
from newsmirror.image_shrink import ShrunkImage
from newsmirror.models import Article, ArticleKey
from newsmirror.store import Store

BASE = "https://mirror.example.org/news"
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
IMAGES = resources.files("newsmirror.demosite").joinpath("data/images")
PHOTO, CHART = IMAGES.joinpath("harbor.jpg").read_bytes(), IMAGES.joinpath("chart-rain.png").read_bytes()
EPUBCHECK = Path("/usr/share/java/epubcheck.jar")


def config_text() -> str:
    return f"""
[mirror]
title = "测试镜像"
base_url = "{BASE}"
output = "out"
store = "store.db"
counter_url = "https://counter.example.org"

[[site]]
id = "kzg"
name = "看中国"

  [[site.channel]]
  id = "p9"
  name = "看世界"
  feed = "https://www.example.com/p9.xml"

  [[site.channel]]
  id = "p1"
  name = "要闻"
  feed = "https://www.example.com/p1.xml"
"""


def make_config(root: Path) -> Config:
    return parse_config(config_text(), root=root)


def article(n: int, channel: str, body: str) -> Article:
    return Article(
        site="kzg",
        channel=channel,
        id=str(1_029_400 + n),
        url=f"https://www.example.com/news/gb/2026/01/01/{1_029_400 + n}.html",
        title=f"港口罢工结束 第{n}篇",
        markdown=body,
        html="",
        published=START + timedelta(hours=n),
        fetched=START + timedelta(hours=n, minutes=3),
        author="闻天清",
    )


def _save_image(store: Store, key: ArticleKey, url: str, data: bytes, ext: str) -> None:
    store.save_image(url, ShrunkImage(data, ext, *Image.open(BytesIO(data)).size))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    photo, chart, gone = (
        "https://img.example.com/harbor.jpg",
        "https://img.example.com/rain.png",
        "https://img.example.com/x.jpg",
    )
    with Store(tmp_path / "store.db") as store:
        first = article(
            1, "p9", f"![码头]({photo})\n\n东岚港码头工人罢工九天后结束，工会与资方达成薪资协议。\n\n![雨量]({chart})"
        )
        second = article(2, "p9", f"![货轮]({gone})\n\n第二篇：港口外的货轮排队等候卸货。")
        third = article(3, "p1", f"![码头]({photo})\n\n要闻：议会通过预算案。")
        for item in (first, second, third):
            store.save_article(item)
        store.set_article_images(first.key, [photo, chart])
        store.set_article_images(second.key, [gone])
        store.set_article_images(third.key, [photo])
        _save_image(store, first.key, photo, PHOTO, "jpg")
        _save_image(store, first.key, chart, CHART, "png")
        yield store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_zim_reads_back_with_title_text_images_main_page_and_search(tmp_path: Path, store: Store) -> None:
    copy = offline_mirror(make_config(tmp_path), store)
    result = write_bundles(copy, tmp_path / "offline", ["zim"])
    zim = tmp_path / "offline" / "mirror.zim"
    assert result.written == [zim]

    archive = Archive(zim)
    assert archive.check()  # the checksum holds after the ids were fixed
    assert archive.get_metadata("Title").decode() == "测试镜像"
    assert archive.get_metadata("Language").decode() == "zho"
    assert archive.get_metadata("Date").decode() == "2026-01-01"
    assert archive.has_illustration(48)
    assert archive.main_entry.get_item().path == "index.html"
    home = bytes(archive.main_entry.get_item().content).decode()
    assert 'href="indexes/kzg-p9.html"' in home and "港口罢工结束 第1篇" in home

    page = archive.get_entry_by_path("pages/kzg/p9/1029401.html").get_item()
    assert page.title == "港口罢工结束 第1篇" and page.mimetype == "text/html"
    html = bytes(page.content).decode()
    assert "工会与资方达成薪资协议" in html
    name = hashlib.sha1(PHOTO).hexdigest() + ".jpg"
    assert f'src="../../../images/{name}"' in html
    assert "counter.example.org" not in html and "本文二维码" not in html  # nothing fetched, no QR image
    assert (
        'href="https://img.example.com/x.jpg"'
        in bytes(archive.get_entry_by_path("pages/kzg/p9/1029402.html").get_item().content).decode()
    )  # an image the store lacks is a link, never loaded
    image = archive.get_entry_by_path(f"images/{name}").get_item()
    assert bytes(image.content) == PHOTO and image.mimetype == "image/jpeg"

    assert archive.has_fulltext_index
    search = Searcher(archive).search(Query().set_query("薪资"))
    assert "pages/kzg/p9/1029401.html" in list(search.getResults(0, 10))


def _clusters(zim: bytes) -> list[tuple[int, set[str]]]:
    """Each cluster's first byte (its compression) and the media types of the entries in it, read from the
    file as the ZIM format lays it out."""
    entry_count, cluster_count, path_pos, _, cluster_pos, mime_pos = struct.unpack_from("<IIQQQQ", zim, 24)
    mimetypes = zim[mime_pos : zim.index(b"\0\0", mime_pos)].decode().split("\0")
    types: list[set[str]] = [set() for _ in range(cluster_count)]
    for at in struct.unpack_from(f"<{entry_count}Q", zim, path_pos):
        (mimetype,) = struct.unpack_from("<H", zim, at)
        if mimetype != 0xFFFF:  # not a redirect
            types[struct.unpack_from("<I", zim, at + 8)[0]].add(mimetypes[mimetype])
    offsets = struct.unpack_from(f"<{cluster_count}Q", zim, cluster_pos)
    return [(zim[offset], found) for offset, found in zip(offsets, types, strict=True)]


def test_zim_text_is_compressed_with_zstd_and_images_and_search_databases_are_not(tmp_path: Path, store: Store) -> None:
    zim = dict(bundle_files(offline_mirror(make_config(tmp_path), store), ["zim"]))["mirror.zim"]
    clusters = _clusters(zim)
    text = [info for info, types in clusters if all(t.startswith("text/") for t in types)]
    other = [(info, types) for info, types in clusters if not any(t.startswith("text/") for t in types)]
    assert len(text) + len(other) == len(clusters)  # no cluster mixes text with the rest
    assert text and set(text) == {0x05}  # zstd
    assert {"image/jpeg", "image/png", "application/octet-stream+xapian"} <= set().union(*(t for _, t in other))
    assert {info & 0x0F for info, _ in other} == {0x01}  # stored: Kiwix opens the search databases in place
    (tmp_path / "mirror.zim").write_bytes(zim)
    archive = Archive(tmp_path / "mirror.zim")
    assert archive.check()
    for number in range(archive.all_entry_count):  # every entry reads back whole
        item = archive._get_entry_by_id(number).get_item()
        assert len(bytes(item.content)) == item.size


@pytest.mark.skipif(not shutil.which("kiwix-serve"), reason="kiwix-serve (Debian's kiwix-tools) is not installed")
def test_zim_is_served_by_kiwix_serve(tmp_path: Path, store: Store) -> None:
    write_bundles(offline_mirror(make_config(tmp_path), store), tmp_path, ["zim"])
    port = _free_port()
    server = subprocess.Popen(
        ["kiwix-serve", "--address", "127.0.0.1", "--port", str(port), str(tmp_path / "mirror.zim")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                catalog = httpx.get(f"{base}/catalog/v2/entries", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "kiwix-serve did not start"
                time.sleep(0.1)
        assert "<title>测试镜像</title>" in catalog.text
        book = lxml.html.fromstring(catalog.content).xpath("//entry/link[@type='text/html']/@href")[0]
        page = httpx.get(f"{base}{book}/pages/kzg/p9/1029401.html", timeout=5)
        assert page.status_code == 200 and "工会与资方达成薪资协议" in page.text
        name = hashlib.sha1(CHART).hexdigest() + ".png"
        image = httpx.get(f"{base}{book}/images/{name}", timeout=5)
        assert image.status_code == 200 and image.content == CHART
    finally:
        server.terminate()
        server.wait(10)


def test_epub_per_channel_reads_back_with_toc_and_images(tmp_path: Path, store: Store) -> None:
    write_bundles(offline_mirror(make_config(tmp_path), store), tmp_path, ["epub"])
    assert sorted(p.name for p in tmp_path.glob("*.epub")) == ["kzg-p1.epub", "kzg-p9.epub"]
    book = epub.read_epub(str(tmp_path / "kzg-p9.epub"))
    assert book.get_metadata("DC", "title")[0][0] == "看中国 · 看世界"
    assert book.get_metadata("DC", "language")[0][0] == "zh"
    assert [link.title for link in book.toc] == ["港口罢工结束 第2篇", "港口罢工结束 第1篇"]  # newest first
    chapter = book.get_item_with_href("1029401.xhtml").get_content().decode()
    photo = hashlib.sha1(PHOTO).hexdigest() + ".jpg"
    assert "工会与资方达成薪资协议" in chapter and f'src="images/{photo}"' in chapter
    assert book.get_item_with_href(f"images/{photo}").get_content() == PHOTO
    assert "原图，需联网" in book.get_item_with_href("1029402.xhtml").get_content().decode()


def test_epub_chapters_are_well_formed_xhtml_whatever_the_article_holds(tmp_path: Path, store: Store) -> None:
    # Markup-like text, entities, a table, a line break and characters XML forbids, in the title and body.
    odd = article(4, "p1", "a < b & c > d \x07铃\x0b &amp; &nbsp;\n\n| 甲 | 乙 |\n|---|---|\n| 1 | 2 |\n\n行一  \n行二")
    store.save_article(dataclasses.replace(odd, title='标题 <b> & "引号" \x01'))
    files = dict(bundle_files(offline_mirror(make_config(tmp_path), store), ["epub"]))
    with zipfile.ZipFile(BytesIO(files["kzg-p1.epub"])) as book:
        chapter = book.read("EPUB/1029404.xhtml")
    root = lxml.etree.fromstring(chapter)  # strict XML: no recovery
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    assert (root.findtext("x:head/x:title", namespaces=ns) or "").strip() == '标题 <b> & "引号"'
    text = "".join(root.find("x:body", ns).itertext())
    assert "a < b & c > d 铃 & \u00a0" in text and "甲" in text and "行一" in text
    assert root.find("x:body//x:table", ns) is not None and root.find("x:body//x:br", ns) is not None


@pytest.mark.skipif(not (EPUBCHECK.is_file() and shutil.which("java")), reason="Debian's epubcheck is not installed")
def test_epub_is_valid_under_epubcheck(tmp_path: Path, store: Store) -> None:
    write_bundles(offline_mirror(make_config(tmp_path), store), tmp_path, ["epub"])
    # Quick start-up flags: the check itself is small, the JVM's warm-up is not.
    checked = subprocess.run(
        ["java", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", str(EPUBCHECK), str(tmp_path / "kzg-p9.epub")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No errors or warnings detected" in checked.stdout


def test_bundles_are_the_same_bytes_from_the_same_store(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    first = dict(bundle_files(offline_mirror(config, store), ["zim", "epub", "html"]))
    time.sleep(1.1)  # a clock that leaks into a bundle would show now
    second = dict(bundle_files(offline_mirror(config, store), ["zim", "epub", "html"]))
    assert set(first) == {
        "mirror.zim",
        "kzg-p9.epub",
        "kzg-p1.epub",
        "html/kzg-p9-1029401.html",
        "html/kzg-p9-1029402.html",
        "html/kzg-p1-1029403.html",
    }
    assert first == second
    # Writing them again leaves every file as it was.
    out = tmp_path / "out-bundles"
    write_bundles(offline_mirror(config, store), out, ["zim", "epub", "html"])
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    result = write_bundles(offline_mirror(config, store), out, ["zim", "epub", "html"])
    assert result.written == [] and {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamps


def test_bundles_made_with_a_helper_process_are_the_bytes_one_process_makes(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import newsmirror.bundle as bundle

    copy = offline_mirror(make_config(tmp_path), store)
    alone = dict(bundle_files(copy, ["zim", "epub", "html"]))
    monkeypatch.setattr(bundle, "HELPER_MIN_ARTICLES", 1)
    monkeypatch.setattr(bundle.os, "cpu_count", lambda: 2)
    mine, theirs = bundle._shares(copy)
    assert [v.slug for v in mine] == ["kzg-p9"] and [v.slug for v in theirs] == ["kzg-p1"]
    helped = bundle_files(copy, ["zim", "epub", "html"])
    assert list(dict(helped)) == list(alone)  # the same files, in the same order
    assert dict(bundle_files(copy, ["zim", "epub", "html"])) == alone
    assert dict(bundle_files(copy, ["epub"])) == {name: alone[name] for name in ("kzg-p9.epub", "kzg-p1.epub")}


def test_single_file_html_inlines_its_images_and_nothing_else(tmp_path: Path, store: Store) -> None:
    files = dict(bundle_files(offline_mirror(make_config(tmp_path), store), ["html"]))
    page = lxml.html.fromstring(files["html/kzg-p9-1029401.html"])
    sources = page.xpath("//img/@src")
    assert [s.split(",")[0] for s in sources] == ["data:image/jpeg;base64", "data:image/png;base64"]
    assert page.xpath("//script|//link") == []
    assert "img-src data:" in page.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert f"{BASE}/pages/kzg/p9/1029401.md" in page.xpath("//a/@href")  # where to find it online


def test_bundle_command_since_and_format(tmp_path: Path, store: Store) -> None:
    config = tmp_path / "newsmirror.toml"
    config.write_text(config_text(), "utf-8")
    runner = CliRunner()
    out = tmp_path / "bundles"
    ran = runner.invoke(app, ["bundle", "--config", str(config), "--format", "epub", "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    assert sorted(p.name for p in out.iterdir()) == ["kzg-p1.epub", "kzg-p9.epub"]
    # The store's articles were fetched in 2026-01-01: none in the last day.
    ran = runner.invoke(app, ["bundle", "--config", str(config), "--since", "1d", "--out", str(out)])
    assert ran.exit_code == 1 and "nothing to bundle" in ran.output
    ran = runner.invoke(app, ["bundle", "--config", str(config), "--since", "soon", "--out", str(out)])
    assert ran.exit_code == 2 and "not a duration" in ran.output
    ran = runner.invoke(app, ["bundle", "--config", str(config), "--format", "pdf", "--out", str(out)])
    assert ran.exit_code == 2 and "choose zim, epub or html" in ran.output


def test_single_file_html_shows_every_image_in_chromium_offline(tmp_path: Path, store: Store, browser) -> None:  # type: ignore[no-untyped-def]
    write_bundles(offline_mirror(make_config(tmp_path), store), tmp_path, ["html"])
    browser.context.set_offline(True)
    page = browser.new_page()
    page.goto((tmp_path / "html" / "kzg-p9-1029401.html").as_uri())
    shown = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")
    assert shown == [True, True]
    assert "工会与资方达成薪资协议" in page.inner_text("body")
    browser.screenshot(page, "single-file")
    assert [u for u in browser.requests if not u.startswith(("file:", "data:"))] == []


def test_mirror_bundles_keep_the_latest_copies_in_offline_and_the_home_page_links_them(
    tmp_path: Path, store: Store
) -> None:
    from newsmirror.render import build

    text = config_text().replace('counter_url = "https://counter.example.org"', 'bundles = ["zim", "epub"]')
    config = parse_config(text, root=tmp_path)
    first = build(config, store)
    assert first.ok, first.errors
    out = config.output_dir
    offline = sorted(p.name for p in (out / "offline").iterdir())
    assert offline == ["kzg-p1.epub", "kzg-p9.epub", "mirror.zim"]
    home = (out / "README.md").read_text("utf-8")
    size = (out / "offline/mirror.zim").stat().st_size
    assert f"- [mirror.zim](offline/mirror.zim) · ZIM（Kiwix） · {round(size / 1024)} KB" in home
    assert "- [kzg-p9.epub](offline/kzg-p9.epub) · EPUB ·" in home
    assert Archive(out / "offline/mirror.zim").get_metadata("Title").decode() == "测试镜像"

    # An unchanged store: nothing written, no bundle made again. A new article replaces them.
    assert build(config, store).written == []
    store.save_article(article(4, "p1", "新的一篇：台风登陆。"))
    written = build(config, store).written
    assert {"offline/mirror.zim", "offline/kzg-p1.epub"} <= set(written) and "offline/kzg-p9.epub" not in written
    assert sorted(p.name for p in (out / "offline").iterdir()) == offline  # replaced, not added to

    off = build(make_config(tmp_path), store)
    assert off.ok and not [p for p in (out / "offline").iterdir()] and "offline/" not in (out / "README.md").read_text()


def test_traditional_copy_has_bundles_of_its_own_linked_from_its_home_page(tmp_path: Path, store: Store) -> None:
    from newsmirror.render import build

    text = config_text().replace('counter_url = "https://counter.example.org"', 'bundles = ["zim", "epub"]')
    config = parse_config(text.replace("[mirror]", '[mirror]\nvariants = ["zh-Hant"]'), root=tmp_path)
    result = build(config, store)
    assert result.ok, result.errors
    out = config.output_dir
    assert sorted(p.name for p in (out / "zh-hant/offline").iterdir()) == ["kzg-p1.epub", "kzg-p9.epub", "mirror.zim"]
    # Each home page lists its own script's bundles, with their sizes.
    home, copy_home = (out / "README.md").read_text("utf-8"), (out / "zh-hant/README.md").read_text("utf-8")
    size = (out / "zh-hant/offline/mirror.zim").stat().st_size
    assert f"- [mirror.zim](offline/mirror.zim) · ZIM（Kiwix） · {round(size / 1024)} KB" in copy_home
    assert "(offline/mirror.zim)" in home and "zh-hant/offline" not in home
    assert "(offline/kzg-p9.epub)" in copy_home and (out / "zh-hant/offline/kzg-p9.epub").is_file()

    archive = Archive(out / "zh-hant/offline/mirror.zim")
    assert archive.check() and archive.get_metadata("Title").decode() == "測試鏡像"
    assert archive.get_metadata("Name") != Archive(out / "offline/mirror.zim").get_metadata("Name")  # two books
    page = bytes(archive.get_entry_by_path("pages/kzg/p9/1029401.html").get_item().content).decode()
    assert "工會與資方達成薪資協議" in page and 'lang="zh-Hant"' in page
    assert f"{BASE}/zh-hant/pages/kzg/p9/1029401.md" in page  # its address online is the copy's
    photo = hashlib.sha1(PHOTO).hexdigest() + ".jpg"
    assert f'src="../../../images/{photo}"' in page  # paths and URLs are never converted
    assert "pages/kzg/p9/1029401.html" in list(Searcher(archive).search(Query().set_query("薪資")).getResults(0, 10))
    book = epub.read_epub(str(out / "zh-hant/offline/kzg-p9.epub"))
    assert book.get_metadata("DC", "title")[0][0] == "看中國 · 看世界"
    assert book.get_metadata("DC", "language")[0][0] == "zh-Hant"
    assert "工會與資方達成薪資協議" in book.get_item_with_href("1029401.xhtml").get_content().decode()

    # `newsmirror bundle` writes the copy's bundles beside the mirror's, in its folder.
    config_file = tmp_path / "newsmirror.toml"
    config_file.write_text(text.replace("[mirror]", '[mirror]\nvariants = ["zh-Hant"]'), "utf-8")
    ran = CliRunner().invoke(app, ["bundle", "-c", str(config_file), "--format", "epub", "--out", str(tmp_path / "b")])
    assert ran.exit_code == 0, ran.output
    assert sorted(p.relative_to(tmp_path / "b").as_posix() for p in (tmp_path / "b").rglob("*.epub")) == [
        "kzg-p1.epub",
        "kzg-p9.epub",
        "zh-hant/kzg-p1.epub",
        "zh-hant/kzg-p9.epub",
    ]

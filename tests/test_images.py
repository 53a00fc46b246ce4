"""Article images copied into the mirror: the sample sites over real HTTP, sync, then build."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from newsmirror.config import Config, parse_config
from newsmirror.demosite import DemoSite
from newsmirror.demosite.content import data_dir
from newsmirror.demosite.photos import large_photos
from newsmirror.image_fetch import image_urls
from newsmirror.image_shrink import ShrunkImage, shrink_image, sniff
from newsmirror.layout import page_path
from newsmirror.models import IMAGE_LINK, Article, ArticleKey, RunSummary, article_id
from newsmirror.render import build
from newsmirror.render.image_copies import localize_images
from newsmirror.store import Store
from newsmirror.sync import sync

DEMO_IMAGES = {e.name: e.read_bytes() for e in data_dir().joinpath("images").iterdir() if e.is_file()}
DEMO_IMAGES.update(large_photos())
PNG = DEMO_IMAGES["chart-rain.png"]
LATE_PNG = DEMO_IMAGES["chart-prices.png"]


class Recorder:
    """A SyncProgress that keeps the warnings."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def feed(self, label: str, outcome: str, detail: str = "") -> None: ...
    def found(self, count: int) -> None: ...
    def polling(self, feeds: int) -> None: ...
    def article(self, label: str, outcome: str, detail: str = "") -> None: ...

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def make_config(tmp_path: Path, demo: DemoSite, **mirror: object) -> Config:
    extra = "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in mirror.items())
    text = demo.config_toml(output="mirror", store="store.db").replace("[mirror]\n", f"[mirror]\n{extra}", 1)
    return parse_config(text, root=tmp_path)


def run_sync(config: Config, store: Store, *sites: str) -> tuple[RunSummary, list[str]]:
    progress = Recorder()
    summary = asyncio.run(sync(config, store, sites=sites, progress=progress, all_feeds=True))
    return summary, progress.warnings


def page_file(config: Config, url: str, site: str, channel: str) -> Path:
    return config.output_dir / page_path(ArticleKey(site, channel, article_id(url)))


def shrunk(data: bytes) -> ShrunkImage:
    """What sync stores of an image, with the default width and budget."""
    return shrink_image("test", data, max_width=1080, budget=150 * 1024)


def local_name(data: bytes) -> str:
    image = shrunk(data)
    return f"{image.sha1}.{image.ext}"


def image_requests(demo: DemoSite, urls: list[str]) -> list[str]:
    paths = {urlsplit(url).path for url in urls}
    return [r.path for r in demo.requests if r.path in paths]


@pytest.fixture
def demo():
    with DemoSite(slow_delay=0.2) as site:
        yield site


def test_every_image_is_copied_and_linked_relatively(tmp_path: Path, demo: DemoSite) -> None:
    config = make_config(tmp_path, demo)
    with Store(config.store_path) as store:
        _, warnings = run_sync(config, store)
        result = build(config, store)
        assert result.ok, result.errors
        assert not warnings

        images_dir = config.output_dir / "images"
        wanted: set[str] = set()
        all_images: list[str] = []
        for article in demo.expected.all_articles():
            path = page_file(config, article.url, article.site, article.channel)
            page = path.read_text("utf-8")
            stored = store.article(ArticleKey(article.site, article.channel, article_id(article.url)))
            assert stored
            alts = {m["url"]: m["alt"] for m in IMAGE_LINK.finditer(stored.markdown)}
            for url in article.images:
                data = DEMO_IMAGES[url.rsplit("/", 1)[1]]
                name = local_name(data)
                wanted.add(name)
                all_images.append(url)
                assert (images_dir / name).read_bytes() == shrunk(data).data, url
                link = f"../../../images/{name}"
                # The caption stays; the page points at the copy, not at the unreachable original.
                assert f"![{alts[url]}]({link})" in page, (path, url)
                assert url not in page
                assert (path.parent / link).resolve() == (images_dir / name).resolve()
        assert all_images and sorted(p.name for p in images_dir.iterdir()) == sorted(wanted)

        # A second sync asks for no stored image again; a rebuild writes nothing.
        demo.clear_requests()
        run_sync(config, store)
        assert demo.requests and image_requests(demo, all_images) == []
        again = build(config, store)
        assert again.written == [] and again.removed == []
        # Fetching an updated article again fetches none of its stored images.
        updated = next(a for a in demo.expected.all_articles() if a.site == "cgw" and a.images)
        demo.update_article(updated.url, title=updated.title + "（更新）")
        demo.clear_requests()
        summary, _ = run_sync(config, store, "cgw")
        assert summary.updated == 1 and urlsplit(updated.url).path in {r.path for r in demo.requests}
        assert image_requests(demo, all_images) == []


def test_broken_images_warn_show_their_caption_and_are_retried(tmp_path: Path, demo: DemoSite) -> None:
    media = "/harbor/media/"
    html_page = demo.put_file(media + "error.jpg", b"<!doctype html><html><body>Oops</body></html>", "text/html")
    svg = demo.put_file(media + "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "image/svg+xml")
    huge = demo.put_file(media + "huge.jpg", b"\xff\xd8\xff\xe0" + bytes(4000), "image/jpeg")
    late = demo.base_url + media + "late.png"  # 404 until it is published below
    good = demo.base_url + media + "chart-rain.png"
    figures = "".join(
        f"<p>Paragraph {n} of the report on the harbour wall, with enough words to be kept as text.</p>"
        f'<figure><img src="{url}" alt="Picture {n}"><figcaption>Caption {n}</figcaption></figure>'
        for n, url in enumerate([good, late, html_page, svg, huge])
    )
    url = demo.add_article("harbor", "world", "Harbour wall plans published", figures + "<p>The end.</p>")
    config = make_config(tmp_path, demo, image_max_bytes=1024)
    page = page_file(config, url, "harbor", "world")
    broken = [late, html_page, svg, huge]

    with Store(config.store_path) as store:
        summary, warnings = run_sync(config, store, "harbor")
        # One line per broken image naming the article and the image; the article is stored all the same.
        # (The other articles' photos are over the 1 KiB cap of this config: they warn too.)
        assert summary.ok and summary.new == 12
        assert all(w.startswith("article harbor/") and "\n" not in w for w in warnings)
        label = f"article harbor/world/{article_id(url)}: image "
        warnings = [w for w in warnings if label in w]
        assert len(warnings) == 4, warnings
        for image in broken:
            assert any(image in w for w in warnings), image
        assert any(html_page in w and "not a PNG, JPEG, GIF or WebP image" in w for w in warnings)
        assert any(svg in w and "not a PNG" in w for w in warnings)
        assert any(huge in w and "too large" in w for w in warnings)
        assert any(late in w and "404" in w for w in warnings)

        build(config, store)
        text = page.read_text("utf-8")
        assert f"![Picture 0](../../../images/{local_name(PNG)})" in text
        for n, image in enumerate(broken, start=1):
            # Not a blank gap pointing at a blocked host: the image's caption takes its place.
            assert f"（图：Picture {n}）" in text and image not in text

        # The missing image appears; the next sync (its feed now answers 304) fetches it, and only it succeeds.
        demo.put_file(media + "late.png", LATE_PNG, "image/png")
        demo.clear_requests()
        summary, warnings = run_sync(config, store, "harbor")
        warnings = [w for w in warnings if label in w]
        assert summary.feeds_unchanged == 2 and summary.new == 0
        assert len(warnings) == 3 and not any(late in w for w in warnings)
        assert sorted(image_requests(demo, [good, *broken])) == sorted(urlsplit(u).path for u in broken)
        result = build(config, store)
        assert page.relative_to(config.output_dir).as_posix() in result.written
        assert f"images/{local_name(LATE_PNG)}" in result.written
        assert f"![Picture 1](../../../images/{local_name(LATE_PNG)})" in page.read_text("utf-8")

        # The rest are tried by a third sync, then given up on: a fourth asks for nothing, even when
        # the article is fetched again.
        _, warnings = run_sync(config, store, "harbor")
        warnings = [w for w in warnings if label in w]
        assert len(warnings) == 3 and all(w.endswith("; not tried again") for w in warnings), warnings
        demo.update_article(url, title="UPDATED: Harbour wall plans published")
        demo.clear_requests()
        summary, warnings = run_sync(config, store, "harbor")
        assert summary.updated == 1 and warnings == []
        assert demo.requests and image_requests(demo, broken) == []


def test_retention_removes_images_no_kept_page_shows(tmp_path: Path, demo: DemoSite) -> None:
    config = make_config(tmp_path, demo)
    with Store(config.store_path) as store:
        run_sync(config, store, "harbor")
        build(config, store)
        images_dir = config.output_dir / "images"
        before = {p.name for p in images_dir.iterdir()}
        (images_dir / "notes.txt").write_text("not the build's")
        (config.output_dir / "LICENSE").write_text("mine")

        kept = make_config(tmp_path, demo, keep_per_channel=1)
        result = build(kept, store)

    pages = [p.read_text("utf-8") for p in (config.output_dir / "pages").rglob("*.md")]
    shown = {name for text in pages for name in re.findall(r"\]\(\.\./\.\./\.\./images/([0-9a-f]{40}\.\w+)\)", text)}
    after = {p.name for p in images_dir.iterdir()}
    assert len(pages) == 2 and shown and shown < before
    assert after == shown | {"notes.txt"}
    assert sorted(result.removed) >= sorted(f"images/{name}" for name in before - shown)
    assert (config.output_dir / "LICENSE").read_text() == "mine"


def test_link_mode_leaves_urls_alone_and_copy_mode_catches_up(tmp_path: Path, demo: DemoSite) -> None:
    link = make_config(tmp_path, demo, images="link")
    images = [i for a in demo.expected.all_articles() if a.site == "harbor" for i in a.images]
    with Store(link.store_path) as store:
        run_sync(link, store, "harbor")
        assert image_requests(demo, images) == []
        build(link, store)
        assert not (link.output_dir / "images").exists()
        article = next(a for a in demo.expected.all_articles() if a.site == "harbor" and a.images)
        assert f"]({article.images[0]})" in page_file(link, article.url, "harbor", article.channel).read_text("utf-8")

    # Link mode records which images each article shows: switching to "copy" fetches them on the next sync.
    copy = make_config(tmp_path, demo)
    with Store(copy.store_path) as store:
        _, warnings = run_sync(copy, store, "harbor")
        assert not warnings and sorted(set(image_requests(demo, images))) == sorted({urlsplit(i).path for i in images})
        build(copy, store)
    names = {local_name(DEMO_IMAGES[i.rsplit("/", 1)[1]]) for i in images}
    assert {p.name for p in (copy.output_dir / "images").iterdir()} == names


def test_sniffing_and_markdown_links() -> None:
    assert sniff(PNG) == "png"
    assert sniff(DEMO_IMAGES["bridge.jpg"]) == "jpg"
    assert sniff(DEMO_IMAGES["grey.gif"]) == "gif"
    assert sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "webp"
    for not_raster in (b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"<?xml version='1.0'?><svg/>", b"<html>", b""):
        assert sniff(not_raster) is None

    markdown = (
        "![a](https://x.test/1.jpg) and ![](http://x.test/2.png)\n\n![c](relative.jpg) [link](https://x.test/3.jpg)"
    )
    assert image_urls(markdown) == ["https://x.test/1.jpg", "http://x.test/2.png"]
    local = localize_images(markdown, {"https://x.test/1.jpg": "ab.jpg"}, "../../../")
    assert local.startswith("![a](../../../images/ab.jpg) and ![](http://x.test/2.png)")
    assert local.endswith("[link](https://x.test/3.jpg)")


def test_a_hostile_store_cannot_name_an_image_file(tmp_path: Path) -> None:
    config = parse_config(
        '[mirror]\noutput = "out"\nstore = "store.db"\n\n[[site]]\nid = "s"\nname = "S"\n\n'
        '  [[site.channel]]\n  id = "c"\n  name = "C"\n  feed = "https://news.example/feed.xml"\n',
        root=tmp_path,
    )
    good, bad = "https://img.example/good.png", "https://img.example/bad.png"
    markdown = f"Text.\n\n![good]({good})\n\n![bad]({bad})"
    article = Article(
        site="s", channel="c", id="1", url="https://news.example/1", title="T", markdown=markdown, html="",
        published=datetime(2026, 1, 1, tzinfo=UTC), fetched=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    with Store(config.store_path) as store:
        store.save_article(article)
        store.set_article_images(article.key, image_urls(markdown))
        store.save_image(good, shrunk(PNG))
        store.save_image(bad, shrunk(PNG))
    with sqlite3.connect(config.store_path) as db:  # a hand-edited (or hostile) store
        db.execute("UPDATE images SET sha1 = '../../../escaped' WHERE url = ?", (bad,))
    with Store(config.store_path) as store:
        result = build(config, store)
    assert len(result.errors) == 1 and bad in result.errors[0] and "not a safe file name" in result.errors[0]
    page = (config.output_dir / "pages/s/c/1.md").read_text("utf-8")
    assert f"![good](../../../images/{local_name(PNG)})" in page and "（图：bad）" in page and bad not in page
    assert not list(tmp_path.parent.glob("escaped*")) and not list(tmp_path.rglob("escaped*"))
    assert [p.name for p in (config.output_dir / "images").iterdir()] == [local_name(PNG)]


POOL_SCRIPT = """
import asyncio, os, sys, time
from newsmirror import image_fetch

async def pids():
    loop = asyncio.get_running_loop()
    return {await loop.run_in_executor(image_fetch._shrink_pool(), os.getpid) for _ in range(20)}

if __name__ == "__main__":
    print(" ".join(map(str, asyncio.run(pids()))), flush=True)
    time.sleep(60)
"""


def test_shrinking_processes_exit_when_the_sync_that_made_them_is_killed(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "pool.py"
    script.write_text(POOL_SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    workers = [int(pid) for pid in process.stdout.readline().split()]
    assert workers and process.pid not in workers
    process.send_signal(signal.SIGKILL)  # no atexit, no pool shutdown
    process.wait()

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True

    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)

"""Benchmark of reader reach: what a reader on a 2G phone downloads per article page.

    .venv/bin/python bench/reach.py [--n 200]

Serves a generated news site on 127.0.0.1: N articles whose photos are camera-sized
3000×2000 JPEGs and PNG phone screenshots (drawn with Pillow, 1–4 MB each, with GPS EXIF),
mirrors it with `sync` (images fetched over HTTP and shrunk) and builds the Markdown mirror
and the HTML site. Prints, per article page, its HTML bytes and its image bytes, then how
fast sync shrank the images: the images it shrank over the time at least one was being shrunk
(sync's own threads, several images at once, while the others download: the code path of every
sync, measured inside it), and sync's rate as a whole. The baseline, measured in the same run,
is the page as the images come (the HTML page plus its original images: what the mirror
published before it shrank them). The machine's load average is printed with the figures.

Targets: every article page's HTML under 30 KB, every image within mirror.image_budget
(150 KB), median page (HTML + images) under 250 KB, at least 20 images/s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import ClassVar
from xml.sax.saxutils import escape

from newsmirror.config import parse_config
from newsmirror.demosite.photos import draw_photo, draw_screenshot
from newsmirror.layout import html_path, image_path, page_path
from newsmirror.render import build
from newsmirror.store import Store
from newsmirror.sync import sync

PARAGRAPH = "受台风影响，沿海三市今日停课停工，港口航班全部暂停，数万居民连夜转移到内陆的临时安置点。"
# Distinct drawings; each article shows one or two of them under its own URLs, so every image is
# downloaded and shrunk (the store keeps images by URL), as on a real site.
PHOTOS, SCREENSHOTS = 16, 4


def draw_pool(folder: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of the distinct originals, drawn once and kept in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pool = []
    for n in range(PHOTOS + SCREENSHOTS):
        name = f"photo-{n}.jpg" if n < PHOTOS else f"screenshot-{n}.png"
        path = folder / name
        if not path.exists():
            if n < PHOTOS:
                data = draw_photo(100 + n, 3000, 2000, grain=0.06 + 0.16 * n / PHOTOS)
            else:
                data = draw_screenshot(100 + n, 1440, 2560 + 160 * (n - PHOTOS))
            path.write_bytes(data)
        pool.append((name, path.read_bytes()))
    return pool


def site_files(n: int, pool: list[tuple[str, bytes]], base: str) -> dict[str, tuple[bytes, str]]:
    """path → (body, content type) of the generated site: one RSS feed with every article's full text."""
    files: ClassVar[dict[str, tuple[bytes, str]]] = {}
    start = datetime(2026, 3, 1, tzinfo=UTC)
    items = []
    for i in range(n):
        shown = [pool[(i * 3) % len(pool)]] + ([pool[(i * 7 + 1) % len(pool)]] if i % 2 else [])
        body = [f"<p>第{i}篇。{PARAGRAPH * 3}</p>"]
        for k, (name, data) in enumerate(shown):
            path = f"/img/{i}-{k}-{name}"
            files[path] = (data, "image/png" if name.endswith(".png") else "image/jpeg")
            body.append(f'<p><img src="{base}{path}" alt="第{i}篇的图片{k}"></p><p>{PARAGRAPH}</p>')
        body.append(f"<h2>小标题</h2><p>{PARAGRAPH * 4}</p>")
        html = "".join(body)
        when = format_datetime(start + timedelta(minutes=i))
        items.append(
            f"<item><title>第{i}篇：台风过境 沿海停课</title><link>{base}/a/{i}.html</link>"
            f"<guid>{base}/a/{i}.html</guid><pubDate>{when}</pubDate>"
            f"<content:encoded>{escape(html)}</content:encoded></item>"
        )
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Bench</title><link>{base}/</link><description>bench</description>{''.join(items)}</channel></rss>"
    )
    files["/feed.xml"] = (feed.encode(), "application/rss+xml")
    return files


class Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, tuple[bytes, str]]] = {}

    def do_GET(self) -> None:
        body, ctype = self.files.get(self.path, (b"not found", "text/plain"))
        self.send_response(200 if self.path in self.files else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None: ...


class Quiet:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def feed(self, *args: object) -> None: ...
    def found(self, count: int) -> None: ...
    def article(self, *args: object) -> None: ...

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="articles (default 200)")
    args = parser.parse_args()

    pool = draw_pool(Path(tempfile.gettempdir()) / "newsmirror-bench-reach-1")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    Handler.files = site_files(args.n, pool, base)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    originals = {f"{base}{path}": body for path, (body, ctype) in Handler.files.items() if path.startswith("/img/")}
    sizes = sorted(len(data) for _, data in pool)
    print(f"{args.n} articles, {len(originals)} images: originals {sizes[0] / 1e6:.1f}–{sizes[-1] / 1e6:.1f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = parse_config(
            f'[mirror]\noutput = "out"\nstore = "store.db"\nhtml = true\nkeep_per_channel = {args.n}\n'
            "[http]\nallow_private = true\n"
            '[[site]]\nid = "bench"\nname = "基准新闻"\nbody_from_feed = true\n'
            f'  [[site.channel]]\n  id = "news"\n  name = "新闻"\n  feed = "{base}/feed.xml"\n',
            root=root,
        )
        progress = Quiet()
        load = os.getloadavg()
        with Store(config.store_path) as store:
            started = time.perf_counter()
            summary = asyncio.run(sync(config, store, progress=progress))
            sync_seconds = time.perf_counter() - started
            result = build(config, store)
            keys = [h.key for h in store.article_heads("bench", "news")]
            files = store.article_image_files()
        if progress.warnings or not summary.ok or not result.ok:
            sys.exit(f"the mirror did not complete: {(progress.warnings + summary.errors + result.errors)[:3]}")
        out = config.output_dir

        html_sizes, image_sizes, pages, before = [], [], [], []
        print("\npage                                   html_bytes  image_bytes  images_as_they_came")
        for key in sorted(keys, key=lambda k: int(k.id) if k.id.isdigit() else k.id):
            html = (out / html_path(page_path(key))).stat().st_size
            shown = files.get(key, {})
            images = [(out / image_path(name)).stat().st_size for name in shown.values()]
            came = sum(len(originals[url]) for url in shown)
            html_sizes.append(html)
            image_sizes.extend(images)
            pages.append(html + sum(images))
            before.append(html + came)
            print(f"{page_path(key):38} {html:>10,} {sum(images):>12,} {came:>20,}")

    median_page, median_before = statistics.median(pages), statistics.median(before)
    budget = config.mirror.image_budget
    print(
        f"\nmedian page (HTML + images): {median_page / 1024:,.1f} KB, as the images came: "
        f"{median_before / 1024:,.1f} KB ({median_before / median_page:.1f}× heavier); "
        f"at 50 KB/s: {median_page / 51200:.1f} s instead of {median_before / 51200:.1f} s"
    )
    print(f"largest page: {max(pages) / 1024:,.1f} KB (as they came: {max(before) / 1024:,.1f} KB)")
    print(f"images over budget ({budget // 1024} KB): {sum(s > budget for s in image_sizes)} of {len(image_sizes)}")
    if summary.images != len(originals):
        sys.exit(f"sync shrank {summary.images} images of {len(originals)}")
    rate = len(originals) / sync_seconds
    print(f"sync as a whole (feed, download, shrink, store): {sync_seconds:.1f} s, {rate:.1f} images/s")
    after = os.getloadavg()
    print(
        f"shrinking: {summary.images} images in {summary.shrink_seconds:.1f} s on {os.cpu_count()} cores; load average "
        f"{' '.join(f'{n:.1f}' for n in load)} before, {' '.join(f'{n:.1f}' for n in after)} after"
    )
    print(f"max_html_kb: {max(html_sizes) / 1024:.1f}")
    print(f"max_image_kb: {max(image_sizes) / 1024:.1f}")
    print(f"median_page_kb: {median_page / 1024:.1f}")
    print(f"images_per_s: {summary.images / summary.shrink_seconds:.1f}")


if __name__ == "__main__":
    main()

"""Images made for 2G: shrunk by sync (Pillow), stored shrunk, shown with their size; generated images
served by the sample sites over real HTTP, then the shrinker's rules one by one."""

from __future__ import annotations

import asyncio
import re
import struct
import time
import zlib
from io import BytesIO
from pathlib import Path

import lxml.html
import pytest
from PIL import ExifTags, Image, ImageDraw

from newsmirror.config import Config, parse_config
from newsmirror.demosite import DemoSite
from newsmirror.demosite.photos import draw_screenshot
from newsmirror.image_shrink import ImageError, shrink_image
from newsmirror.layout import html_path, page_path
from newsmirror.models import ArticleKey, article_id
from newsmirror.render import build
from newsmirror.store import Store
from newsmirror.sync import sync

BUDGET = 150 * 1024


class Warnings:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def feed(self, *args: object) -> None: ...
    def found(self, count: int) -> None: ...
    def polling(self, feeds: int) -> None: ...
    def article(self, *args: object) -> None: ...

    def warning(self, message: str) -> None:
        self.lines.append(message)


def photo(width: int, height: int, *, exif: Image.Exif | None = None, quality: int = 92) -> bytes:
    """A photo-like JPEG: gradients and shapes, so it compresses like a picture, not like noise."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    red = image.getchannel(0)
    image = Image.merge(
        "RGB", (red, red.rotate(90).resize((width, height)), red.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    )
    draw = ImageDraw.Draw(image)
    for n in range(40):
        x, y, r = (n * 997) % width, (n * 631) % height, 20 + (n * 37) % (width // 8)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=((n * 50) % 256, (n * 90) % 256, (n * 130) % 256))
    noise = Image.effect_noise((width, height), 30).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    out = BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif or Image.Exif())
    return out.getvalue()


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 50.0)
    return exif


def alpha_png(width: int = 600, height: int = 400) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle((40, 40, width - 40, height - 40), 30, fill=(200, 30, 30, 180))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def animated_gif(width: int, height: int, frames: int, *, noisy: bool = False) -> bytes:
    images = []
    for n in range(frames):
        frame = Image.effect_noise((width, height), 80).convert("P") if noisy else Image.new("P", (width, height), n)
        ImageDraw.Draw(frame).rectangle((n * 5, 10, n * 5 + 20, 30), fill=200)
        images.append(frame)
    out = BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG whose header claims 900 megapixels, followed by data that could never be decoded:
    refusing it with the bomb message proves nothing was decoded."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    idat = struct.pack(">I", 8) + b"IDAT" + b"\x00garbage" + struct.pack(">I", zlib.crc32(b"IDAT\x00garbage"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat


def opened(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


@pytest.fixture
def demo():
    with DemoSite(slow_delay=0.2) as site:
        yield site


def make_config(tmp_path: Path, demo: DemoSite, **mirror: object) -> Config:
    extra = "".join(f"{key} = {value!r}\n".replace("'", '"').replace("True", "true") for key, value in mirror.items())
    text = demo.config_toml(output="mirror", store="store.db").replace("[mirror]\n", f"[mirror]\n{extra}", 1)
    return parse_config(text, root=tmp_path)


def test_sync_stores_images_shrunk_and_the_html_site_shows_their_size(tmp_path: Path, demo: DemoSite) -> None:
    media = "/harbor/media/"
    big = photo(4000, 3000, exif=gps_exif())
    cap = len(big) + 1024
    served = {
        "gps.jpg": big,
        "alpha.png": alpha_png(),
        "loop.gif": animated_gif(200, 120, 6),
        "bomb.png": bomb_png(),
        "notes.jpg": b"This is a text file, not a picture.\n",
        "huge.jpg": big + bytes(2048),  # over this config's download cap
    }
    urls = {name: demo.put_file(media + name, data, "image/jpeg") for name, data in served.items()}
    assert len(served["gps.jpg"]) > 1024 * 1024 and b"PhoneMaker" in served["gps.jpg"]
    body = "".join(
        f"<p>Paragraph {n} on the harbour's new cranes, with words enough to be kept as text.</p>"
        f'<p><img src="{url}" alt="Picture of {name}"></p>'
        for n, (name, url) in enumerate(urls.items())
    )
    url = demo.add_article("harbor", "world", "Cranes arrive at the harbour", body + "<p>The end.</p>")
    key = ArticleKey("harbor", "world", article_id(url))
    config = make_config(tmp_path, demo, image_max_bytes=cap, html=True)

    with Store(config.store_path) as store:
        progress = Warnings()
        asyncio.run(sync(config, store, sites=["harbor"], progress=progress, all_feeds=True))
        label = f"article harbor/world/{key.id}: image "
        warnings = {name: [w for w in progress.lines if w.startswith(label) and u in w] for name, u in urls.items()}
        assert [name for name, lines in warnings.items() if lines] == ["bomb.png", "notes.jpg", "huge.jpg"]
        assert "over the 50,000,000-pixel limit" in warnings["bomb.png"][0] and "not decoded" in warnings["bomb.png"][0]
        assert "not a PNG, JPEG, GIF or WebP image" in warnings["notes.jpg"][0]
        assert "too large" in warnings["huge.jpg"][0] and warnings["huge.jpg"][0].endswith("tried 1 of 3 times")

        # Only the shrunk copy is stored.
        photo_copy = opened(store.image_data(urls["gps.jpg"]) or b"")
        assert photo_copy.format == "JPEG" and photo_copy.size == (1080, 810)
        assert photo_copy.info.get("progressive") and not photo_copy.getexif() and "exif" not in photo_copy.info
        assert len(store.image_data(urls["gps.jpg"]) or b"") <= BUDGET
        assert b"PhoneMaker" not in (store.image_data(urls["gps.jpg"]) or b"")
        alpha = opened(store.image_data(urls["alpha.png"]) or b"")
        assert alpha.format == "PNG" and alpha.convert("RGBA").getpixel((5, 5))[3] == 0
        assert alpha.convert("RGBA").getpixel((300, 200))[3] > 100
        loop = opened(store.image_data(urls["loop.gif"]) or b"")
        assert loop.format == "GIF" and loop.n_frames == 6  # small: still animated

        # The download cap: tried `image_attempts` times over all runs, then never asked for again.
        for _ in range(2):
            asyncio.run(sync(config, store, sites=["harbor"], progress=Warnings(), all_feeds=True))
        demo.clear_requests()
        progress = Warnings()
        asyncio.run(sync(config, store, sites=["harbor"], progress=progress, all_feeds=True))
        assert demo.requests and not [r for r in demo.requests if r.path.startswith(media)]
        assert progress.lines == []

        result = build(config, store)
        assert result.ok, result.errors

    page = (config.output_dir / page_path(key)).read_text("utf-8")
    for name in ("bomb.png", "notes.jpg", "huge.jpg"):
        assert f"（图：Picture of {name}）" in page and urls[name] not in page
    html = lxml.html.parse(str(config.output_dir / html_path(page_path(key)))).getroot()
    images = html.xpath("//img")
    sizes = [(i.get("width"), i.get("height")) for i in images]
    assert sizes[:3] == [("1080", "810"), ("600", "400"), ("200", "120")]
    assert [i.get("loading") for i in images] == [None] + ["lazy"] * (len(images) - 1)
    assert images[-1].get("src") == f"{key.id}.png"  # the QR code


def test_orientation_is_applied_before_metadata_is_dropped() -> None:
    # Taken with the phone upright: stored 400×300, shown 300×400.
    data = photo(400, 300, exif=gps_exif(orientation=6))
    shrunk = shrink_image("u", data, max_width=1080, budget=BUDGET)
    image = opened(shrunk.data)
    assert (shrunk.width, shrunk.height) == image.size == (300, 400)
    assert not image.getexif() and b"PhoneMaker" not in shrunk.data and shrunk.ext == "jpg"


def test_budget_is_kept_by_quality_then_by_size() -> None:
    data = photo(3000, 2000)
    for budget in (150 * 1024, 40 * 1024):
        shrunk = shrink_image("u", data, max_width=1080, budget=budget)
        assert len(shrunk.data) <= budget and shrunk.width <= 1080 and opened(shrunk.data).format == "JPEG"
    small = shrink_image("u", data, max_width=1080, budget=12 * 1024)
    assert len(small.data) <= 12 * 1024 and small.width < 1080  # made smaller once quality alone cannot


def test_the_budget_is_used_not_wasted() -> None:
    """The quality is the highest that fits, and a picture that does not fit even at the lowest is made
    only as much smaller as it must be: what is stored is close to the budget, under it."""
    data = photo(3000, 2000)
    for budget in (20 * 1024, 30 * 1024):  # at 1080 px wide this photo is 41 KB at the top quality
        shrunk = shrink_image("u", data, max_width=1080, budget=budget)
        assert shrunk.width == 1080 and 0.75 * budget <= len(shrunk.data) <= budget
    small = shrink_image("u", data, max_width=1080, budget=10 * 1024)
    assert small.width < 1080 and 0.75 * 10 * 1024 <= len(small.data) <= 10 * 1024
    # A phone screenshot with a photo in it: no palette PNG fits, so a JPEG, smaller by what it takes.
    screenshot = shrink_image("u", draw_screenshot(7, 1440, 2560), max_width=1080, budget=BUDGET)
    assert screenshot.ext == "jpg" and 0.85 * BUDGET <= len(screenshot.data) <= BUDGET and screenshot.width > 900


def test_graphics_stay_png_and_photos_saved_as_png_become_jpeg() -> None:
    chart = Image.new("RGB", (1600, 900), "white")
    draw = ImageDraw.Draw(chart)
    for n in range(12):
        draw.rectangle((100 + n * 110, 800 - n * 50, 180 + n * 110, 800), fill=(30, 90, 200))
        draw.text((100 + n * 110, 820), f"M{n}", fill="black")
    out = BytesIO()
    chart.save(out, "PNG")
    shrunk = shrink_image("u", out.getvalue(), max_width=1080, budget=BUDGET)
    assert shrunk.ext == "png" and shrunk.width == 1080 and opened(shrunk.data).mode == "P"  # palette: smaller

    as_png = BytesIO()
    opened(photo(2000, 1500)).save(as_png, "PNG")
    assert len(as_png.getvalue()) > BUDGET
    assert shrink_image("u", as_png.getvalue(), max_width=1080, budget=BUDGET).ext == "jpg"


def test_an_animated_gif_over_budget_becomes_its_first_frame() -> None:
    data = animated_gif(500, 300, 8, noisy=True)
    assert len(data) > 200 * 1024
    shrunk = shrink_image("u", data, max_width=1080, budget=BUDGET)
    image = opened(shrunk.data)
    assert getattr(image, "n_frames", 1) == 1 and len(shrunk.data) <= BUDGET and image.size == (500, 300)


def test_bombs_and_non_images_are_refused_fast_and_in_one_line() -> None:
    started = time.perf_counter()
    with pytest.raises(ImageError, match=r"^https://img\.test/b\.png: 900,000,000 pixels is over") as bomb:
        shrink_image("https://img.test/b.png", bomb_png(), max_width=1080, budget=BUDGET)
    assert time.perf_counter() - started < 1 and "\n" not in str(bomb.value)
    with pytest.raises(ImageError, match=r"not a PNG, JPEG, GIF or WebP image \(text/plain, 5 bytes\)"):
        shrink_image("https://img.test/a.jpg", b"hello", max_width=1080, budget=BUDGET, content_type="text/plain")
    with pytest.raises(ImageError, match=r"^https://img\.test/c\.jpg: a damaged JPG image"):
        shrink_image("https://img.test/c.jpg", photo(300, 200)[:600], max_width=1080, budget=BUDGET)


def test_build_reports_the_largest_page_and_those_over_budget(tmp_path: Path, demo: DemoSite) -> None:
    url = demo.put_file("/harbor/media/wide.jpg", photo(3000, 2000), "image/jpeg")
    body = f'<p>Words enough for a paragraph about the view.</p><p><img src="{url}" alt="The view"></p><p>End.</p>'
    page = demo.add_article("harbor", "world", "A wide view", body)
    config = make_config(tmp_path, demo, html=True, page_budget=20 * 1024)
    with Store(config.store_path) as store:
        asyncio.run(sync(config, store, sites=["harbor"], progress=Warnings(), all_feeds=True))
        result = build(config, store)
    key = ArticleKey("harbor", "world", article_id(page))
    largest = result.largest
    assert largest is not None and largest.path == page_path(key)
    out = config.output_dir
    (name,) = re.findall(r"images/([0-9a-f]{40}\.jpg)", (out / page_path(key)).read_text("utf-8"))
    image = out / "images" / name
    md, html = (out / page_path(key)).stat().st_size, (out / html_path(page_path(key))).stat().st_size
    qr = (out / page_path(key)).with_suffix(".png").stat().st_size
    assert (largest.markdown, largest.html, largest.images) == (md, html, image.stat().st_size + qr)
    assert result.over_budget == 1  # only the page with the photo is over 20 KB
    line = result.weight(config.mirror.page_budget)
    assert line.startswith(f"largest article page: {page_path(key)}, {largest.total:,} bytes with its images")
    assert line.endswith("1 over the 20 KB page budget (mirror.page_budget)")

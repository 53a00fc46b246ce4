"""Large photos for the sample sites, drawn with Pillow: camera-sized JPEGs of several MB and a PNG
screenshot, as real news sites serve them, so the demo shows what shrinking for 2G does.

They are not kept in the repository (megabytes of noise): the first use draws them (a few seconds)
and keeps them in the system's temporary folder, where later runs and other processes find them.
They are the same bytes every time (seeded), so a second demo run fetches nothing new.
"""

from __future__ import annotations

import os
import random
import tempfile
from functools import cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

# Bump when the drawings change, so old copies in the temporary folder are not used.
_VERSION = 1


def draw_photo(seed: int, width: int, height: int, *, grain: float = 0.22) -> bytes:
    """A landscape-like photo: sky and ground gradients, shapes, and sensor ``grain`` (0–1: how much of
    the picture is noise, which is what makes a camera's JPEG large), saved as a camera would
    (quality 95, with EXIF: maker, model and where it was taken)."""
    rnd = random.Random(seed)
    sky = Image.linear_gradient("L").resize((width, height))
    channels = (sky.point(lambda v: 60 + v // 3), sky.point(lambda v: 90 + v // 3), sky.point(lambda v: 200 - v // 4))
    image = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 2 // 3, width, height), fill=(70 + rnd.randrange(40), 90, 60))
    for _ in range(70):
        x, y = rnd.randrange(width), rnd.randrange(height // 3, height)
        w, h = rnd.randrange(width // 40, width // 8), rnd.randrange(height // 30, height // 5)
        draw.rectangle((x, y - h, x + w, y), fill=tuple(rnd.randrange(40, 230) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(2))
    noise = Image.frombytes("L", (width, height), rnd.randbytes(width * height)).convert("RGB")
    image = Image.blend(image, noise, grain)
    exif = Image.Exif()
    exif[0x010F] = "Demo Camera Co."  # Make
    exif[0x0110] = "DC-1"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (31.0, 14.0, 5.0), "E", (121.0, 28.0, 40.0)
    out = BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def draw_screenshot(seed: int, width: int, height: int) -> bytes:
    """A phone-app screenshot as a PNG: flat colours, text-like bars, a photo-ish banner."""
    rnd = random.Random(seed)
    image = Image.new("RGB", (width, height), (246, 246, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, height // 12), fill=(200, 30, 40))
    # The news photo at the top of the app's page: camera grain, which PNG cannot squeeze.
    banner = Image.frombytes("L", (width, height // 4), rnd.randbytes(width * (height // 4))).convert("RGB")
    image.paste(Image.blend(banner, Image.new("RGB", banner.size, (40, 120, 200)), 0.6), (0, height // 12))
    for _ in range(400):  # icons and thumbnails
        x, y = rnd.randrange(width), rnd.randrange(height)
        draw.rectangle((x, y, x + 40, y + 40), fill=tuple(rnd.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    y = height // 12 + height // 4 + 40
    while y < height - 60:
        draw.rectangle((60, y, 60 + rnd.randrange(width // 3, width - 120), y + 28), fill=(60, 60, 70))
        y += 70
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# name → how to draw it: file names as the sample articles show them.
_DRAWINGS = {
    "typhoon-coast.jpg": lambda: draw_photo(1, 4000, 3000),
    "night-market.jpg": lambda: draw_photo(2, 3600, 2400),
    "app-screenshot.png": lambda: draw_screenshot(3, 1440, 3000),
}


@cache
def large_photos() -> dict[str, bytes]:
    """File name → bytes of every large photo of the sample sites."""
    folder = Path(tempfile.gettempdir()) / f"newsmirror-demo-photos-{_VERSION}"
    photos = {}
    for name, draw in _DRAWINGS.items():
        path = folder / name
        try:
            photos[name] = path.read_bytes()
            continue
        except OSError:
            pass
        data = draw()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{name}.{os.getpid()}.tmp")
            temp.write_bytes(data)
            os.replace(temp, path)  # another process drawing the same photo writes the same bytes
        except OSError:
            pass  # a read-only temporary folder: drawn again next time
        photos[name] = data
    return photos

"""Benchmark of the QR codes: how well each encoder's mask choice decodes from a blurred picture, and its cost.

    .venv/bin/python bench/qr.py [--n 150]

A phone photographing a screen gets a soft picture. The stand-in is a Gaussian blur
(Pillow's ``ImageFilter.GaussianBlur``) of each PNG at the size the mirror writes it
(5 px a module), at several radii; each blurred picture is then decoded by zbarimg
(Debian's zbar-tools, when installed: an independent reader) and by zxing-cpp's reader.

Encoders compared on the same N share URLs, same error-correction rule (the lowest
level's size, the highest level that fits it):

* ``segno``: segno's automatic mask choice (pure Python), what the mirror used before;
* ``segno_mask0``: segno with the mask fixed at 0, the baseline a mask choice must beat;
* ``zxing``: zxing-cpp's automatic mask choice, PNG by Pillow — what the build draws now.

Ends with, per encoder: codes decoded by zbarimg at the headline radius (out of N), codes
decoded over every radius (out of N x radii), and the drawing cost per code.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import segno
import zxingcpp
from PIL import Image, ImageFilter

from newsmirror.render.qr import BORDER, SCALE, qr_png

RADII = (2.0, 2.1, 2.2, 2.3, 2.4)
# The headline radius: where segno's codes decode about nine in ten, as in the check made before
# (ImageMagick's blur: 136 of 150 segno codes, 18 of 150 with a fixed mask).
HEADLINE = 2.2


def share_urls(n: int) -> list[str]:
    """Share URLs as the mirror makes them: numeric ids and slug-plus-hash ids, several sites and channels."""
    urls = []
    for i in range(n):
        site, channel = ("kzg", "ntdtv", "rfa")[i % 3], ("p9", "world", "china-news")[i // 3 % 3]
        ident = str(1_029_400 + i * 37) if i % 2 else f"story-of-the-day-{i:04d}-{(i * 2654435761) % 16**10:010x}"
        urls.append(f"https://github.com/example/mirror/blob/main/pages/{site}/{channel}/{ident}.md")
    return urls


def segno_png(url: str, mask: int | None = None) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(url, error="l", mask=mask).save(buffer, kind="png", scale=SCALE, border=BORDER)
    return buffer.getvalue()


ENCODERS: dict[str, Callable[[str], bytes]] = {
    "segno": segno_png,
    "segno_mask0": lambda url: segno_png(url, mask=0),
    "zxing": qr_png,
}


def blurred(png: bytes, radius: float) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("L").filter(ImageFilter.GaussianBlur(radius))


def zbar_decoded(pictures: list[Image.Image], folder: Path, expected: set[str]) -> int | None:
    if not shutil.which("zbarimg"):
        return None
    paths = []
    for i, picture in enumerate(pictures):
        paths.append(folder / f"{i}.png")
        picture.save(paths[-1])
    out = subprocess.run(["zbarimg", "--quiet", "--raw", *map(str, paths)], capture_output=True, text=True).stdout
    return len(set(out.splitlines()) & expected)


def zxing_decoded(pictures: list[Image.Image], expected: set[str]) -> int:
    found = set()
    for picture in pictures:
        code = zxingcpp.read_barcode(picture, formats=zxingcpp.BarcodeFormat.QRCode)
        if code is not None and code.valid:
            found.add(code.text)
    return len(found & expected)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=150)
    args = parser.parse_args()
    urls = share_urls(args.n)
    expected = set(urls)
    headline: dict[str, tuple[int, int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.n} codes; blur radius in px at {SCALE} px a module; decoded by zbarimg / zxing-cpp")
        for name, encode in ENCODERS.items():
            start = time.perf_counter()
            pngs = [encode(url) for url in urls]
            cost_ms = (time.perf_counter() - start) / len(urls) * 1000
            size = sum(map(len, pngs)) / len(pngs)
            cells = []
            at_headline = total = 0
            for radius in RADII:
                pictures = [blurred(png, radius) for png in pngs]
                zbar = zbar_decoded(pictures, Path(tmp), expected)
                zxing = zxing_decoded(pictures, expected)
                cells.append(f"r={radius}: {'-' if zbar is None else zbar}/{zxing}")
                decoded = zbar if zbar is not None else zxing
                total += decoded
                if radius == HEADLINE:
                    at_headline = decoded
            headline[name] = (at_headline, total, cost_ms)
            print(f"{name:<12} {cost_ms:6.2f} ms/code {size:5.0f} B  " + "  ".join(cells))
    reader = "zbarimg" if shutil.which("zbarimg") else "zxing-cpp"
    print(f"headline: blur radius {HEADLINE} px, decoded by {reader}")
    for name, (decoded, _total, _cost) in headline.items():
        print(f"{name}_decoded: {decoded}/{args.n}")
    for name, (_decoded, total, _cost) in headline.items():
        print(f"{name}_decoded_all_radii: {total}/{args.n * len(RADII)}")
    for name, (_decoded, _total, cost_ms) in headline.items():
        print(f"{name}_ms_per_code: {cost_ms:.2f}")


if __name__ == "__main__":
    main()

"""QR codes beside each page (``layout.qr_path``), encoding its mirror URL.

zxing-cpp (the C++ ZXing port) encodes each code and chooses its mask by the
standard's penalty rules, about ten times faster than segno's pure-Python
choice; Pillow writes the 1-bit PNG. ``bench/qr.py`` checks that its codes
decode from a blurred picture at least as well as segno's.
"""

from __future__ import annotations

import io
from functools import cache
from importlib.metadata import version

import zxingcpp
from PIL import Image, ImageOps

from newsmirror.models import sha1_hex

# Pixels per module and quiet-zone modules: a 33-module code (a typical page
# URL) makes a ~185 px, ~0.6 KB image that phones read off a screen.
SCALE = 5
BORDER = 2
# Error correction from the lowest up: the code takes the highest level that keeps the lowest level's size.
_LEVELS = ("L", "M", "Q", "H")
_ENCODER = f"zxing-cpp {version('zxing-cpp')} pillow {version('pillow')}"


def qr_inputs(url: str) -> str:
    """The manifest fingerprint of a QR image: only the URL and the drawing settings."""
    return sha1_hex(f"qr {SCALE} {BORDER} {_ENCODER} {url}")


def qr_code(url: str) -> zxingcpp.Barcode:
    """The QR code of ``url``: as small as it can be, with as much error correction as that size holds
    (more survives a shaky or blurred phone camera, at no cost in size)."""
    # ASCII text (every share URL of ids and a plain base_url) encodes by character classes alone, so the
    # level found for one URL of a shape serves them all; other text is measured itself.
    level = _level_of_shape(_shape(url)) if url.isascii() else _fitting_level(url)
    return zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level=level)


# What decides a code's size besides the level: how many characters of each encoding class.
_SHAPE = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", "0000000000" + "A" * 35, "")


def _shape(text: str) -> str:
    """ASCII ``text`` with each digit as 0, each other QR alphanumeric character as A and anything else
    as b: two texts of one shape encode to the same length at every level (a mirror's share URLs have a
    handful of shapes)."""
    return "".join(c if c in "0A" else "b" for c in text.translate(_SHAPE))


def _fitting_level(text: str) -> str:
    """The highest error correction level at which ``text`` needs no more modules than at the lowest."""

    def modules(level: str) -> int:
        code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=level)
        return code.to_image(scale=1, add_quiet_zones=False).shape[0]

    smallest = modules(_LEVELS[0])
    best = _LEVELS[0]
    for level in _LEVELS[1:]:
        if modules(level) > smallest:
            break
        best = level
    return best


_level_of_shape = cache(_fitting_level)


def qr_png(url: str) -> bytes:
    """The PNG of ``url``'s QR code: black on white, 1 bit per pixel, ``BORDER`` modules of quiet zone."""
    matrix = qr_code(url).to_image(scale=1, add_quiet_zones=False)
    size = matrix.shape[0]
    pixels = bytes(memoryview(matrix))  # type: ignore[arg-type]  # a buffer; its stubs do not say so
    image = Image.frombuffer("L", (size, size), pixels, "raw", "L", 0, 1).convert("1", dither=Image.Dither.NONE)
    # Drawn at a pixel a module, then enlarged: a quarter of the work of drawing at full size.
    side = (size + 2 * BORDER) * SCALE
    image = ImageOps.expand(image, border=BORDER, fill=1).resize((side, side), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=9)
    return buffer.getvalue()

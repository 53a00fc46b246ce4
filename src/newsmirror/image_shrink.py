"""Article images made for 2G: at most ``max_width`` pixels wide, at most ``budget`` bytes, no metadata.

    shrunk = shrink_image(url, data, max_width=1080, budget=150 * 1024)

Photos (JPEG, WebP without transparency) become progressive JPEG; graphics (PNG, GIF) and
anything with transparency stay PNG, palette-reduced when that is smaller. A graphic that is
still over budget as PNG and has no transparency becomes a JPEG (a photo saved as PNG); an image
still over budget at the lowest quality is made smaller until it fits. EXIF orientation is
applied, then every piece of metadata (EXIF with its GPS position, XMP, ICC, comments, text
chunks) is left behind: only pixels are written. An animated GIF within the width and the budget
is kept as it is; over either, it becomes its first frame.

The pixel count is read from the header and checked before anything is decoded, so a
decompression bomb (a few KB that would unpack into gigabytes) is refused without costing memory.
Runs in a worker process (CPU-bound): everything here is a pure function of its arguments.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from newsmirror.errors import ImageError

# More pixels than any article photo has (a 48 MP camera is 8000×6000): above this, a bomb.
MAX_PIXELS = 50_000_000
# The JPEG qualities a photo may get, best first; below the last, the picture is made smaller instead.
_QUALITIES = (82, 77, 72, 67, 62, 57, 52, 47, 42)
# How much smaller each pass makes a PNG with transparency that does not fit its budget.
_STEP = 0.8
# A JPEG that does not fit at the lowest quality is made smaller by what is over, but by this at least.
_MOST_SCALE = 0.95
# How far over the whole picture's encoded size a sample's estimate may run (see _Sample): within
# this much over budget, the whole picture is tried.
_SAMPLE_ERROR = 1.15
_SMALLEST_WIDTH = 160
_ORIENTATION = 0x0112
_PHOTO_FORMATS = {"JPEG", "MPO", "WEBP"}
_LOOPING = (b"NETSCAPE2.0", b"ANIMEXTS1.0")

# Pillow's own bomb check warns (or fails) at its own limits; ours is explicit and stricter.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True, slots=True)
class ShrunkImage:
    """What the mirror stores of an image: the bytes to publish, their kind, their size in pixels."""

    data: bytes
    ext: str  # jpg | png | gif
    width: int
    height: int

    @property
    def sha1(self) -> str:
        return hashlib.sha1(self.data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The file extension of a PNG, JPEG, GIF or WebP image from its magic bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    return None


def shrink_image(url: str, data: bytes, *, max_width: int, budget: int, content_type: str = "") -> ShrunkImage:
    """The copy of an image the mirror publishes, or ImageError (one line naming ``url``) when there is none."""
    kind = sniff(data)
    if kind is None:
        served = content_type.split(";", 1)[0].strip() or "unknown type"
        raise ImageError(f"{url}: not a PNG, JPEG, GIF or WebP image ({served}, {len(data):,} bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                image = Image.open(BytesIO(data))  # reads the header only
            except Image.DecompressionBombError as exc:  # Pillow's own check, at twice the limit
                found = re.search(r"\((\d+) pixels\)", str(exc))
                raise _bomb(url, f"{int(found[1]):,} pixels" if found else "more pixels") from None
            width, height = image.size
            if width * height > MAX_PIXELS or width <= 0 or height <= 0:
                raise _bomb(url, f"{width}×{height} pixels")
            if kind == "gif" and getattr(image, "n_frames", 1) > 1 and width <= max_width:
                animated = _animated_gif(image, data)
                if len(animated) <= budget:
                    return ShrunkImage(animated, "gif", width, height)
            plain = len(data) <= budget and width <= max_width and _plain(image, kind)
            shrunk = _shrink(url, image, max_width, budget)
            # A small clean image that saving again would not make smaller is published as it came.
            return ShrunkImage(data, kind, width, height) if plain and len(data) <= len(shrunk.data) else shrunk
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{url}: cannot read the image: {exc}") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # truncated or corrupt data
        raise ImageError(f"{url}: a damaged {kind.upper()} image: {exc}") from None


# What an image may carry besides pixels and still be published as it came: how to show
# the pixels, nothing about where, when or by whom they were taken.
_PLAIN_INFO = {
    "jpg": {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "progressive", "progression", "adobe",
            "adobe_transform"},
    "png": {"gamma", "dpi", "interlace", "transparency", "aspect", "srgb"},
    "gif": {"version", "background", "transparency", "duration", "loop"},
}  # fmt: skip


def _plain(image: Image.Image, kind: str) -> bool:
    """Whether an image may be published byte for byte: a JPEG, PNG or still GIF without metadata, upright."""
    if kind not in _PLAIN_INFO or set(image.info) - _PLAIN_INFO[kind] or len(image.getexif()):
        return False
    if kind == "jpg":
        markers = {marker for marker, _ in getattr(image, "applist", [])}
        return markers <= {"APP0", "APP14"}
    return True


def _bomb(url: str, pixels: str) -> ImageError:
    return ImageError(f"{url}: {pixels} is over the {MAX_PIXELS:,}-pixel limit (a decompression bomb?); not decoded")


def _animated_gif(image: Image.Image, data: bytes) -> bytes:
    """An animated GIF frame for frame. GIF has no EXIF: only a comment or an application block
    other than looping can carry anything but frames and timing, and then it is saved again without."""
    extension = image.info.get("extension")
    if "comment" not in image.info and not (extension and extension[0] not in _LOOPING):
        return data
    frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    for frame in frames:
        frame.info.pop("comment", None)
        frame.info.pop("extension", None)
    out = BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=image.info.get("loop", 0))
    image.seek(0)
    return out.getvalue()


def _shrink(url: str, image: Image.Image, max_width: int, budget: int) -> ShrunkImage:
    source_format = image.format or ""
    orientation = image.getexif().get(_ORIENTATION, 1)
    turned = orientation in (5, 6, 7, 8)
    width, height = image.size
    shown_width, shown_height = (height, width) if turned else (width, height)
    target_width = min(max_width, shown_width)
    target_height = max(1, round(shown_height * target_width / shown_width))
    if source_format == "JPEG":
        # Let the decoder scale by 1/2, 1/4 or 1/8 while reading (DCT scaling; Pillow offers no
        # other factors): it picks the smallest that still leaves the photo at least as large as
        # wanted, several times faster than decoding every pixel of a 12 MP photo to throw most away.
        wanted = (target_height, target_width) if turned else (target_width, target_height)
        image.draft("RGB", wanted)
    image.seek(0)  # an animated image: its first frame
    image.load()
    if orientation != 1:  # exif_transpose copies even an upright image: a whole decoded picture for nothing
        image = ImageOps.exif_transpose(image) or image
    transparent = _has_alpha(image)
    image = image.convert("RGBA" if transparent else "RGB") if image.mode not in ("RGB", "L") else image
    if image.mode == "L" and transparent:
        image = image.convert("RGBA")
    decoded = image
    image = _resized(decoded, target_width, target_height)
    # A graphic stays PNG when it fits as one. Whether an opaque one can is judged from a sample
    # before the whole picture is quantized and compressed (a screenshot with a photo in it
    # cannot: grain does not compress), so such a picture costs one JPEG instead.
    graphic = transparent or source_format not in _PHOTO_FORMATS
    if graphic and (transparent or _Sample(image).png() <= budget * _SAMPLE_ERROR):
        png = _fit_png(url, decoded, image, budget, transparent)
        if png is not None:
            return png
    return _fit_jpeg(url, decoded, image, budget)


def _resized(decoded: Image.Image, width: int, height: int) -> Image.Image:
    """``decoded`` at ``width``×``height`` with no metadata (EXIF, XMP, ICC, comments, text chunks: none of
    it is written). Always from the decoded picture, so a picture made smaller again is resampled once."""
    if decoded.width > width:
        # After draft() a photo is at most twice the target: bilinear (antialiased by Pillow when
        # shrinking) looks as good as Lanczos at that ratio, in half the time.
        image = decoded.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    else:
        image = decoded
    image.info.clear()
    return image


def _smaller(decoded: Image.Image, image: Image.Image, scale: float) -> Image.Image:
    return _resized(decoded, max(1, round(image.width * scale)), max(1, round(image.height * scale)))


def _fit_png(url: str, decoded: Image.Image, image: Image.Image, budget: int, transparent: bool) -> ShrunkImage | None:
    """The PNG of ``image`` within budget, or None when an opaque picture does not fit (it goes JPEG);
    a transparent one is made smaller until it fits."""
    while True:
        png = _png(image, budget, transparent)
        if len(png) <= budget:
            return ShrunkImage(png, "png", image.width, image.height)
        if not transparent:
            return None
        if image.width <= _SMALLEST_WIDTH:
            raise ImageError(f"{url}: cannot fit {image.width}×{image.height} pixels in {budget:,} bytes")
        image = _smaller(decoded, image, _STEP)


def _fit_jpeg(url: str, decoded: Image.Image, image: Image.Image, budget: int) -> ShrunkImage:
    """The best progressive JPEG of ``image`` within budget: the highest quality of the ladder that
    fits, found on a sample of the picture's rows; below the lowest, the picture made smaller by
    as much as the sample says it must. Usually one encode of the whole picture, rarely two."""
    while True:
        sample = _Sample(image)
        rung = _highest_fitting(sample, budget)
        lowest = sample.jpeg(_QUALITIES[-1])
        if rung is None and lowest <= budget * _SAMPLE_ERROR:  # too close to call: the whole picture tells
            rung = len(_QUALITIES) - 1
        if rung is not None:
            for quality in _QUALITIES[rung:]:
                jpeg = sample.whole_jpeg(quality) or _jpeg(image, quality)
                if len(jpeg) <= budget:
                    return ShrunkImage(jpeg, "jpg", image.width, image.height)
            lowest = len(jpeg)
        if image.width <= _SMALLEST_WIDTH:
            raise ImageError(f"{url}: cannot fit {image.width}×{image.height} pixels in {budget:,} bytes")
        # A JPEG's size follows its pixel count: both sides scaled by the square root of what is over.
        image = _smaller(decoded, image, min(_MOST_SCALE, 0.97 * math.sqrt(budget / lowest)))


def _highest_fitting(sample: _Sample, budget: int) -> int | None:
    """The index in _QUALITIES of the highest quality whose JPEG the sample says fits, or None.
    The sizes fall as the quality does, so a binary search: at most four sample encodes."""
    if sample.jpeg(_QUALITIES[0]) <= budget:
        return 0
    low, high = 1, len(_QUALITIES) - 1  # the answer, if any, lies in low..high
    if sample.jpeg(_QUALITIES[high]) > budget:
        return None
    while low < high:
        middle = (low + high) // 2
        if sample.jpeg(_QUALITIES[middle]) <= budget:
            high = middle
        else:
            low = middle + 1
    return high


class _Sample:
    """Bands of a picture's rows, every few, stacked: an estimate of its encoded size for a
    fraction of the work. JPEG codes 16-row bands (4:2:0) on their own and PNG compresses row by
    row, so the bands' size, scaled up by how much of the picture they are, is close to the
    whole's (measured: 0–15 % over, rarely a few % under). A small picture is its own sample."""

    _BAND = 16

    def __init__(self, image: Image.Image) -> None:
        self._sizes: dict[int, float] = {}
        self._whole: dict[int, bytes] = {}  # a picture that is its own sample: its encodes, kept
        bands = image.height // self._BAND
        every = max(1, min(8, bands // 8))  # at least 8 bands, at most an eighth of the rows
        if every == 1:
            self.image, self.scale = image, 1.0
            return
        picked = range(every // 2, bands, every)
        self.image = Image.new(image.mode, (image.width, self._BAND * len(picked)))
        for n, band in enumerate(picked):
            rows = image.crop((0, band * self._BAND, image.width, (band + 1) * self._BAND))
            self.image.paste(rows, (0, n * self._BAND))
        self.scale = image.height / self.image.height

    def jpeg(self, quality: int) -> float:
        """The estimated size of the whole picture's JPEG at ``quality``."""
        if quality not in self._sizes:
            jpeg = _jpeg(self.image, quality)
            self._sizes[quality] = len(jpeg) * self.scale
            if self.scale == 1.0:
                self._whole[quality] = jpeg
        return self._sizes[quality]

    def whole_jpeg(self, quality: int) -> bytes | None:
        """The whole picture's JPEG at ``quality`` when the sample is the whole picture and made it."""
        return self._whole.get(quality)

    def png(self) -> float:
        """The estimated size of the whole picture's palette PNG."""
        return len(_png(self.image, 0, False)) * self.scale


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = BytesIO()
    # Progressive JPEG always gets optimised Huffman tables from libjpeg: optimize=True adds nothing.
    image.save(out, "JPEG", quality=quality, progressive=True, subsampling="4:2:0")
    return out.getvalue()


def _png(image: Image.Image, budget: int, transparent: bool) -> bytes:
    """The smaller of a 256-colour palette PNG and the full-colour PNG of ``image``. When even the
    palette PNG of an opaque image is over budget it is returned as it is: the image goes JPEG, and
    the full-colour PNG (always larger for such a picture) is not worth encoding."""
    if image.mode == "RGBA":
        palette = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    else:
        palette = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)  # 5× median cut's speed
    # zlib's default level: optimize=True (level 9 and a filter search) takes several times as long
    # for a few percent.
    reduced = BytesIO()
    palette.save(reduced, "PNG", compress_level=6)
    if len(reduced.getvalue()) > budget and not transparent:
        return reduced.getvalue()
    full = BytesIO()
    image.save(full, "PNG", compress_level=6)
    return min(full.getvalue(), reduced.getvalue(), key=len)

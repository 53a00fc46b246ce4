"""QR codes: what they hold, how much error correction they carry, and that they decode."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from newsmirror.render.qr import BORDER, SCALE, _fitting_level, qr_code, qr_png


def urls() -> list[str]:
    rng = random.Random(11)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_/.:%ABCXYZ"
    made = [f"https://github.com/example/mirror/blob/main/pages/kzg/p9/{1_029_400 + n}.md" for n in range(5)]
    made += ["https://" + "".join(rng.choice(alphabet) for _ in range(rng.randint(5, 160))) for _ in range(40)]
    made += ["https://镜像.example.org/新闻/pages/kzg/p9/1029400.md", "https://e.org/文" * 5]
    return made


def test_each_code_has_the_most_error_correction_its_smallest_size_holds() -> None:
    # The level is found once per shape of URL; it must be what measuring the URL itself finds.
    for url in urls():
        assert qr_code(url).ec_level == _fitting_level(url), url
    levels = {qr_code(url).ec_level for url in urls()}
    assert len(levels) > 1  # the rule does choose: short URLs get more than the lowest level


def test_codes_decode_to_their_url_and_stay_small(tmp_path: Path, decode_qr: Callable[[Path], str]) -> None:
    for n, url in enumerate(urls()[:40]):
        png = tmp_path / f"{n}.png"
        png.write_bytes(qr_png(url))
        assert decode_qr(png) == url
    page = "https://github.com/example/mirror/blob/main/pages/kzg/p9/1029400.md"
    image = Image.open(io.BytesIO(qr_png(page)))
    modules = qr_code(page).to_image(scale=1, add_quiet_zones=False).shape[0]
    assert image.mode == "1" and image.size == ((modules + 2 * BORDER) * SCALE,) * 2
    assert len(qr_png(page)) < 1000


@pytest.mark.parametrize("radius", [1.0, 1.5])
def test_a_slightly_blurred_code_still_decodes(radius: float) -> None:
    from PIL import ImageFilter

    url = "https://github.com/example/mirror/blob/main/pages/kzg/p9/1029400.md"
    picture = Image.open(io.BytesIO(qr_png(url))).convert("L").filter(ImageFilter.GaussianBlur(radius))
    found = zxingcpp.read_barcode(picture, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None and found.text == url

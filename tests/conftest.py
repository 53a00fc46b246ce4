"""Fixtures shared by the test modules."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from newsmirror.store import Store

# The headless Chromium fixture (``browser``): tests/browser.py.
# A temporary PostgreSQL (``postgres``, ``postgres_url``, ``store_location``): tests/postgres.py.
pytest_plugins = ["browser", "postgres"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in the test's folder (``store.db``, where the test configs point)."""
    with Store(tmp_path / "store.db") as store:
        yield store


def _decode_qr(png: Path) -> str:
    # zxing-cpp's reader, not its writer's own matrix: the PNG as a phone camera would get it.
    found = zxingcpp.read_barcode(Image.open(png).convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None and found.valid, f"{png}: no QR code found"
    return found.text


@pytest.fixture
def decode_qr() -> Callable[[Path], str]:
    """The text of the QR code in a PNG file (fails the test when none is found)."""
    return _decode_qr


@contextmanager
def _serve_config(config_path: Path) -> Iterator[str]:
    """``newsmirror serve`` of a config, as a real process on a free port of 127.0.0.1; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmirror.cli", "serve", "--config", str(config_path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip() if process.stdout else ""
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def serve_config() -> Callable[[Path], AbstractContextManager[str]]:
    """``with serve_config(path) as url:`` runs ``newsmirror serve`` of that config (see _serve_config)."""
    return _serve_config

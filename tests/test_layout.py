"""The output layout: one module says where every file goes and how pages link; the halves meet only in the store."""

from __future__ import annotations

import subprocess
import sys

import pytest

from newsmirror import layout
from newsmirror.models import ArticleKey

KEY = ArticleKey("kzg", "p9", "1029400")


def test_article_files_and_labels() -> None:
    assert layout.article_label(KEY) == "kzg/p9/1029400"
    assert layout.channel_label("kzg", "p9") == "kzg/p9"
    assert layout.page_path(KEY) == "pages/kzg/p9/1029400.md"
    assert layout.qr_path(KEY) == "pages/kzg/p9/1029400.png"
    # The page and its QR code share a folder, so the page links to it by name.
    for beside in (layout.qr_path(KEY), layout.history_path(KEY)):
        assert layout.sibling_link(beside) == layout.link(layout.page_path(KEY), beside)
    assert layout.sibling_link(layout.qr_path(KEY)) == "1029400.png"
    assert layout.sibling_link(layout.history_path(KEY)) == "1029400.history.md"
    assert layout.image_path("ab.png") == "images/ab.png"


def test_indexes_are_paginated_with_a_dot_ids_cannot_hold() -> None:
    assert layout.index_path("kzg", "p9") == "indexes/kzg-p9.md"
    assert layout.index_path("kzg", "p9", 3) == "indexes/kzg-p9.3.md"
    assert not layout.SITE_ID.match("p9.3")


def test_links_are_relative_from_the_linking_file() -> None:
    page = layout.page_path(KEY)
    assert layout.root(page) == "../../../"
    assert layout.root(layout.HOME) == ""
    assert layout.link(layout.HOME, page) == page
    assert layout.link(layout.index_path("kzg", "p9"), page) == "../pages/kzg/p9/1029400.md"
    assert layout.link(layout.index_path("kzg", "p9"), layout.index_path("kzg", "p9", 2)) == "kzg-p9.2.md"
    assert layout.link(page, layout.HOME) == "../../../README.md"


def test_html_siblings() -> None:
    assert layout.html_path(layout.HOME) == layout.HTML_HOME
    assert layout.html_path("indexes/hot.md") == "indexes/hot.html"


def test_urls_of_the_published_mirror() -> None:
    assert layout.share_url("https://h/m", KEY) == "https://h/m/pages/kzg/p9/1029400.md"
    assert layout.url("https://h/m/", layout.FEED) == "https://h/m/feed.xml"


def test_counter_image_round_trips_and_refuses_anything_else() -> None:
    image = layout.counter_url("https://count.example/", KEY)
    assert image == "https://count.example/v/kzg/p9/1029400.gif"
    assert layout.counter_key(b"/v/kzg/p9/1029400.gif") == KEY
    for bad in (b"/v/kzg/p9/../x.gif", b"/v/kzg/p9/1029400.png", b"/v/KZG/p9/1.gif", b"/v/kzg/p9/%2e.gif", b"/v/a/b"):
        assert layout.counter_key(bad) is None, bad


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pages/kzg/p9/1029400.md", True),
        ("pages/kzg/p9/1029400.png", False),
        ("pages/kzg/p9/1029400.history.md", False),
        ("indexes/kzg-p9.md", False),
        ("README.md", False),
    ],
)
def test_article_pages_are_told_from_other_files(path: str, expected: bool) -> None:
    assert layout.is_article_page(path) is expected


def test_the_temp_file_pattern_matches_what_the_build_writes() -> None:
    from fnmatch import fnmatch

    assert fnmatch(f"{layout.TEMP_MARK}123-1029400.md", layout.TEMP_PATTERN)


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_render_does_not_load_the_network_side() -> None:
    # The design's rule: sync and render meet only in the store; images reach render through it.
    loaded = _loaded_after_import("newsmirror.render")
    assert not {"httpx", "newsmirror.http", "newsmirror.sync", "newsmirror.image_fetch"} & loaded


def test_preview_does_not_load_render() -> None:
    loaded = _loaded_after_import("newsmirror.preview")
    assert not {m for m in loaded if m.startswith("newsmirror.render") or m == "jinja2"}

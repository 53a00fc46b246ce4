"""Search in the HTML site (``mirror.search``): Pagefind indexes the article pages at build time, and
``search.html`` — the only page of the mirror with JavaScript — searches that index in the browser.

The index lives in ``pagefind/`` beside the pages, and every path the search page uses is relative to
where it is served from, so it works on any static host, under a sub-path (a GitHub Pages project
site), and from ``newsmirror serve``. Pagefind's extended build splits Chinese into words.

Pagefind is run again only when an article page changed; its files are named by their content, and
its one file that is not (``pagefind-entry.json``) is written with sorted keys, so an unchanged mirror
gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from newsmirror.layout import SEARCH_DIR
from newsmirror.render.html_site import markdown_parser
from newsmirror.render.templating import environment

ENTRY = f"{SEARCH_DIR}/pagefind-entry.json"
# What the search page loads of Pagefind's output; its other UIs (modular, component, highlight) are
# left out of the tree: readers on slow networks pay for every byte.
_KEEP_TOP = ("pagefind.js", "pagefind-worker.js", "pagefind-ui.js", "pagefind-ui.css", "pagefind-entry.json")
_KEEP_SUFFIXES = (".pf_meta", ".pagefind")
_KEEP_DIRS = ("fragment", "index", "filter")
# A run over 10,000 pages takes seconds; one that hangs is stopped.
_TIMEOUT_S = 600


class SearchIndexError(Exception):
    """Pagefind could not index the site; the message is one line for the user."""


def pagefind_executable() -> Path:
    """The Pagefind binary the ``pagefind[extended]`` package ships (the extended one splits Chinese)."""
    try:
        from pagefind_bin_extended import get_executable
    except ImportError:
        raise SearchIndexError(
            "mirror.search needs Pagefind: install newsmirror's dependencies again (pip install pagefind[extended])"
        ) from None
    return Path(get_executable())


def index_pages(root: Path, folders: list[str]) -> dict[str, bytes]:
    """Index the article pages under ``folders`` of the tree at ``root``; returns pagefind/… path → bytes."""
    glob = f"{{{','.join(folders)}}}/**/*.html" if len(folders) > 1 else f"{folders[0]}/**/*.html"
    with tempfile.TemporaryDirectory(prefix="newsmirror-pagefind-") as out:
        try:
            ran = subprocess.run(
                [str(pagefind_executable()), "--site", str(root), "--glob", glob, "--output-path", out, "--silent"],
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SearchIndexError(f"cannot run Pagefind to index the HTML site: {exc}") from None
        if ran.returncode != 0:
            reason = (ran.stderr or ran.stdout).strip().splitlines()
            raise SearchIndexError(
                f"Pagefind could not index the HTML site: {reason[-1] if reason else ran.returncode}"
            )
        files: dict[str, bytes] = {}
        for path in sorted(Path(out).rglob("*")):
            rel = path.relative_to(out).as_posix()
            if path.is_file() and _kept(rel):
                files[f"{SEARCH_DIR}/{rel}"] = path.read_bytes()
    if ENTRY in files:
        # Pagefind lists languages in hash-map order: sorted, the same index gives the same bytes.
        entry = json.loads(files[ENTRY])
        files[ENTRY] = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return files


def _kept(rel: str) -> bool:
    if "/" in rel:
        return rel.split("/", 1)[0] in _KEEP_DIRS
    return rel in _KEEP_TOP or rel.endswith(_KEEP_SUFFIXES)


def _script(top: str, strings: dict[str, str]) -> str:
    # Paths are taken from where the page is served, so a sub-path (GitHub Pages project sites) works.
    return (
        'window.addEventListener("DOMContentLoaded",function(){'
        f'var base=new URL("{top or "./"}",location.href).pathname;'
        'var ui=new PagefindUI({element:"#search",bundlePath:base+"pagefind/",baseUrl:base,'
        f"showImages:false,resetStyles:false,translations:{json.dumps(strings, ensure_ascii=False)}}});"
        'var q=new URLSearchParams(location.search).get("q");if(q){ui.triggerSearch(q);}});'
    )


# Pagefind UI's own words, in the page's language.
_STRINGS = {
    "zh": {
        "placeholder": "搜索文章",
        "clear_search": "清除",
        "load_more": "更多结果",
        "search_label": "搜索本站",
        "zero_results": "没有找到 [SEARCH_TERM]",
        "many_results": "找到 [COUNT] 篇含 [SEARCH_TERM] 的文章",
        "one_result": "找到 [COUNT] 篇含 [SEARCH_TERM] 的文章",
        "searching": "正在搜索 [SEARCH_TERM]…",
    },
}


def render_search_page(
    title: str,
    indexes: list[tuple[str, str]],
    *,
    top: str = "",
    lang: str = "zh",
    convert: Callable[[str], str] = str,
    key_line: str = "",
) -> str:
    """``search.html``: Pagefind's search box, and without JavaScript, a note and the channel indexes
    (``indexes``: (name, link) pairs, from the page's folder). ``top`` leads from the page to the top of
    the tree, where the index is; a copy in the other script passes its ``lang`` and ``convert``.
    ``key_line``: the Markdown line naming the signing key, which every page ends with."""
    strings = {key: convert(text) for key, text in _STRINGS.get(lang.split("-")[0], _STRINGS["zh"]).items()}
    script = _script(top, strings)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    html = (
        environment()
        .get_template("search.html.j2")
        .render(
            lang=lang,
            title=convert(title),
            top=top,
            indexes=[(convert(name), link) for name, link in indexes],
            script=script,
            script_hash=f"sha256-{digest}",
            t=convert,
            key_line=markdown_parser().renderInline(key_line) if key_line else "",
        )
    )
    return html.rstrip() + "\n"

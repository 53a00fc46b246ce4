"""Where every output file lives and how pages link to each other: paths, URLs and labels.

This is the one module that knows the shape of the output tree::

    README.md                         home (index.html beside it on the HTML site)
    feed.xml                          the Atom feed
    indexes/<site>-<channel>.md       a channel's index, then <site>-<channel>.2.md, .3.md… for older pages
    indexes/hot.md                    most read
    indexes/health.md                 which sources are current (mirror.health_page)
    indexes/deleted.md                articles deleted at their source
    pages/<site>/<channel>/<id>.md    one article, its QR code <id>.png beside it
    pages/<site>/<channel>/<id>.history.md   its revisions as diffs, once its text changed
    images/<sha1>.<ext>               article images copied into the mirror
    search.html, pagefind/…           the HTML site's search page and its Pagefind index (mirror.search)
    zh-hant/…, zh-hans/…              the same pages in the other script (mirror.variants), images shared
    offline/mirror.zim, offline/<site>-<channel>.epub   the latest offline copies (mirror.bundles)
    SHA256SUMS, SHA256SUMS.sig, SHA256SUMS.pub   the manifest, its signature, the key

Render writes there, publish commits it, preview serves it and the counter
counts views of it: all of them ask here. Every path is relative to the top of
the tree and uses ``/``. Nothing here touches the disk or the network.
"""

from __future__ import annotations

import posixpath
import re

from newsmirror.models import ArticleKey

PAGES_DIR = "pages"
INDEXES_DIR = "indexes"
IMAGES_DIR = "images"
SEARCH_DIR = "pagefind"
OFFLINE_DIR = "offline"
# A copy of the mirror in the other script: its own README.md, indexes/ and pages/ (images/ stay shared).
VARIANT_DIRS = {"zh-Hant": "zh-hant", "zh-Hans": "zh-hans"}
# The folders the build owns in full; anything else in the tree (.git, a LICENSE) is left alone.
MANAGED_DIRS = (PAGES_DIR, INDEXES_DIR, IMAGES_DIR, SEARCH_DIR, OFFLINE_DIR, *VARIANT_DIRS.values())
HOME = "README.md"
HTML_HOME = "index.html"
FEED = "feed.xml"
# What a reader checks a copy against: every published file's SHA-256 (sha256sum -c), its
# detached signature (ssh-keygen -Y verify) and the public key it was made with.
SUMS = "SHA256SUMS"
SUMS_SIG = "SHA256SUMS.sig"
SUMS_PUB = "SHA256SUMS.pub"
# The files the build owns at the top of the tree.
SEARCH_PAGE = "search.html"
ROOT_FILES = (HOME, HTML_HOME, FEED, SEARCH_PAGE, SUMS, SUMS_SIG, SUMS_PUB)
# Never part of the manifest: git's own folder, the manifest and its signature themselves.
NOT_IN_SUMS = (".git", SUMS, SUMS_SIG)
HOT = f"{INDEXES_DIR}/hot.md"
HEALTH = f"{INDEXES_DIR}/health.md"  # which sources are current (mirror.health_page)
# Articles deleted at their source, newest deletion first.
DELETED = f"{INDEXES_DIR}/deleted.md"
# What the files under the managed folders may end with (images/ holds png, jpg, gif, webp;
# pagefind/ the search index, its scripts and styles).
MANAGED_SUFFIXES: tuple[str, ...] = (".md", ".png", ".html", ".jpg", ".gif", ".webp")
MANAGED_SUFFIXES += (
    ".zim",
    ".epub",
    ".js",
    ".css",
    ".json",
    ".pagefind",
    ".pf_meta",
    ".pf_index",
    ".pf_fragment",
    ".pf_filter",
)

# The build writes each file as <mark><pid>-<name> in the same folder, then renames it over
# the old one; publish keeps such leftovers of a killed build out of git with this pattern.
TEMP_MARK = ".tmp-newsmirror-"
TEMP_PATTERN = f"{TEMP_MARK}*"

# What config accepts as a site or channel id and models.article_id produces as an article
# id: safe as a path component in every file system and URL (no dot, so no "..", no hidden file).
_SITE_ID = r"[a-z0-9][a-z0-9_-]{0,63}"
_ARTICLE_ID = r"[a-z0-9][a-z0-9_-]{0,127}"
SITE_ID = re.compile(f"^{_SITE_ID}$")
ARTICLE_ID = re.compile(f"^{_ARTICLE_ID}$")
# Every component of a managed path below its folder: what ids, page numbers and extensions produce.
SAFE_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,150}$")
# An article page (not its QR code, nor another Markdown file beside it): ids hold no dot.
_ARTICLE_PAGE = re.compile(rf"^{PAGES_DIR}/[^/]+/[^/]+/[^/.]+\.md$")
# The counter's image of a page, matched on the raw request path.
_COUNTER_PATH = re.compile(rf"/v/({_SITE_ID})/({_SITE_ID})/({_ARTICLE_ID})\.gif".encode())


def channel_label(site: str, channel: str) -> str:
    """How messages name a channel: ``site/channel``."""
    return f"{site}/{channel}"


def article_label(key: ArticleKey) -> str:
    """How messages name an article: ``site/channel/id``."""
    return f"{key.site}/{key.channel}/{key.id}"


def page_path(key: ArticleKey) -> str:
    """An article's Markdown page."""
    return f"{PAGES_DIR}/{article_label(key)}.md"


def qr_path(key: ArticleKey) -> str:
    """An article's QR code, beside its page."""
    return f"{PAGES_DIR}/{article_label(key)}.png"


def history_path(key: ArticleKey) -> str:
    """An updated article's history page (its revisions as diffs), beside its page."""
    return f"{PAGES_DIR}/{article_label(key)}.history.md"


def sibling_link(path: str) -> str:
    """How a file in the same folder as ``path`` links to it (an article's page to its QR code
    and history page): by its name. ``link`` gives the same, for any two files, at more cost."""
    return path.rpartition("/")[2]


def image_path(name: str) -> str:
    """A stored image file ``<sha1>.<ext>``."""
    return f"{IMAGES_DIR}/{name}"


def index_stem(site: str, channel: str) -> str:
    """A channel's index files are named from this: ``<site>-<channel>``."""
    return f"{site}-{channel}"


def index_path(site: str, channel: str, number: int = 1) -> str:
    """Page ``number`` of a channel's index. Page numbers use a dot, which ids cannot
    contain, so page 2 of one channel is never taken for the first page of another."""
    stem = index_stem(site, channel)
    return f"{INDEXES_DIR}/{stem}.md" if number == 1 else f"{INDEXES_DIR}/{stem}.{number}.md"


def in_tree(folder: str, path: str) -> str:
    """``path`` in the copy of the mirror kept in ``folder`` (``""``: the mirror itself)."""
    return f"{folder}/{path}" if folder else path


def html_path(md_path: str) -> str:
    """The HTML sibling of a Markdown file: README.md → index.html (a copy's too), x.md → x.html."""
    if md_path == HOME or md_path.endswith(f"/{HOME}"):
        return md_path.removesuffix(HOME) + HTML_HOME
    return md_path.removesuffix(".md") + ".html"


def root(path: str) -> str:
    """The relative way from a file's folder back to the top of the tree (``""`` at the top)."""
    return "../" * path.count("/")


def link(from_path: str, to_path: str) -> str:
    """How the file ``from_path`` links to the file ``to_path``: a relative path, so the
    tree works wherever it is served (GitHub, a static host, a copy on disk)."""
    return posixpath.relpath(to_path, posixpath.dirname(from_path) or ".")


def asset_prefix(from_path: str, asset_base_url: str | None) -> str:
    """What an image or QR code a Markdown file shows is written after: ``mirror.asset_base_url``
    when set, else the relative way back to the top of the tree.

    github.com shows a relative image through ``github.com/OWNER/REPO/raw/…``, which redirects to
    raw.githubusercontent.com, a host the firewall blocks; an absolute URL is fetched through
    GitHub's image proxy instead, so images under a CDN (jsDelivr) reach readers in China. Links
    between pages stay relative either way, and the HTML site keeps relative images
    (``asset_path`` undoes the prefix)."""
    return asset_base_url or root(from_path)


def asset_path(src: str, from_path: str, asset_base_url: str | None) -> str:
    """An image source as the HTML sibling of ``from_path`` shows it: an address under
    ``asset_base_url`` becomes the relative path of that file of the tree; anything else is kept."""
    if asset_base_url and src.startswith(asset_base_url):
        return link(from_path, src.removeprefix(asset_base_url))
    return src


def url(base_url: str, path: str) -> str:
    """The address of a file of the tree in the published mirror."""
    return f"{base_url.rstrip('/')}/{path}"


def share_url(base_url: str, key: ArticleKey) -> str:
    """An article page's address in the mirror: what its share text and QR code carry."""
    return url(base_url, page_path(key))


def counter_url(counter_url: str, key: ArticleKey) -> str:
    """The view counter's image for an article page."""
    return f"{counter_url.rstrip('/')}/v/{article_label(key)}.gif"


def counter_key(raw_path: bytes) -> ArticleKey | None:
    """The article a counter request path (raw, nothing percent-decoded) names, or None.

    The match only selects a key for a set lookup: no path is ever built from it."""
    match = _COUNTER_PATH.fullmatch(raw_path)
    if not match:
        return None
    site, channel, article = (part.decode("ascii") for part in match.groups())
    return ArticleKey(site, channel, article)


def is_article_page(path: str) -> bool:
    """Whether a path of the tree is an article's Markdown page."""
    return _ARTICLE_PAGE.match(path) is not None

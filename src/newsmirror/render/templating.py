"""Jinja2 set-up and the filters that make feed text safe in the output.

Markdown templates (``*.md.j2``) are not autoescaped: every value that comes
from a feed passes through ``md`` (inline text) or ``autolink`` (a URL shown as
text) instead. HTML and XML templates (``*.html.j2``, ``*.xml.j2``) escape every
value.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from newsmirror import layout

# Characters that start Markdown syntax inside a line. Backslash escapes are
# part of CommonMark, so GitHub shows the character and plain text stays legible.
_MARKDOWN_PUNCT = re.compile(r"([\\`*_\[\]<>#|~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_SPACE = re.compile(r"\s+")
# What may stay unencoded in a URL shown as a CommonMark autolink <...>.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"
# Characters XML 1.0 forbids (and HTML shows as garbage): never let feed text carry them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def md(text: str) -> str:
    """Feed text as one line of literal Markdown text."""
    text = _SPACE.sub(" ", text).strip()
    return _ENTITY.sub(r"\\&", _MARKDOWN_PUNCT.sub(r"\\\1", text))


def autolink(url: str) -> str:
    """A URL as ``<url>``, shown and linked as itself; anything but http(s) is shown as code, never linked."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"<{quote(url, safe=_URL_SAFE)}>"
    return "`" + _SPACE.sub(" ", url).replace("`", "'") + "`"


def href(url: str) -> str:
    """A URL from the config as a link destination: characters that would end it are percent-encoded."""
    return quote(url.strip(), safe=_URL_SAFE)


def plain_text(text: str) -> str:
    """Text without the control characters XML forbids."""
    return _CONTROL.sub("", text)


def day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("newsmirror", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "xml.j2"), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates are package data and do not change under a running build: no stat per lookup.
        auto_reload=False,
    )
    env.filters.update(md=md, autolink=autolink, href=href, day=day, minute=minute, plain=plain_text)
    # Where pages link to: the layout's, never spelled out in a template.
    env.filters.update(page_path=layout.page_path)
    env.globals.update(HOME=layout.HOME, HOT=layout.HOT, FEED=layout.FEED)
    return env


def render_template(name: str, **context: object) -> str:
    """A template rendered to Markdown that ends in exactly one newline."""
    return environment().get_template(name).render(**context).rstrip() + "\n"


# Modules outside render/ whose code changes what a page says or where it links.
SHAPING = ("layout", "revisions", "status")


def code_sources() -> list[Path]:
    """The code files ``code_fingerprint`` hashes."""
    package = Path(__file__).parent.parent
    return [*sorted(Path(__file__).parent.glob("*.py")), *(package / f"{name}.py" for name in SHAPING)]


@cache
def code_fingerprint() -> str:
    """A hash of the templates and of the code that shapes a page: this package's and the modules outside
    it that decide what a page holds (paths and links, history diffs, source health). A change to any of
    them re-renders every page."""
    digest = hashlib.sha1()
    templates = resources.files("newsmirror").joinpath("templates")
    for path in code_sources():
        digest.update(path.read_bytes())
    for entry in sorted(templates.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".j2"):
            digest.update(entry.name.encode() + entry.read_bytes())
    return digest.hexdigest()

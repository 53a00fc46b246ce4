"""What the store's queries return, besides the models: small frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from newsmirror.models import ArticleKey

SaveResult = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class HotArticle:
    """An article of the most-read list."""

    key: ArticleKey
    title: str
    published: datetime
    views: int


@dataclass(slots=True)  # not frozen: a build makes one for every kept article, and frozen ones are 4x slower to make
class ArticleHead:
    """What an index or a build decision needs of an article: everything but its body."""

    key: ArticleKey
    url: str
    title: str
    author: str
    published: datetime
    fetched: datetime
    content_hash: str
    updated: datetime | None = None  # when its text last changed
    deleted: datetime | None = None  # first seen gone at its source, once marked deleted


@dataclass(frozen=True, slots=True)
class ArticleSource:
    """What an article's Markdown is made from (its cleaned HTML and address), and the Markdown stored."""

    key: ArticleKey
    url: str
    title: str
    html: str
    markdown: str


@dataclass(frozen=True, slots=True)
class Revision:
    """An earlier version of an article, as it was fetched at ``fetched``."""

    fetched: datetime
    title: str
    markdown: str


@dataclass(frozen=True, slots=True)
class Recheck:
    """A stored article due to be fetched again, with the validators of its last answer."""

    key: ArticleKey
    url: str
    title: str
    etag: str
    last_modified: str


@dataclass(frozen=True, slots=True)
class GoneCheck:
    """What a check that found an article's page gone concluded."""

    checks: int  # checks in a row that found it gone
    gone_since: datetime
    deleted: bool  # marked deleted by this check


@dataclass(slots=True)  # not frozen: a no-change build reads one for every file, and frozen ones are 4x slower to make
class BuiltFile:
    """One file of the build manifest: the fingerprint of its inputs; the size, mtime and SHA-1 of what was written."""

    inputs: str
    size: int
    mtime_ns: int
    digest: str


@dataclass(frozen=True, slots=True)
class SchemaUpgrade:
    """An existing store was upgraded in place when it was opened."""

    path: Path | str
    old: int
    new: int

    def __str__(self) -> str:
        return f"{self.path}: upgraded the store in place from schema version {self.old} to {self.new}"

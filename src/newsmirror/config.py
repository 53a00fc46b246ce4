"""The TOML config, validated into typed models.

Types are strict (``"100"`` is not an integer, ``1`` is not a boolean) and
addresses are checked, so a mistake fails at ``newsmirror check`` rather than
every 15 minutes under a timer. Each mistake is reported as one line naming the
key, in TOML's words (``ConfigError``; see ``config_messages``), never as a
traceback or a class name. Values still at the starter's examples are warnings.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from newsmirror.config_messages import describe_errors, example_warnings
from newsmirror.errors import ConfigError
from newsmirror.layout import SITE_ID
from newsmirror.private import check_layout

DEFAULT_CONFIG = "newsmirror.toml"


# A span of time: a number and a unit, minutes to weeks ("30m", "12h", "1d", "2w").
_DURATION = re.compile(r"^(\d{1,6})\s*([mhdw])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """``"1d"`` → one day; a ValueError that says what is expected otherwise."""
    found = _DURATION.match(text.strip().lower())
    if not found:
        raise ValueError(f"{text!r} is not a duration: write a number and m, h, d or w (e.g. 12h, 1d, 2w)")
    return timedelta(seconds=int(found[1]) * _UNIT_SECONDS[found[2]])


class _Model(BaseModel):
    # strict: TOML has real integers, booleans and strings, so "100" for an
    # integer or 1 for a boolean is a mistake to report, not to guess at.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


# TOML has no path type: paths are strings, turned into Path (only these are not strict).
ConfigPath = Annotated[Path, Field(strict=False)]


def _url_checker(schemes: tuple[str, ...], what: str) -> AfterValidator:
    def check(value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme.lower() in schemes and parts.hostname:
            return value
        first = value.split("/", 1)[0]
        if not parts.scheme and "." in first and " " not in first and not value.startswith((".", "/")):
            hint = f'; write it in full, e.g. "{schemes[-1]}://{value}"'
        elif value.startswith(("/", ".", "~", "file:")) or re.match(r"^[A-Za-z]:\\", value):
            hint = ": a file path is no address a reader or a server can open"
        else:
            hint = ""
        starts = ", ".join(f"{s}://" for s in schemes[:-1]) + f" or {schemes[-1]}://"
        return _fail(f'"{value}" is not {what} (it must start with {starts} and name a host){hint}')

    return AfterValidator(check)


def _fail(message: str) -> str:
    raise ValueError(message)


# A web address: http(s) with a host. Every URL a reader follows or sync fetches is one.
WebUrl = Annotated[str, _url_checker(("http", "https"), "a web address")]
ProxyUrl = Annotated[str, _url_checker(("http", "https", "socks5", "socks5h"), "a proxy address")]


def _check_id(value: str) -> str:
    # Ids become path components of the output tree (see layout), so only safe characters.
    if not SITE_ID.match(value):
        raise ValueError(
            f'"{value}" is not a valid id: use 1-64 lowercase letters, digits, "-" or "_", '
            "starting with a letter or digit"
        )
    return value


SafeId = Annotated[str, AfterValidator(_check_id)]

DEFAULT_LANGUAGE = "zh-Hans"
# A BCP 47 language tag, as HTML's lang and Atom's xml:lang take it: zh-Hans, zh-Hant, en, fr-CA.
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _check_language(value: str) -> str:
    if not _LANGUAGE.match(value):
        raise ValueError(f'"{value}" is not a language tag: write e.g. "zh-Hans", "zh-Hant" or "en"')
    return value


Language = Annotated[str, AfterValidator(_check_language)]


class MirrorLink(_Model):
    """Another copy of the mirror, listed at the foot of every page."""

    name: str
    url: WebUrl


class MirrorConfig(_Model):
    title: str = "新闻镜像"
    # Share links and QR codes point here: the URL under which the output
    # tree's files are readable (e.g. a GitHub "blob/main" URL).
    base_url: WebUrl = "https://github.com/example/mirror/blob/main"
    # Where the HTML site (mirror.html) is served, e.g. GitHub Pages: feed.xml
    # links its pages there. Unset, feed.xml links the Markdown pages under base_url.
    site_url: WebUrl | None = None
    output: ConfigPath = Path("mirror")
    # A file path (SQLite, the default), or a postgresql:// URL (see the README's "Many workers").
    store: str = "newsmirror.db"
    keep_per_channel: int = Field(500, ge=1)
    index_size: int = Field(100, ge=1)
    home_headlines: int = Field(10, ge=0)
    outbound_links: Literal["plain", "keep", "original"] = "plain"
    cache_bust: bool = True
    mirrors: list[MirrorLink] = []
    counter_url: WebUrl | None = None
    hot_window_days: int = Field(7, ge=1)
    hot_size: int = Field(50, ge=1)
    # Also write an HTML sibling of every Markdown page, for static hosts that do not render Markdown.
    html: bool = False
    # Articles in feed.xml, the mirror's Atom feed.
    feed_size: int = Field(50, ge=1)
    # "copy": article images are fetched by sync and served from the mirror's images/;
    # "link": pages keep the images' original URLs (unreachable behind a firewall).
    images: Literal["copy", "link"] = "copy"
    # Also write indexes/health.md: which sources are current, for readers and co-operators.
    health_page: bool = False
    # Images are downloaded up to image_max_bytes, then shrunk by sync to at most
    # image_max_width pixels wide and image_budget bytes: only the shrunk copy is kept.
    image_max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    image_max_width: int = Field(1080, ge=100, le=10000)
    image_budget: int = Field(150 * 1024, ge=10 * 1024)
    # An image that cannot be had or shrunk is tried by this many syncs in all, then never again.
    image_attempts: int = Field(3, ge=1, le=100)
    # An article page (Markdown or HTML, with its images and QR code) heavier than this is
    # counted as over budget at the end of each build: 500 KB is 10 s at 50 KB/s (2G).
    page_budget: int = Field(500 * 1024, ge=10 * 1024)
    # Set for a mirror read on github.com from China: images and QR codes in the Markdown
    # become absolute URLs under it (e.g. https://cdn.jsdelivr.net/gh/OWNER/REPO@BRANCH/).
    asset_base_url: WebUrl | None = None
    # The language of the home page, the most-read list and the feed (a site's own pages
    # use the site's language).
    language: Language = DEFAULT_LANGUAGE
    squash_history: bool = False
    branch: str = "main"
    # The mirror also in the other script: "zh-Hant" writes zh-hant/…, "zh-Hans" zh-hans/… (OpenCC).
    variants: list[Literal["zh-Hant", "zh-Hans"]] = []
    # Search in the HTML site (Pagefind): search.html and its index in pagefind/. Needs html = true.
    search: bool = False
    # Offline bundles kept in offline/ of the tree, each replacing the previous one: "zim", "epub".
    bundles: list[Literal["zim", "epub"]] = []
    # Only the articles fetched in this span before the newest one ("7d"); unset: every kept article.
    bundle_since: str | None = None

    # Rechecks: articles published in the last recheck_days are fetched again (conditional
    # GET) every recheck_hours, to catch silent edits and deletions at the source; at most
    # recheck_share of a run's requests go to them. recheck_days = 0: no rechecks.
    recheck_days: float = Field(3, ge=0)
    recheck_hours: float = Field(6, ge=0)
    recheck_share: float = Field(0.5, gt=0, lt=1)
    # Articles deleted at their source stay in the mirror whatever keep_per_channel says.
    keep_deleted: bool = True
    # The key that signs SHA256SUMS (made by 'newsmirror keygen'; its public key beside it, .pub).
    # It must lie outside the output folder: it is private and never published.
    signing_key: ConfigPath = Path("newsmirror-signing.key")

    @field_validator("bundle_since")
    @classmethod
    def _bundle_since(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("store", mode="before")
    @classmethod
    def _store(cls, value: object) -> object:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, str) and "://" in value and not is_postgres_url(value):
            raise ValueError("must be a file path (SQLite) or a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _search_needs_html(self) -> MirrorConfig:
        if self.search and not self.html:
            raise ValueError("search = true needs the HTML site: set html = true too (the search page is HTML)")
        return self

    @field_validator("base_url", "site_url", "counter_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("asset_base_url")
    @classmethod
    def _one_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") + "/" if value else value


_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_INTERVAL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: object) -> float:
    """Seconds from a number of seconds or a string such as "90s", "10m", "6h", "1d"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (match := _INTERVAL.match(value)):
        seconds = float(match[1]) * _INTERVAL_UNITS[match[2] or "s"]
    else:
        raise ValueError(f'{value!r} is not a duration: write seconds, or e.g. "90s", "10m", "6h", "1d"')
    if seconds <= 0:
        raise ValueError("must be more than 0")
    return seconds


Duration = Annotated[float, BeforeValidator(_duration)]


def is_postgres_url(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://"))


class ScheduleConfig(_Model):
    """When each feed is polled again (see schedule.py)."""

    # A feed is polled at its own publishing rhythm, never more often than
    # min_interval and never less often than max_interval.
    min_interval: Duration = 600.0
    max_interval: Duration = 6 * 3600.0
    # How long a worker may hold a feed before another may take it over (a worker
    # that died, even by kill -9); a live worker renews its leases as it goes.
    lease: Duration = 120.0

    @model_validator(mode="after")
    def _order(self) -> ScheduleConfig:
        if self.min_interval > self.max_interval:
            raise ValueError("min_interval must not be longer than max_interval")
        return self


class HttpConfig(_Model):
    concurrency: int = Field(16, ge=1, le=256)
    per_host: int = Field(4, ge=1, le=64)
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(30.0, gt=0)
    retries: int = Field(3, ge=0, le=10)
    backoff: float = Field(0.5, ge=0)
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    user_agent: str = "newsmirror/0.1 (+https://github.com/newsmirror)"
    proxy: ProxyUrl | None = None
    # Loopback, private, link-local, multicast and reserved addresses are refused unless
    # allowed here: true for all, or a list of host names, addresses and networks (CIDR).
    allow_private: bool | list[str] = False


class ChannelConfig(_Model):
    id: SafeId
    name: str
    # Either a feed, or (for sites without one) a listing page and the CSS
    # selector of its article links.
    feed: WebUrl | None = None
    listing: WebUrl | None = None
    links: str | None = None

    @model_validator(mode="after")
    def _source(self) -> ChannelConfig:
        if bool(self.feed) == bool(self.listing):
            raise ValueError("give exactly one of 'feed' or 'listing'")
        if self.listing and not self.links:
            raise ValueError("a 'listing' channel needs 'links', the CSS selector of its article links")
        return self


class SiteConfig(_Model):
    id: SafeId
    name: str
    # The language of the site's pages: their labels, the HTML lang, the feed entries' xml:lang.
    language: Language = DEFAULT_LANGUAGE
    # Extraction rules; without 'content' the generic extractor is used.
    content: str | None = None
    remove: list[str] = []
    drop_blocks_matching: list[str] = []
    body_from_feed: bool = False
    skip_titles_matching: list[str] = []
    update_markers: list[str] = ["更新"]
    # The OpenCC conversion of this site's pages into the other script, with regional words: s2twp
    # (Taiwan), s2hk (Hong Kong), s2t; t2s, tw2s, hk2s for a site written in traditional script.
    script: Literal["s2t", "s2tw", "s2twp", "s2hk", "t2tw", "t2hk", "t2s", "tw2s", "tw2sp", "hk2s"] | None = None
    channels: list[ChannelConfig] = Field(default_factory=list, alias="channel")

    @field_validator("content", "remove")
    @classmethod
    def _selectors(cls, value: str | list[str] | None) -> str | list[str] | None:
        from lxml.cssselect import CSSSelector, SelectorError

        for selector in [value] if isinstance(value, str) else value or []:
            try:
                CSSSelector(selector)
            except SelectorError as exc:
                raise ValueError(f'bad CSS selector "{selector}": {exc}') from None
        return value

    @model_validator(mode="after")
    def _unique_channels(self) -> SiteConfig:
        ids = [c.id for c in self.channels]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f'channel id "{dupes[0]}" is used twice')
        return self


class RemoteConfig(_Model):
    name: SafeId
    url: str
    branch: str | None = None


class Config(_Model):
    mirror: MirrorConfig = MirrorConfig()
    http: HttpConfig = HttpConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    sites: list[SiteConfig] = Field(default_factory=list, alias="site")
    remotes: list[RemoteConfig] = Field(default_factory=list, alias="remote")
    # Where the config file lives; relative paths in it are taken from there.
    root: ConfigPath = Field(Path("."), exclude=True)
    # The config file itself (never to be published), when it was read from one.
    file: ConfigPath | None = Field(None, exclude=True)
    # Values still at the starter's examples: `check` shows them without failing.
    warnings: list[str] = Field(default_factory=list, exclude=True)

    @model_validator(mode="after")
    def _unique(self) -> Config:
        for kind, ids in (("site", [s.id for s in self.sites]), ("remote", [r.name for r in self.remotes])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f'{kind} "{dupes[0]}" is defined twice')
        return self

    @property
    def output_dir(self) -> Path:
        return (self.root / self.mirror.output).resolve()

    @property
    def store_url(self) -> str | None:
        """The PostgreSQL store's URL, or None for the default SQLite file."""
        return self.mirror.store if is_postgres_url(self.mirror.store) else None

    @property
    def signing_key_path(self) -> Path:
        return (self.root / self.mirror.signing_key).resolve()

    @property
    def store_path(self) -> Path:
        """The SQLite store's file; with a PostgreSQL store, the folder-local name its lock file is kept by."""
        if self.store_url:
            return (self.root / "newsmirror-postgresql").resolve()
        return (self.root / self.mirror.store).resolve()

    @property
    def store_label(self) -> str:
        """The store, for messages: its file, or its URL without the password."""
        if self.store_url:
            from newsmirror.store.connection import redact

            return redact(self.store_url)
        return str(self.store_path)

    @property
    def store(self) -> Path | str:
        """What ``Store`` opens: the SQLite file or the PostgreSQL URL."""
        return self.store_url or self.store_path

    def site(self, site_id: str) -> SiteConfig:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)


def _starter_data() -> dict:
    return tomllib.loads(resources.files("newsmirror").joinpath("starter.toml").read_text("utf-8"))


def parse_config(text: str, source: str = DEFAULT_CONFIG, root: Path | None = None) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([f"{source}: {line}" for line in describe_errors(exc.errors(), data, Config)]) from None
    config.root = (root or Path(".")).resolve()
    config.file = config.root / Path(source).name
    config.warnings = [f"{source}: {line}" for line in example_warnings(data, _starter_data())]
    # An output folder holding the store, the lock or the config would publish them.
    check_layout(config)
    return config


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file; run 'newsmirror init' to write a starter config, or pass --config PATH"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc}") from None
    return parse_config(text, str(path), path.resolve().parent)

"""The demo sites' data: sites, channels and articles loaded from data/*.toml.

Article bodies are written in a small block markup (see ``parse_blocks``) so
each site can render the same kinds of block in its own style.
"""

from __future__ import annotations

import html
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from importlib.abc import Traversable


def data_dir() -> Traversable:
    return resources.files("newsmirror.demosite").joinpath("data")


@dataclass(slots=True)
class Channel:
    site: str
    id: str
    name: str
    kind: str  # rss | atom | listing | malformed
    path: str  # the feed's (or listing page's) path on the server
    links: str = ""  # CSS selector of a listing page's article links
    full_content: bool = False  # the feed carries content:encoded


@dataclass(slots=True)
class Site:
    id: str
    name: str
    lang: str
    charset: str
    root: str
    article_path: str
    image_dir: str
    channels: list[Channel]
    content: str = ""
    remove: list[str] = field(default_factory=list)
    drop_blocks_matching: list[str] = field(default_factory=list)
    body_from_feed: bool = False
    skip_titles_matching: list[str] = field(default_factory=list)
    update_markers: list[str] = field(default_factory=list)
    boilerplate: list[str] = field(default_factory=list)

    def channel(self, channel_id: str) -> Channel:
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        raise KeyError(f"site {self.id!r} has no channel {channel_id!r}")


# A block of an article body: ("p", text), ("h", text), ("img", file, caption),
# ("ul", items), ("ol", items), ("quote", text), ("table", rows).
Block = tuple


@dataclass(slots=True)
class Item:
    site: str
    channel: str
    key: str
    title: str
    date: datetime
    author: str = ""
    blocks: list[Block] = field(default_factory=list)
    # Raw body HTML, for articles added at run time with add_article().
    body_html: str = ""
    tags: list[str] = field(default_factory=list)
    video: bool = False  # a video item the config skips by its title
    missing: bool = False  # linked from the feed, but the page 404s
    # Deleted by the site after it was published: "404", "410", or "home" (its address now
    # redirects to the site's home page); it leaves the feed too. "" while it is up.
    deleted: str = ""
    unlisted: bool = False  # gone from the feed (it aged out), but its page is still there
    slow: bool = False  # the page answers after the slow delay
    path: str = ""  # the page's path on the server
    link: str = "absolute"  # how the feed writes the link: absolute | relative | root

    @property
    def listed(self) -> bool:
        """Shown in the site's own lists (feeds, home, related links)."""
        return not (self.missing or self.deleted or self.unlisted)

    @property
    def text_sample(self) -> str:
        """A sentence from the body that a correct mirror holds."""
        paragraphs = [b[1] for b in self.blocks if b[0] == "p"]
        if not paragraphs and self.body_html:
            paragraphs = re.findall(r"<p[^>]*>(.*?)</p>", self.body_html, re.S)
        return strip_tags(paragraphs[-1]) if paragraphs else ""

    @property
    def summary(self) -> str:
        paragraphs = [b[1] for b in self.blocks if b[0] == "p"]
        text = strip_tags(paragraphs[0]) if paragraphs else strip_tags(self.body_html)
        return text[:90] + ("…" if len(text) > 90 else "")

    @property
    def images(self) -> list[str]:
        return [b[1] for b in self.blocks if b[0] == "img"]


def strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


_IMAGE = re.compile(r"^!\[(?P<caption>[^\]]*)\]\((?P<file>[^)\s]+)\)$")


def parse_blocks(text: str) -> list[Block]:
    """Blocks are separated by blank lines: ``## heading``, ``![caption](file)``,
    ``- item`` lines, ``1. item`` lines, ``> quote``, ``| a | b |`` table rows;
    anything else is a paragraph. Inline HTML passes through."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        first = lines[0]
        if first.startswith("## "):
            blocks.append(("h", first[3:].strip()))
        elif match := _IMAGE.match(first):
            blocks.append(("img", match["file"], match["caption"]))
        elif first.startswith("- "):
            blocks.append(("ul", [line[2:].strip() for line in lines]))
        elif re.match(r"^\d+\. ", first):
            blocks.append(("ol", [re.sub(r"^\d+\. ", "", line) for line in lines]))
        elif first.startswith("> "):
            blocks.append(("quote", " ".join(line.lstrip("> ").strip() for line in lines)))
        elif first.startswith("|"):
            rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
            blocks.append(("table", [row for row in rows if not all(set(c) <= set("-: ") for c in row)]))
        else:
            blocks.append(("p", "".join(lines) if _is_cjk(first) else " ".join(lines)))
    return blocks


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text[:20])


def load_sites() -> list[Site]:
    data = tomllib.loads(data_dir().joinpath("sites.toml").read_text("utf-8"))
    sites = []
    for raw in data["site"]:
        raw = dict(raw)
        raw.pop("mess", None)
        channels = [Channel(site=raw["id"], **c) for c in raw.pop("channel")]
        sites.append(Site(channels=channels, **raw))
    return sites


def load_items(site: Site) -> list[Item]:
    """A site's articles, newest first within each channel."""
    source = data_dir().joinpath("articles", f"{site.id}.toml")
    items = []
    for raw in tomllib.loads(source.read_text("utf-8"))["article"]:
        raw = dict(raw)
        body = raw.pop("body", "")
        item = Item(site=site.id, blocks=parse_blocks(body), **raw)
        site.channel(item.channel)  # fail early on a typo
        if not item.path:
            item.path = site.article_path.format(channel=item.channel, key=item.key, date=item.date)
        items.append(item)
    keys = [i.key for i in items]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{source}: an article key is used twice")
    return sorted(items, key=lambda i: i.date, reverse=True)

"""The home page (``layout.HOME``): every site, its channels, latest headlines, most read."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newsmirror import layout
from newsmirror.config import Config
from newsmirror.render.archive import archive_words, key_line
from newsmirror.render.channels import ChannelView
from newsmirror.render.hot import HotEntry
from newsmirror.render.labels import labels_for
from newsmirror.render.templating import render_template
from newsmirror.store import ArticleHead

# What the home page says each offline copy is for.
_KINDS = {"zim": "ZIM（Kiwix）", "epub": "EPUB"}


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


# How many of the most-read articles the home page shows.
HOME_HOT = 5


@dataclass(frozen=True, slots=True)
class Link:
    """An article or index named on the home page."""

    title: str
    link: str
    published: datetime | None = None
    channel_name: str = ""
    views: int = 0


def busted(path: str, stamp: str, enabled: bool) -> str:
    """``path?t=stamp``: proxies that cache by URL fetch the page again once its stamp changes."""
    return f"{path}?t={stamp}" if enabled else path


def render_home(
    config: Config,
    views: list[ChannelView],
    hot: list[HotEntry],
    stamps: dict[str, str],
    updated: datetime | None,
    *,
    twins: Sequence[tuple[str, str]] = (),
    top: str = "",
    offline: Sequence[tuple[str, int]] = (),
    fingerprint: str = "",
) -> str:
    """``stamps`` maps each linked path to a short fingerprint of its content, used as its ``?t=``;
    ``twins`` links the home page in the other script; ``top`` leads from a copy's folder to the top of
    the tree (the feed and the health page are there only); ``offline``: the offline copies' paths
    from the home page's folder, and their sizes in bytes."""
    mirror = config.mirror

    def link(path: str) -> str:
        return busted(layout.link(layout.HOME, path), stamps[path], mirror.cache_bust)

    sites = []
    for site in config.sites:
        site_views = [v for v in views if v.site.id == site.id]
        if not site_views:
            continue
        heads: list[tuple[ArticleHead, ChannelView]] = [(h, v) for v in site_views for h in v.heads]
        heads.sort(key=lambda hv: (hv[0].published, hv[0].key.id), reverse=True)
        sites.append(
            {
                "name": site.name,
                "channels": [Link(v.name, link(v.index_path())) for v in site_views],
                "headlines": [
                    Link(h.title, link(layout.page_path(h.key)), h.published, v.name)
                    for h, v in heads[: mirror.home_headlines]
                ],
            }
        )
    return render_template(
        "home.md.j2",
        L=labels_for(mirror.language),
        title=mirror.title,
        updated=updated,
        sites=sites,
        hot=[Link(e.title, link(layout.page_path(e.key)), views=e.views) for e in hot[:HOME_HOT]],
        hot_link=link(layout.HOT),
        health_link=(top + layout.HEALTH if top else link(layout.HEALTH)) if mirror.health_page else None,
        twins=twins,
        top=top,
        offline=[
            {
                "name": posixpath.basename(path),
                "link": path,
                "kind": _KINDS[path.rsplit(".", 1)[1]],
                "size": _size(size),
            }
            for path, size in offline
        ],
        deleted_link=link(layout.DELETED),
        deleted_title=archive_words(mirror.language).deleted_title,
        key_line=key_line(fingerprint, mirror.language, top),
        mirrors=mirror.mirrors,
    )

"""The channels the build renders: configured channels and their kept articles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from newsmirror.config import ChannelConfig, Config, SiteConfig
from newsmirror.store import ArticleHead, Store

# What models.article_id produces; a stored id outside this (a hand-edited or
# hostile store) is refused, never used as a file name.
_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,127}$")


@dataclass(slots=True)
class ChannelView:
    site: SiteConfig
    channel: ChannelConfig
    # Kept articles, newest first: at most mirror.keep_per_channel.
    heads: list[ArticleHead] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.channel.name

    @property
    def slug(self) -> str:
        """The index file's stem: indexes/<site>-<channel>.md."""
        return f"{self.site.id}-{self.channel.id}"

    @property
    def index(self) -> str:
        return f"{self.slug}.md"


def kept_channels(config: Config, store: Store, errors: list[str]) -> list[ChannelView]:
    """Every configured channel with its newest ``keep_per_channel`` articles that can be rendered."""
    views: list[ChannelView] = []
    slugs: dict[str, str] = {}
    for site in config.sites:
        for channel in site.channels:
            view = ChannelView(site, channel)
            if view.slug in slugs:
                errors.append(
                    f"channel {site.id}/{channel.id}: its index name {view.index} is taken by channel "
                    f"{slugs[view.slug]}; rename one of the ids in the config"
                )
                continue
            slugs[view.slug] = f"{site.id}/{channel.id}"
            for head in store.article_heads(site.id, channel.id, config.mirror.keep_per_channel):
                if _SAFE_ID.match(head.key.id):
                    view.heads.append(head)
                else:
                    errors.append(
                        f"article {site.id}/{channel.id}/{head.key.id!r}: id is not a safe file name; skipped"
                    )
            views.append(view)
    return views

"""The channels the build renders: configured channels and their kept articles."""

from __future__ import annotations

from dataclasses import dataclass, field

from newsmirror import layout
from newsmirror.config import ChannelConfig, Config, SiteConfig
from newsmirror.store import ArticleHead, Store


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
        """The stem of the channel's file names (its index, an offline copy of it)."""
        return layout.index_stem(self.site.id, self.channel.id)

    @property
    def label(self) -> str:
        return layout.channel_label(self.site.id, self.channel.id)

    def index_path(self, number: int = 1) -> str:
        """Page ``number`` of the channel's index."""
        return layout.index_path(self.site.id, self.channel.id, number)


def kept_channels(config: Config, store: Store, errors: list[str]) -> list[ChannelView]:
    """Every configured channel with its newest ``keep_per_channel`` articles that can be rendered."""
    views: list[ChannelView] = []
    indexes: dict[str, str] = {}  # index path → the channel that has it
    for site in config.sites:
        for channel in site.channels:
            view = ChannelView(site, channel)
            index = view.index_path()
            if index in indexes:
                errors.append(
                    f"channel {view.label}: its index name {index.rsplit('/', 1)[-1]} is taken by channel "
                    f"{indexes[index]}; rename one of the ids in the config"
                )
                continue
            indexes[index] = view.label
            heads = store.article_heads(site.id, channel.id, config.mirror.keep_per_channel)
            if config.mirror.keep_deleted:
                # Retention never drops an article deleted at its source: the mirror is where it lives on.
                kept = {head.key for head in heads}
                older = [h for h in store.deleted_heads(site.id, channel.id) if h.key not in kept]
                if older:
                    heads = sorted([*heads, *older], key=lambda h: (h.published, h.key.id), reverse=True)
            for head in heads:
                # A stored id outside what models.article_id makes (a hand-edited or hostile store) is
                # refused, never used as a file name.
                if layout.ARTICLE_ID.match(head.key.id):
                    view.heads.append(head)
                else:
                    errors.append(f"article {view.label}/{head.key.id!r}: id is not a safe file name; skipped")
            views.append(view)
    return views

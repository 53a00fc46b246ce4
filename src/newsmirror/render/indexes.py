"""Channel indexes: indexes/<site>-<channel>.md, then .2.md, .3.md… for older articles.

Page numbers use a dot, which ids cannot contain, so page 2 of one channel can
never be taken for the first page of another.
"""

from __future__ import annotations

from newsmirror.config import MirrorConfig
from newsmirror.render.channels import ChannelView
from newsmirror.render.templating import render_template


def index_names(view: ChannelView, size: int) -> list[str]:
    count = max(1, -(-len(view.heads) // size))
    return [view.index] + [f"{view.slug}.{number}.md" for number in range(2, count + 1)]


def render_indexes(view: ChannelView, mirror: MirrorConfig) -> dict[str, str]:
    """indexes/… path → Markdown of every page of a channel's index, newest articles first."""
    size = mirror.index_size
    names = index_names(view, size)
    return {
        f"indexes/{name}": render_template(
            "index.md.j2",
            site_name=view.site.name,
            channel=view,
            entries=view.heads[(number - 1) * size : number * size],
            number=number,
            pages=names,
            total=len(view.heads),
            mirrors=mirror.mirrors,
        )
        for number, name in enumerate(names, start=1)
    }

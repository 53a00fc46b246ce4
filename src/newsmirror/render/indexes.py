"""Channel indexes: the newest articles first, paginated into older pages (paths: ``layout.index_path``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from newsmirror import layout
from newsmirror.config import MirrorConfig
from newsmirror.models import sha1_hex
from newsmirror.render.archive import key_line
from newsmirror.render.channels import ChannelView
from newsmirror.render.labels import labels_for
from newsmirror.render.templating import day, render_template

# A page's path → (label, link) of the same page in each other script.
Twins = Callable[[str], Sequence[tuple[str, str]]]


def index_paths(view: ChannelView, mirror: MirrorConfig) -> list[str]:
    """The pages of a channel's index: one for every ``mirror.index_size`` articles, at least one."""
    count = max(1, -(-len(view.heads) // mirror.index_size))
    return [view.index_path(number) for number in range(1, count + 1)]


def index_inputs(view: ChannelView, settings: str) -> str:
    """A fingerprint of all a channel's index pages are made from: what each entry shows of its article
    (its link, day and title), and ``settings``: the rest (the mirror's, the site's and the channel's)."""
    entries = "".join(f"{h.key.id}\x1f{day(h.published)}\x1f{h.title}\x1e" for h in view.heads)
    site = view.site
    return sha1_hex(repr((settings, site.id, site.name, site.language, view.channel.id, view.name)) + entries)


def render_indexes(
    view: ChannelView,
    mirror: MirrorConfig,
    twins: Twins = lambda path: (),
    *,
    fingerprint: str = "",
    tree: str = "",
) -> dict[str, str]:
    """Path → Markdown of every page of a channel's index, newest articles first
    (``twins``: a path's links to the same page in the other script; ``fingerprint``: the signing key's
    short one; ``tree``: the folder of the copy in the other script they are for, if any)."""
    size = mirror.index_size
    paths = index_paths(view, mirror)
    return {
        path: render_template(
            "index.md.j2",
            L=labels_for(view.site.language),
            site_name=view.site.name,
            channel=view,
            root=layout.root(path),
            entries=view.heads[(number - 1) * size : number * size],
            number=number,
            pages=[layout.link(path, other) for other in paths],
            total=len(view.heads),
            mirrors=mirror.mirrors,
            twins=twins(path),
            key_line=key_line(fingerprint, view.site.language, layout.root(layout.in_tree(tree, path))),
        )
        for number, path in enumerate(paths, start=1)
    }

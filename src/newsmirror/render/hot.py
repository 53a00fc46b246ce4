"""The most-read list (``layout.HOT``), from the view counts the counter stores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from newsmirror import layout
from newsmirror.config import MirrorConfig
from newsmirror.models import ArticleKey
from newsmirror.render.archive import key_line
from newsmirror.render.channels import ChannelView
from newsmirror.render.labels import labels_for
from newsmirror.render.templating import render_template
from newsmirror.store import Store


@dataclass(frozen=True, slots=True)
class HotEntry:
    key: ArticleKey
    title: str
    channel_name: str
    views: int


def hot_since(reference: date, window_days: int) -> str:
    """The first UTC day (YYYY-MM-DD) of a window of ``window_days`` days ending on ``reference``."""
    return (reference - timedelta(days=window_days - 1)).isoformat()


def hot_entries(store: Store, since: str, limit: int, views: list[ChannelView]) -> list[HotEntry]:
    """The most-read articles that are in the output, most viewed first; pages no longer kept are passed over."""
    names = {head.key: view.name for view in views for head in view.heads}
    # Ask for every ranked article: those not kept must not push kept ones off the list.
    ranked = store.hot_articles(since)
    return [HotEntry(a.key, a.title, names[a.key], a.views) for a in ranked if a.key in names][:limit]


def render_hot(
    entries: list[HotEntry],
    mirror: MirrorConfig,
    twins: Sequence[tuple[str, str]] = (),
    *,
    fingerprint: str = "",
    tree: str = "",
) -> str:
    return render_template(
        "hot.md.j2",
        L=labels_for(mirror.language),
        root=layout.root(layout.HOT),
        entries=entries,
        days=mirror.hot_window_days,
        mirrors=mirror.mirrors,
        twins=twins,
        key_line=key_line(fingerprint, mirror.language, layout.root(layout.in_tree(tree, layout.HOT))),
    )

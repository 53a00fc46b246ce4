"""What the archive adds to the tree: each updated article's history page
(pages/<site>/<channel>/<id>.history.md) and the list of articles deleted at
their source (indexes/deleted.md), in its site's language (the words are ``ArchiveWords``, in
render/labels.py's table).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from newsmirror import layout
from newsmirror.config import MirrorConfig, SiteConfig
from newsmirror.models import Article, sha1_hex
from newsmirror.render.channels import ChannelView
from newsmirror.render.labels import ARCHIVE_WORDS, ArchiveWords, labels_for, language_key
from newsmirror.render.templating import render_template
from newsmirror.revisions import diff_markdown
from newsmirror.store import ArticleHead, Revision


def archive_words(language: str = "zh-Hans") -> ArchiveWords:
    """The words for a language tag, resolved as the labels are (its own, its script's, else English)."""
    return ARCHIVE_WORDS[language_key(language)]


def key_line(fingerprint: str, language: str, top: str) -> str:
    """The line every page ends with: the signing key's short fingerprint, so readers can compare it
    across mirrors, and a link to SHA256SUMS (``top``: the way from the page's folder to the top of the
    tree, ``layout.root`` of its path, a copy's folder included). Empty when the mirror is not signed."""
    if not fingerprint:
        return ""
    words = archive_words(language).key.format(fingerprint=fingerprint)
    return f"{words} · [{layout.SUMS}]({top}{layout.SUMS})"


def site_language(site: SiteConfig) -> str:
    """The language a site's pages are written in."""
    return site.language


def history_inputs(settings: str, head: ArticleHead, language: str) -> str:
    """A fingerprint of what a history page is made from: a new revision changes the article's hash."""
    updated = head.updated.isoformat() if head.updated else ""
    return sha1_hex("\x1f".join((settings, "history", head.title, head.content_hash, updated, language)))


def render_history(
    article: Article, revisions: list[Revision], language: str, *, fingerprint: str = "", tree: str = ""
) -> str:
    """Each version's time and what changed from the one before, newest first (``tree``: the folder of
    the copy in the other script it is written for, if any)."""
    versions = [*revisions, Revision(article.fetched, article.title, article.markdown)]
    changes = []
    for before, after in itertools.pairwise(versions):
        changes.append(
            {
                "when": after.fetched,
                "blocks": diff_markdown(before.title, before.markdown, after.title, after.markdown),
            }
        )
    return render_template(
        "history.md.j2",
        article=article,
        words=archive_words(language),
        L=labels_for(language),
        first=versions[0].fetched,
        changes=list(reversed(changes)),  # the newest change first: what a reader came to see
        page=f"{article.id}.md",
        key_line=key_line(fingerprint, language, layout.root(layout.in_tree(tree, layout.history_path(article.key)))),
    )


@dataclass(frozen=True, slots=True)
class DeletedEntry:
    head: ArticleHead
    site_name: str
    channel_name: str


def deleted_entries(views: list[ChannelView]) -> list[DeletedEntry]:
    """The kept articles deleted at their source, newest deletion first."""
    entries = [DeletedEntry(h, v.site.name, v.name) for v in views for h in v.heads if h.deleted]
    entries.sort(key=lambda e: (e.head.deleted or datetime.min, e.head.published, e.head.key.id), reverse=True)
    return entries


def render_deleted(entries: list[DeletedEntry], mirror: MirrorConfig, *, fingerprint: str = "", tree: str = "") -> str:
    return render_template(
        "deleted.md.j2",
        entries=entries,
        words=archive_words(mirror.language),
        L=labels_for(mirror.language),
        mirrors=mirror.mirrors,
        root=layout.root(layout.DELETED),
        key_line=key_line(fingerprint, mirror.language, layout.root(layout.in_tree(tree, layout.DELETED))),
    )

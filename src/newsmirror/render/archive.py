"""What the archive adds to the tree: each updated article's history page
(pages/<site>/<channel>/<id>.history.md) and the list of articles deleted at
their source (indexes/deleted.md), with the words a page says about either in
its site's language.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from newsmirror import layout
from newsmirror.config import MirrorConfig, SiteConfig
from newsmirror.models import Article, sha1_hex
from newsmirror.render.channels import ChannelView
from newsmirror.render.labels import labels_for, language_key
from newsmirror.render.templating import render_template
from newsmirror.revisions import diff_markdown
from newsmirror.store import ArticleHead, Revision


@dataclass(frozen=True, slots=True)
class ArchiveWords:
    """What article, history and deleted pages say, in one language."""

    updated: str  # "本文更新于 {when}"
    history: str  # the link to the history page
    deleted: str  # the notice on a page whose original is gone
    deleted_since: str  # "首次发现于 {when}"
    history_title: str
    back: str
    first_version: str  # "{when} 首次存档"
    revision: str  # "{when} 的修改"
    removed_added: str  # how to read the marks
    no_change_shown: str
    deleted_title: str
    deleted_intro: str
    none_deleted: str
    key: str  # the signing key's short fingerprint, on every page


_WORDS = {
    "zh-Hans": ArchiveWords(
        updated="本文更新于 {when}",
        history="修改记录",
        deleted="原文已被删除",
        deleted_since="首次发现于 {when}，本站保留存档",
        history_title="修改记录：{title}",
        back="返回文章",
        first_version="{when} 首次存档",
        revision="{when} 的修改",
        removed_added="~~删除线~~为删去的文字，**粗体**为新增的文字。",
        no_change_shown="（仅格式变化）",
        deleted_title="原文已被删除的文章",
        deleted_intro="下列文章在原网站上已被删除（或已无法访问），本站保留了存档。按发现删除的时间排列，最新的在前。",
        none_deleted="暂无。",
        key="本镜像的签名密钥指纹：`{fingerprint}`，可与其他镜像核对",
    ),
    "zh-Hant": ArchiveWords(
        updated="本文更新於 {when}",
        history="修改記錄",
        deleted="原文已被刪除",
        deleted_since="首次發現於 {when}，本站保留存檔",
        history_title="修改記錄：{title}",
        back="返回文章",
        first_version="{when} 首次存檔",
        revision="{when} 的修改",
        removed_added="~~刪除線~~為刪去的文字，**粗體**為新增的文字。",
        no_change_shown="（僅格式變化）",
        deleted_title="原文已被刪除的文章",
        deleted_intro="下列文章在原網站上已被刪除（或已無法訪問），本站保留了存檔。按發現刪除的時間排列，最新的在前。",
        none_deleted="暫無。",
        key="本鏡像的簽名密鑰指紋：`{fingerprint}`，可與其他鏡像核對",
    ),
    "en": ArchiveWords(
        updated="Updated {when}",
        history="revision history",
        deleted="The original has been deleted",
        deleted_since="first seen gone {when}; this mirror keeps its copy",
        history_title="Revision history: {title}",
        back="Back to the article",
        first_version="First archived {when}",
        revision="Changes of {when}",
        removed_added="~~Struck-through~~ text was removed, **bold** text was added.",
        no_change_shown="(formatting only)",
        deleted_title="Articles deleted at their source",
        deleted_intro=(
            "These articles were deleted from their original sites (or can no longer be reached there); "
            "this mirror keeps its copy. Newest deletion first."
        ),
        none_deleted="None yet.",
        key="This mirror's signing key: `{fingerprint}` — compare it across mirrors",
    ),
}


def archive_words(language: str = "zh-Hans") -> ArchiveWords:
    """The words for a language tag, resolved as the labels are (its own, its script's, else English)."""
    return _WORDS[language_key(language)]


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

"""The words on the mirror's pages: one table, a row a label, its text in every language the mirror
speaks (``LANGUAGES``, in that order). The templates read it through two typed views, one per language:
``Labels`` (every page's chrome) and ``ArchiveWords`` (what history, deleted and updated pages say).

A site's pages (articles, channel indexes) use the site's ``language``; the home
page, the most-read list and the feed use ``mirror.language``. Chinese tags
without a script are read by region (zh-TW, zh-HK, zh-MO: traditional; other
zh: simplified); any other language gets the English labels.

Labels are inserted into Markdown as they are, so they hold no Markdown syntax, but for
``removed_added`` (which shows the marks it explains) and ``key`` (the fingerprint as code);
``{n}``-style fields are filled in by the templates.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TypeVar

LANGUAGES = ("zh-Hans", "zh-Hant", "en")


@dataclass(frozen=True, slots=True)
class Labels:
    home: str
    hot: str
    source: str  # "来源：" — each label that introduces a value carries its own colon
    author: str
    share: str
    qr_alt: str
    original: str
    in_mirror: str
    mirrors: str
    updated: str
    no_articles_yet: str
    feed: str
    health: str
    health_as_of: str  # "截至最新文章（{when}）。…{days}…": the health page is dated by the newest article
    health_columns: str  # the table's header cells, separated by "|"
    health_ok: str
    health_failing: str  # "… {when}": failing since its last success
    health_never: str
    # What the newest bodies of a source show (see status.BodyWarning): {count} of the last {of}
    # bodies; shrank: the newest {count} have a median of {median} characters, the {of} before {before}.
    health_empty: str
    health_short: str  # … {chars}: the length under which a body is very short
    health_links: str
    health_shrank: str
    offline: str  # the home page's list of offline copies (mirror.bundles)
    views: str  # "{n} 次阅读"
    no_views: str
    more_hot: str
    hot_title: str  # "热点：最近 {days} 天阅读最多"
    hot_empty: str  # "… {days} …"
    page_of: str  # "第 {number} / {pages} 页，共 {total} 篇"
    total: str  # "共 {total} 篇"
    no_articles: str
    newer: str
    older: str
    pages: str
    untitled: str
    empty_body: str
    missing_image: str  # "（图：{alt}）", in place of an image the mirror could not copy


@dataclass(frozen=True, slots=True)
class ArchiveWords:
    """What article, history and deleted pages say, in one language."""

    article_updated: str  # "本文更新于 {when}"
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


# label: (zh-Hans, zh-Hant, en), as in LANGUAGES. Each label is a field of one of the views.
TEXT: dict[str, tuple[str, str, str]] = {
    # Labels: every page's chrome
    "home": ("首页", "首頁", "Home"),
    "hot": ("热点", "熱點", "Most read"),
    "source": ("来源：", "來源：", "Source: "),
    "author": ("作者：", "作者：", "Author: "),
    "share": (
        "手机上长按并复制下列链接或二维码分享本文章：",
        "手機上長按並複製下列連結或二維碼分享本文章：",
        "To share this article, copy the link or the QR code below:",
    ),
    "qr_alt": ("本文二维码", "本文二維碼", "QR code of this article"),
    "original": (
        "原文地址（需翻墙访问）：",
        "原文地址（需翻牆訪問）：",
        "Original address (needs a way around the firewall): ",
    ),
    "in_mirror": ("本文在镜像中的地址：", "本文在鏡像中的位址：", "This article in the mirror: "),
    "mirrors": (
        "本站其他镜像（一个打不开时请换一个）：",
        "本站其他鏡像（一個打不開時請換一個）：",
        "Other copies of this mirror (if one does not open, try another): ",
    ),
    "updated": ("最近更新：", "最近更新：", "Updated: "),
    "no_articles_yet": ("尚无文章。", "尚無文章。", "No articles yet."),
    "feed": ("RSS 订阅", "RSS 訂閱", "RSS feed"),
    "health": ("来源状态", "來源狀態", "Source status"),
    "health_as_of": (
        "截至最新文章（{when}）。「每日」为近 {days} 天平均每天的新文章数。",
        "截至最新文章（{when}）。「每日」為近 {days} 天平均每天的新文章數。",
        "As of the newest article ({when}). Per day: new articles a day over the last {days} days.",
    ),
    "health_columns": ("来源|状态|每日|已存|提示", "來源|狀態|每日|已存|提示", "Source|State|Per day|Stored|Warnings"),
    "health_ok": ("正常", "正常", "current"),
    "health_failing": ("读取失败，上次成功 {when}", "讀取失敗，上次成功 {when}", "failing; last success {when}"),
    "health_never": ("尚未读取成功", "尚未讀取成功", "never read yet"),
    "health_empty": (
        "最近 {of} 篇中 {count} 篇正文为空",
        "最近 {of} 篇中 {count} 篇正文為空",
        "empty bodies: {count} of the last {of}",
    ),
    "health_short": (
        "最近 {of} 篇中 {count} 篇正文过短（不足 {chars} 字）",
        "最近 {of} 篇中 {count} 篇正文過短（不足 {chars} 字）",
        "very short bodies (under {chars} characters): {count} of the last {of}",
    ),
    "health_links": (
        "最近 {of} 篇中 {count} 篇正文大多是链接",
        "最近 {of} 篇中 {count} 篇正文大多是連結",
        "bodies mostly links: {count} of the last {of}",
    ),
    "health_shrank": (
        "正文变短：最近 {count} 篇的长度中位数为 {median} 字，此前 {of} 篇为 {before} 字（网站改版？）",
        "正文變短：最近 {count} 篇的長度中位數為 {median} 字，此前 {of} 篇為 {before} 字（網站改版？）",
        (
            "bodies shrank: the last {count} have a median of {median:,} characters, "
            "the {of} before {before:,} (a site redesign?)"
        ),
    ),
    "offline": (
        "离线阅读（下载后无需联网）",
        "離線閱讀（下載後無需聯網）",
        "Offline copies (no network needed once downloaded)",
    ),
    "views": ("{n} 次阅读", "{n} 次閱讀", "{n} views"),
    "no_views": ("暂无阅读统计。", "暫無閱讀統計。", "No reading figures yet."),
    "more_hot": ("更多热点 →", "更多熱點 →", "More most read →"),
    "hot_title": ("热点：最近 {days} 天阅读最多", "熱點：最近 {days} 天閱讀最多", "Most read in the last {days} days"),
    "hot_empty": (
        "暂无阅读统计。阅读计数开始记录后，这里会列出最近 {days} 天阅读最多的文章。",
        "暫無閱讀統計。閱讀計數開始記錄後，這裡會列出最近 {days} 天閱讀最多的文章。",
        (
            "No reading figures yet. Once views are counted, the most read articles "
            "of the last {days} days are listed here."
        ),
    ),
    "page_of": (
        "第 {number} / {pages} 页，共 {total} 篇",
        "第 {number} / {pages} 頁，共 {total} 篇",
        "Page {number} of {pages}, {total} articles",
    ),
    "total": ("共 {total} 篇", "共 {total} 篇", "{total} articles"),
    "no_articles": ("暂无文章。", "暫無文章。", "No articles yet."),
    "newer": ("← 较新", "← 較新", "← Newer"),
    "older": ("较旧 →", "較舊 →", "Older →"),
    "pages": ("页：", "頁：", "Pages: "),
    "untitled": ("（无标题）", "（無標題）", "(untitled)"),
    "empty_body": ("（正文为空）", "（正文為空）", "(no text)"),
    "missing_image": ("（图：{alt}）", "（圖：{alt}）", "(Image: {alt})"),
    # ArchiveWords: what history, deleted and updated article pages say
    "article_updated": ("本文更新于 {when}", "本文更新於 {when}", "Updated {when}"),
    "history": ("修改记录", "修改記錄", "revision history"),
    "deleted": ("原文已被删除", "原文已被刪除", "The original has been deleted"),
    "deleted_since": (
        "首次发现于 {when}，本站保留存档",
        "首次發現於 {when}，本站保留存檔",
        "first seen gone {when}; this mirror keeps its copy",
    ),
    "history_title": ("修改记录：{title}", "修改記錄：{title}", "Revision history: {title}"),
    "back": ("返回文章", "返回文章", "Back to the article"),
    "first_version": ("{when} 首次存档", "{when} 首次存檔", "First archived {when}"),
    "revision": ("{when} 的修改", "{when} 的修改", "Changes of {when}"),
    "removed_added": (
        "~~删除线~~为删去的文字，**粗体**为新增的文字。",
        "~~刪除線~~為刪去的文字，**粗體**為新增的文字。",
        "~~Struck-through~~ text was removed, **bold** text was added.",
    ),
    "no_change_shown": ("（仅格式变化）", "（僅格式變化）", "(formatting only)"),
    "deleted_title": ("原文已被删除的文章", "原文已被刪除的文章", "Articles deleted at their source"),
    "deleted_intro": (
        "下列文章在原网站上已被删除（或已无法访问），本站保留了存档。按发现删除的时间排列，最新的在前。",
        "下列文章在原網站上已被刪除（或已無法訪問），本站保留了存檔。按發現刪除的時間排列，最新的在前。",
        (
            "These articles were deleted from their original sites (or can no longer be reached there); "
            "this mirror keeps its copy. Newest deletion first."
        ),
    ),
    "none_deleted": ("暂无。", "暫無。", "None yet."),
    "key": (
        "本镜像的签名密钥指纹：`{fingerprint}`，可与其他镜像核对",
        "本鏡像的簽名密鑰指紋：`{fingerprint}`，可與其他鏡像核對",
        "This mirror's signing key: `{fingerprint}` — compare it across mirrors",
    ),
}

View = TypeVar("View", Labels, ArchiveWords)


def _in_each_language(view: type[View]) -> dict[str, View]:
    """The view in each language: its fields' rows of the table, that language's text."""
    names = [field.name for field in fields(view)]
    return {language: view(**{name: TEXT[name][i] for name in names}) for i, language in enumerate(LANGUAGES)}


LABELS: dict[str, Labels] = _in_each_language(Labels)
ARCHIVE_WORDS: dict[str, ArchiveWords] = _in_each_language(ArchiveWords)

_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def language_key(language: str) -> str:
    """Which language of the table a language tag reads: its own, its script's for Chinese, else English."""
    if language in LABELS:
        return language
    parts = language.replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        traditional = "hant" in parts or bool(_TRADITIONAL_REGIONS & set(parts[1:]))
        return "zh-Hant" if traditional else "zh-Hans"
    return "en"


def labels_for(language: str) -> Labels:
    """The labels of a language tag: its own, its script's for Chinese, else English."""
    return LABELS[language_key(language)]

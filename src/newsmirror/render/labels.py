"""The words on the mirror's pages, per language: the one table the templates take their labels from.

A site's pages (articles, channel indexes) use the site's ``language``; the home
page, the most-read list and the feed use ``mirror.language``. Chinese tags
without a script are read by region (zh-TW, zh-HK, zh-MO: traditional; other
zh: simplified); any other language gets the English labels.

Labels are inserted into Markdown as they are, so they hold no Markdown syntax;
``{n}``-style fields are filled in by the templates.
"""

from __future__ import annotations

from dataclasses import dataclass


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


LABELS: dict[str, Labels] = {
    "zh-Hans": Labels(
        home="首页",
        hot="热点",
        source="来源：",
        author="作者：",
        share="手机上长按并复制下列链接或二维码分享本文章：",
        qr_alt="本文二维码",
        original="原文地址（需翻墙访问）：",
        in_mirror="本文在镜像中的地址：",
        mirrors="本站其他镜像（一个打不开时请换一个）：",
        updated="最近更新：",
        no_articles_yet="尚无文章。",
        feed="RSS 订阅",
        health="来源状态",
        health_as_of="截至最新文章（{when}）。「每日」为近 {days} 天平均每天的新文章数。",
        health_columns="来源|状态|每日|已存|提示",
        health_ok="正常",
        health_failing="读取失败，上次成功 {when}",
        health_never="尚未读取成功",
        health_empty="最近 {of} 篇中 {count} 篇正文为空",
        health_short="最近 {of} 篇中 {count} 篇正文过短（不足 {chars} 字）",
        health_links="最近 {of} 篇中 {count} 篇正文大多是链接",
        health_shrank="正文变短：最近 {count} 篇的长度中位数为 {median} 字，此前 {of} 篇为 {before} 字（网站改版？）",
        offline="离线阅读（下载后无需联网）",
        views="{n} 次阅读",
        no_views="暂无阅读统计。",
        more_hot="更多热点 →",
        hot_title="热点：最近 {days} 天阅读最多",
        hot_empty="暂无阅读统计。阅读计数开始记录后，这里会列出最近 {days} 天阅读最多的文章。",
        page_of="第 {number} / {pages} 页，共 {total} 篇",
        total="共 {total} 篇",
        no_articles="暂无文章。",
        newer="← 较新",
        older="较旧 →",
        pages="页：",
        untitled="（无标题）",
        empty_body="（正文为空）",
        missing_image="（图：{alt}）",
    ),
    "zh-Hant": Labels(
        home="首頁",
        hot="熱點",
        source="來源：",
        author="作者：",
        share="手機上長按並複製下列連結或二維碼分享本文章：",
        qr_alt="本文二維碼",
        original="原文地址（需翻牆訪問）：",
        in_mirror="本文在鏡像中的位址：",
        mirrors="本站其他鏡像（一個打不開時請換一個）：",
        updated="最近更新：",
        no_articles_yet="尚無文章。",
        feed="RSS 訂閱",
        health="來源狀態",
        health_as_of="截至最新文章（{when}）。「每日」為近 {days} 天平均每天的新文章數。",
        health_columns="來源|狀態|每日|已存|提示",
        health_ok="正常",
        health_failing="讀取失敗，上次成功 {when}",
        health_never="尚未讀取成功",
        health_empty="最近 {of} 篇中 {count} 篇正文為空",
        health_short="最近 {of} 篇中 {count} 篇正文過短（不足 {chars} 字）",
        health_links="最近 {of} 篇中 {count} 篇正文大多是連結",
        health_shrank="正文變短：最近 {count} 篇的長度中位數為 {median} 字，此前 {of} 篇為 {before} 字（網站改版？）",
        offline="離線閱讀（下載後無需聯網）",
        views="{n} 次閱讀",
        no_views="暫無閱讀統計。",
        more_hot="更多熱點 →",
        hot_title="熱點：最近 {days} 天閱讀最多",
        hot_empty="暫無閱讀統計。閱讀計數開始記錄後，這裡會列出最近 {days} 天閱讀最多的文章。",
        page_of="第 {number} / {pages} 頁，共 {total} 篇",
        total="共 {total} 篇",
        no_articles="暫無文章。",
        newer="← 較新",
        older="較舊 →",
        pages="頁：",
        untitled="（無標題）",
        empty_body="（正文為空）",
        missing_image="（圖：{alt}）",
    ),
    "en": Labels(
        home="Home",
        hot="Most read",
        source="Source: ",
        author="Author: ",
        share="To share this article, copy the link or the QR code below:",
        qr_alt="QR code of this article",
        original="Original address (needs a way around the firewall): ",
        in_mirror="This article in the mirror: ",
        mirrors="Other copies of this mirror (if one does not open, try another): ",
        updated="Updated: ",
        no_articles_yet="No articles yet.",
        feed="RSS feed",
        health="Source status",
        health_as_of="As of the newest article ({when}). Per day: new articles a day over the last {days} days.",
        health_columns="Source|State|Per day|Stored|Warnings",
        health_ok="current",
        health_failing="failing; last success {when}",
        health_never="never read yet",
        health_empty="empty bodies: {count} of the last {of}",
        health_short="very short bodies (under {chars} characters): {count} of the last {of}",
        health_links="bodies mostly links: {count} of the last {of}",
        health_shrank=(
            "bodies shrank: the last {count} have a median of {median:,} characters, "
            "the {of} before {before:,} (a site redesign?)"
        ),
        offline="Offline copies (no network needed once downloaded)",
        views="{n} views",
        no_views="No reading figures yet.",
        more_hot="More most read →",
        hot_title="Most read in the last {days} days",
        hot_empty=(
            "No reading figures yet. Once views are counted, the most read articles "
            "of the last {days} days are listed here."
        ),
        page_of="Page {number} of {pages}, {total} articles",
        total="{total} articles",
        no_articles="No articles yet.",
        newer="← Newer",
        older="Older →",
        pages="Pages: ",
        untitled="(untitled)",
        empty_body="(no text)",
        missing_image="(Image: {alt})",
    ),
}

_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def language_key(language: str) -> str:
    """Which table a language tag reads from: its own, its script's for Chinese, else English."""
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

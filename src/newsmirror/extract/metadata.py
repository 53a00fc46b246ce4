"""Article metadata: title, author, date, lead image and JSON-LD body, from the page's markup.

Evidence in order: JSON-LD, OpenGraph and meta tags, the printed byline;
htmldate is the caller's last resort for the date (see ``dates.htmldate``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement

from newsmirror.extract.dates import TEXT_DATE, datetime_of, page_zone, parse_date

_ARTICLE_TYPES = re.compile(r"Article|BlogPosting|Report|NewsArticle|LiveBlogPosting|Posting", re.I)
# A byline as pages print it: 作者：林远, 记者：王明, By Jane Doe.
_TEXT_AUTHOR = re.compile(r"(?:作者|撰稿|撰文|记者|記者)\s*[：:]\s*([\w·]{2,20})|^\s*By\s+([^\n,|·]{3,60})", re.I)
_AUTHOR_LINKS = etree.XPath('//*[@rel="author"]')
# Elements whose class or id says byline (author, date, source...).
_BYLINE_PLACE = re.compile(r"author|byline|info|meta|source|time|date|pub|writer", re.I)
# A byline longer than this is a block of article text, not a byline.
_BYLINE_LIMIT = 200
_TITLE_SEPARATOR = re.compile(r"\s+[-|–—_·»]\s+|\s*[|｜_]\s*|\s+-\s*|\s*——\s*|\s*--\s*")
# Separators of Chinese titles, which need no spaces: "标题-搜狐财经", "标题--雅虎新闻", "标题—新华网".
_CJK_SEPARATOR = re.compile(
    r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef”）)])\s*(?:-{1,2}|—{1,2}|_)\s*(?=\S)"
    r"|\s*(?:-{1,2}|—{1,2}|_)\s*(?=[\u4e00-\u9fff])"
)
# A single <h1> this much shorter than the title's headline is the site's logo.
_LOGO_SHARE = 0.5
_SPACES = re.compile(r"\s+")


@dataclass
class Metadata:
    """What the page says about its article, beside the body."""

    title: str = ""
    author: str = ""
    published: datetime | None = None
    lead_image: str = ""
    lead_caption: str = ""
    body_text: str = ""  # JSON-LD articleBody, when the page gives one


def page_metadata(root: HtmlElement, url: str) -> Metadata:
    """Everything the page's markup says about its article (the date may stay unknown)."""
    metas = meta_tags(root)
    articles = _articles(_json_ld(root))
    article = articles[0] if articles else {}
    meta = Metadata()
    meta.title = _name_of(article.get("headline")) or _page_title(root, metas)
    meta.title = _SPACES.sub(" ", meta.title).strip()
    meta.author = _name_of(article.get("author")) or metas.get("author", "") or metas.get("article:author", "")
    if meta.author.startswith("http"):
        meta.author = ""
    zone = page_zone(root)
    meta.published = _declared_date(root, article, metas, zone)
    if meta.published is None or not meta.author:
        author, published = _byline(root, zone)
        meta.author = meta.author or author
        meta.published = meta.published or published
    image = _image_of(article.get("image")) or metas.get("og:image", "") or metas.get("twitter:image", "")
    meta.lead_image = urljoin(url, image) if image else ""
    meta.lead_caption = metas.get("og:image:alt", "") or metas.get("twitter:image:alt", "")
    bodies = [body for a in articles if isinstance(body := a.get("articleBody"), str)]
    meta.body_text = max(bodies, key=len) if bodies else ""
    return meta


def canonical_url(root: HtmlElement) -> str:
    """The page's own idea of its address, for pages read from a file."""
    for link in root.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and (link.get("href") or "").startswith("http"):
            return link.get("href").strip()
    url = meta_tags(root).get("og:url", "")
    return url if url.startswith("http") else ""


def meta_tags(root: HtmlElement) -> dict[str, str]:
    """<meta property/name=... content=...>, first one of each name wins."""
    metas: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if key and content and key not in metas:
            metas[key] = content
    return metas


def _json_ld(root: HtmlElement) -> list[dict[str, Any]]:
    """Every schema.org object on the page, @graph entries flattened."""
    objects: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            objects.append(node)
            if "@graph" in node:
                walk(node["@graph"])

    for script in root.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            walk(json.loads(script.text.strip().rstrip(";")))
        except ValueError:
            continue
    return objects


def _articles(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for obj in objects:
        types = obj.get("@type")
        types = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and _ARTICLE_TYPES.search(t) for t in types):
            found.append(obj)
    return found


def _name_of(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return _name_of(value.get("name", ""))
    if isinstance(value, list):
        names = [_name_of(v) for v in value]
        return ", ".join(n for n in names if n)
    return ""


def _image_of(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return _image_of(value.get("url") or value.get("contentUrl") or "")
    if isinstance(value, list) and value:
        return _image_of(value[0])
    return ""


def _declared_date(root: HtmlElement, article: dict[str, Any], metas: dict[str, str], zone: tzinfo) -> datetime | None:
    """The publication date the page's metadata or <time> elements declare."""
    for candidate in (
        _name_of(article.get("datePublished")),
        metas.get("article:published_time", ""),
        metas.get("datepublished", ""),
        metas.get("pubdate", ""),
        metas.get("publishdate", ""),
        metas.get("date", ""),
        _name_of(article.get("dateCreated")),
    ):
        published = parse_date(candidate, zone)
        if published:
            return published
    for time in root.iter("time"):
        published = parse_date(time.get("datetime") or "", zone)
        if published:
            return published
    return None


def _byline(root: HtmlElement, zone: tzinfo) -> tuple[str, datetime | None]:
    """Author and date from the page's printed byline, for pages without metadata."""
    author, published = "", None
    for element in _AUTHOR_LINKS(root):
        author = author or _SPACES.sub(" ", element.text_content()).strip()
    for element in root.iter("div", "p", "span", "section", "address", "td"):
        if published and author:
            break
        if not _BYLINE_PLACE.search((element.get("class") or "") + " " + (element.get("id") or "")):
            continue
        text = element.text_content()
        if len(text) > _BYLINE_LIMIT:
            continue
        if not author:
            match = _TEXT_AUTHOR.search(text)
            if match:
                author = (match.group(1) or match.group(2) or "").strip()
        if published is None:
            match = TEXT_DATE.search(text)
            stamp = datetime_of(match) if match else None
            if stamp is not None:
                published = stamp.replace(tzinfo=zone).astimezone(UTC)
    return author, published


def _page_title(root: HtmlElement, metas: dict[str, str]) -> str:
    """The headline: og:title without the site's name; else the part of
    <title> that is also a heading on the page, or a heading it opens or ends
    with, else the page's one <h1>
    unless it is a logo (far shorter than the title's headline), else the
    title's longest part (site and channel names are the short ones)."""
    headings = {"".join(h.text_content().split()): h.text_content().strip() for h in root.iter("h1", "h2")}
    for key in ("og:title", "twitter:title"):
        if metas.get(key):
            return _headline(_without_site_name(metas[key], metas.get("og:site_name", "")), headings)
    h1s = [h.text_content().strip() for h in root.iter("h1")]
    h1s = [h for h in h1s if h]
    title = root.find(".//title")
    text = title.text_content().strip() if title is not None else ""
    if not text:
        return h1s[0] if h1s else ""
    parts = _title_parts(text)
    for part in sorted(parts, key=len, reverse=True):
        if "".join(part.split()) in headings:
            return part
    # A headline printed on the page that the title opens or ends with, the site's
    # name joined to it by a space only ("土豆不“土” 松花江网", "Night buses The Gazette").
    whole = "".join(text.split())
    edges = [h for k, h in headings.items() if len(k) >= _LOGO_SHARE * len(whole) and _at_an_edge(k, whole)]
    if edges:
        return max(edges, key=len)
    longest = max(parts, key=len) if parts else text
    if len(h1s) == 1 and len(h1s[0]) >= _LOGO_SHARE * len(longest):
        return h1s[0]
    return longest


def _at_an_edge(heading: str, title: str) -> bool:
    return title.startswith(heading) or title.endswith(heading)


def _headline(title: str, headings: dict[str, str]) -> str:
    """A title with a site suffix joined the Chinese way ("…-搜狐财经") loses it."""
    parts = _title_parts(title)
    if len(parts) < 2 or not _CJK_SEPARATOR.search(title):
        return title
    for part in sorted(parts, key=len, reverse=True):
        if "".join(part.split()) in headings:
            return part
    return max(parts, key=len)


def _title_parts(title: str) -> list[str]:
    parts = [p.strip() for p in _CJK_SEPARATOR.split(title)]
    return [q.strip() for p in parts for q in _TITLE_SEPARATOR.split(p) if q.strip()]


def _without_site_name(title: str, site_name: str) -> str:
    """ "Headline | MoreBikes" → "Headline" when the page names its site."""
    parts = [p.strip() for p in _TITLE_SEPARATOR.split(title) if p.strip()]
    name = "".join(site_name.split()).lower()
    if name and len(parts) > 1:
        kept = [p for p in parts if "".join(p.split()).lower() != name]
        if kept and len(kept) < len(parts):
            return " - ".join(kept) if len(kept) > 1 else kept[0]
    return title

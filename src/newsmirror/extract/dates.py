"""Publication dates: ISO, RFC 2822 and printed dates, in the page's own time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from lxml.html import HtmlElement

# A date (and time) as pages print it: 2026-03-09 21:10, 2026/3/9, 2026年3月9日 21:10.
TEXT_DATE = re.compile(
    r"((?:19|20)\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT　]*(\d{1,2})[:：](\d\d)(?:[:：](\d\d))?)?"
)
_ISO_DATE_SPACE_TIME = re.compile(r"\d{4}-\d\d-\d\d\s+\d")
_ZONE_WITHOUT_COLON = re.compile(r"([+-]\d\d)(\d\d)$")
# Naive times printed on a page are in its readers' time zone, which its language tells.
_LANGUAGE_ZONES = {
    "zh": timezone(timedelta(hours=8)),
    "ja": timezone(timedelta(hours=9)),
    "ko": timezone(timedelta(hours=9)),
}
_SCRIPTS = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
)


def parse_date(value: str, zone: tzinfo = UTC) -> datetime | None:
    """An ISO-like date string → aware UTC datetime (naive times are in ``zone``)."""
    value = raw = (value or "").strip()
    if not value:
        return None
    value = re.sub(r"\s+", "T", value, count=1) if _ISO_DATE_SPACE_TIME.match(value) else value
    value = value.replace("Z", "+00:00")
    value = _ZONE_WITHOUT_COLON.sub(r"\1:\2", value)
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        match = TEXT_DATE.search(value)
        parsed = datetime_of(match) if match else _rfc2822(raw)
        if parsed is None:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _rfc2822(value: str) -> datetime | None:
    """Mon, 09 Mar 2026 21:10:00 +0800, as some pages' meta tags carry it."""
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def datetime_of(match: re.Match[str]) -> datetime | None:
    """The naive datetime a TEXT_DATE match prints (None for impossible dates)."""
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def page_zone(root: HtmlElement) -> tzinfo:
    """The time zone of a page's readers, from its declared language or its title's script."""
    lang = (root.get("lang") or "").lower()[:2]
    if not lang:
        for meta in root.iter("meta"):
            if (meta.get("http-equiv") or "").lower() == "content-language":
                lang = (meta.get("content") or "").lower()[:2]
    if not lang:
        # No declared language: the title's script tells.
        title = root.find(".//title")
        text = title.text_content() if title is not None else ""
        lang = next((code for code, script in _SCRIPTS if script.search(text)), "")
    return _LANGUAGE_ZONES.get(lang, UTC)


def htmldate(root: HtmlElement, url: str) -> datetime | None:
    """Last resort for the date: htmldate's heuristics over the page."""
    from htmldate import find_date

    try:
        found = find_date(root, url=url or None, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises assorted errors on odd pages; a missing date is fine
        return None
    return parse_date(found) if found else None

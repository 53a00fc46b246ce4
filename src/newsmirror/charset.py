"""Bytes → text for web pages and feeds.

Order of evidence: a byte-order mark, the HTTP header, the page's own
``<meta charset>`` / XML declaration, then detection. A declared charset is
only believed if the bytes decode cleanly with it: Chinese sites often serve
GBK while claiming UTF-8, and believing the label gives mojibake.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I
)
# Labels that in practice mean a superset: decode with the superset so that
# characters outside the narrow set (common in GB2312-labelled pages) survive.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
}


def _normalise(label: str) -> str | None:
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, _SUPERSETS.get(label.strip().lower(), name))


def header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def declared_charsets(data: bytes, content_type: str | None = None) -> list[str]:
    """Charsets the response claims, most authoritative first."""
    labels = [header_charset(content_type)]
    match = _META_CHARSET.search(data[:4096])
    if match:
        labels.append((match.group(1) or match.group(2)).decode("ascii", "ignore"))
    seen: list[str] = []
    for label in labels:
        name = _normalise(label) if label else None
        if name and name not in seen:
            seen.append(name)
    return seen


def decode(data: bytes, content_type: str | None = None) -> str:
    """Decode a page or feed body to text."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace")
    for name in declared_charsets(data, content_type):
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[:65536]).best()
    name = _normalise(best.encoding) if best else None
    return data.decode(name or "gb18030", errors="replace")

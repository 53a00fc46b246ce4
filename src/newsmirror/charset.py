"""Bytes → text for web pages and feeds: the one decoding policy of HTTP, ``extract`` and the feeds.

Order of evidence: a byte-order mark; then UTF-8 when the bytes are valid
UTF-8 (no other encoding of real text is); then the charsets the response
declares (HTTP header, ``<meta charset>``, XML declaration, and as a last
hint any ``charset=``/``encoding=`` attribute near the top, where odd pages
put theirs); then detection.

Chinese pages get a policy of their own, since old Chinese servers label
their pages wrongly in a few common ways:

- GB2312 and GBK widen to GB18030, Big5 to Big5-HKSCS, and a few bad bytes
  are replaced rather than losing the page to another encoding;
- text labelled ISO-8859-1 or windows-1252 (which "decode cleanly" whatever
  the bytes) and text labelled GB2312 that is really Big5 (or the reverse)
  are read in whichever Chinese encoding yields Chinese text, judged by how
  often the commonest Chinese characters occur in each reading;
- a page that declares a CJK encoding, or whose bytes read as Chinese, is
  never decoded with an unrelated single-byte code page.
"""

from __future__ import annotations

import codecs
import re
import threading

import charset_normalizer

# UTF-32's marks first: UTF-32-LE's begins with UTF-16-LE's.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Without a mark, UTF-16 and UTF-32 show by where the zero bytes of the first
# character ("<" or a space, in a page or feed) fall (XML 1.0, appendix F).
_WIDE_BY_ZEROS: dict[tuple[bool, ...], str] = {
    (False, True, True, True): "utf-32-le",
    (True, True, True, False): "utf-32-be",
    (False, True, False, True): "utf-16-le",
    (True, False, True, False): "utf-16-be",
}
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I
)
# Where odd pages put their charset: any charset=/encoding= attribute near the top.
_ANY_DECLARATION = re.compile(rb"""\b(?:charset|encoding)\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_DECLARATION_SPAN = 4096
_ODD_DECLARATION_SPAN = 16384
# Labels that in practice mean a superset: decode with the superset so that
# characters outside the narrow set (common in GB2312-labelled pages) survive.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin_1": "cp1252",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
}
_CHINESE = ("gb18030", "big5hkscs")
_OTHER_CJK = ("cp932", "euc_jp", "cp949", "iso2022_jp", "iso2022_kr")
# Labels that decode any bytes "cleanly": old Chinese servers send them by default.
_WESTERN = ("cp1252", "latin_1", "iso8859_15")
# The commonest characters of Chinese text, simplified then traditional: in
# real text about a third of the characters are among them; in a reading in
# the wrong encoding, almost none.
_COMMON_HAN = re.compile(
    "["
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家"
    "种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日月"
    "這個們來為國說時會對於著過發後裡種經麼學現當沒動進還樣從實開與業員關機長問題點應區體"
    "]"
)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A reading is Chinese when it has at least this many Han characters, this
# share of them common ones, and few replaced bytes.
_MIN_HAN = 8
_MIN_COMMON_SHARE = 0.12
_MAX_BAD_SHARE = 0.02
# How much text the choice between readings looks at.
_SAMPLE = 65536


def header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def declared_charsets(data: bytes, content_type: str | None = None) -> list[str]:
    """Charsets the response claims (normalised, supersets), most authoritative first."""
    labels = [header_charset(content_type)]
    match = _META_CHARSET.search(data[:_DECLARATION_SPAN])
    if match:
        labels.append((match.group(1) or match.group(2)).decode("ascii", "ignore"))
    labels += [m.group(1).decode("ascii", "ignore") for m in _ANY_DECLARATION.finditer(data[:_ODD_DECLARATION_SPAN])]
    seen: list[str] = []
    for label in labels:
        name = _normalise(label) if label else None
        if name and name not in seen:
            seen.append(name)
    return seen


def decode(data: bytes, content_type: str | None = None) -> str:
    """Decode a page or feed body to text, with what is not text removed (``clean_text``)."""
    return clean_text(_decode(data, content_type))


# ---------------------------------------------------------------- what is not text
#
# The one place where what is not text leaves: every page, feed and saved page is
# decoded here, and the HTML parsing of extraction neutralises the character
# references that would bring the same characters back (``clean_markup``). They are
# not text, and lxml refuses them ("All strings must be XML compatible"): C0 controls
# but tab, line feed and carriage return; DEL and the C1 controls; lone surrogates;
# the non-characters U+FDD0–U+FDEF and U+xFFFE/U+xFFFF of every plane.
_NON_CHARACTERS = "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
_NOT_TEXT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NON_CHARACTERS}]")
_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")


def _not_text(match: re.Match[str]) -> str:
    # A lone surrogate stood for some character: say one is missing. The rest are junk.
    return "\ufffd" if "\ud800" <= match.group() <= "\udfff" else ""


# The same test in two cheap parts (a class of astral characters makes the
# regex search some ten times slower, and pages are searched several times):
# the BMP ones exactly, and any astral character at all as a maybe.
_NOT_TEXT_BMP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


# The text this thread last returned from clean_text, known clean: a page is
# decoded (and cleaned) and then parsed, which cleans it again; the second time
# is free. By identity: the very same string object, not an equal one.
_last = threading.local()


def clean_text(text: str) -> str:
    """``text`` without the characters that are not text (removed; a lone surrogate becomes U+FFFD)."""
    if text is getattr(_last, "clean", None):
        return text
    if _NOT_TEXT_BMP.search(text) is not None or _has_astral(text):
        text = _NOT_TEXT.sub(_not_text, text)
    _last.clean = text
    return text


def _has_astral(text: str) -> bool:
    """Whether ``text`` holds a character past the BMP: each takes two UTF-16 units,
    and encoding is a copy, where searching for them is a slow regex."""
    return not text.isascii() and len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


def _reference(match: re.Match[str]) -> str:
    digits = match[1] or match[2]
    if len(digits) > 8:
        return "\ufffd"  # beyond U+10FFFF
    code = int(digits, 16) if match[1] else int(digits)
    if 0x80 <= code <= 0x9F:
        # As browsers read them (HTML's rule): the windows-1252 character of that byte.
        return bytes([code]).decode("cp1252", errors="ignore")
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return "" if _NOT_TEXT.match(chr(code)) else match[0]


def clean_markup(html: str) -> str:
    """HTML about to be parsed: ``clean_text``, and the numeric character references
    that would parse into what is not text (``&#1;``, ``&#xFFFE;``, ``&#xD800;``) taken
    out the same way. Others are left for the parser."""
    html = clean_text(html)
    if "&#" not in html:
        return html
    return _CHARACTER_REFERENCE.sub(_reference, html)


def _decode(data: bytes, content_type: str | None = None) -> str:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace")
    # Before UTF-8: UTF-16 holding only ASCII is valid UTF-8 too (with a zero byte after each letter).
    wide = _WIDE_BY_ZEROS.get(tuple(byte == 0 for byte in data[:4])) if len(data) >= 4 else None
    if wide:
        return data.decode(wide, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for name in declared_charsets(data, content_type):
        if name in _CHINESE or name in _WESTERN:
            chinese = _chinese_reading(data, prefer=name)
            if chinese is not None:
                return chinese
            if name in _CHINESE:  # declared Chinese but reads as none: the label, bad bytes replaced
                return data.decode(name, errors="replace")
        if name in _OTHER_CJK:
            return data.decode(name, errors="replace")
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    chinese = _chinese_reading(data)
    if chinese is not None:
        return chinese
    best = charset_normalizer.from_bytes(data[:_SAMPLE]).best()
    guessed = _normalise(best.encoding) if best else None
    return data.decode(guessed or "gb18030", errors="replace")


def _normalise(label: str) -> str | None:
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, _SUPERSETS.get(label.strip().lower(), name))


def _chinese_reading(data: bytes, prefer: str | None = None) -> str | None:
    """The text in whichever Chinese encoding reads as Chinese, or None when neither does.

    ``prefer`` (the declared one) wins unless the other reads clearly better.
    """
    sample = data[:_SAMPLE]
    scores: dict[str, float] = {}
    for name in _CHINESE:
        text = sample.decode(name, errors="replace")
        han = len(_HAN.findall(text))
        bad = text.count("\ufffd")
        if han < _MIN_HAN or bad > _MAX_BAD_SHARE * han + 2:
            continue
        share = len(_COMMON_HAN.findall(text)) / han
        if share >= _MIN_COMMON_SHARE:
            scores[name] = share - bad / han
    if not scores:
        return None
    best = max(scores, key=lambda name: scores[name])
    if prefer in scores and scores[prefer] >= scores[best] * 0.8:
        best = prefer
    return data.decode(best, errors="replace")

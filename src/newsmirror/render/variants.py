"""The mirror in the other script (``mirror.variants``, a site's ``script``): every article, index and
home page also in traditional (``zh-hant/…``) or simplified (``zh-hans/…``) Chinese, converted by OpenCC.

Only text is converted. Link and image destinations, bare and bracketed URLs, inline code and code
blocks are set aside before OpenCC sees the text and put back unchanged after, so no address, path or
piece of code ever changes. OpenCC converts phrase by phrase with regional vocabulary: ``s2twp`` gives
Taiwan's words (软件 → 軟體), ``s2hk`` Hong Kong's, ``s2t`` neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import opencc

from newsmirror.config import Config

HANT, HANS = "zh-Hant", "zh-Hans"
# The script each OpenCC conversion writes: a site's `script` puts its copy in that tree.
TARGET = {
    "s2t": HANT,
    "s2tw": HANT,
    "s2twp": HANT,
    "s2hk": HANT,
    "t2tw": HANT,
    "t2hk": HANT,
    "t2s": HANS,
    "tw2s": HANS,
    "tw2sp": HANS,
    "hk2s": HANS,
}
# What a tree's pages are converted with when their site names no conversion of its own.
DEFAULT = {HANT: "s2t", HANS: "t2s"}
# How a page names its twin in the other script: in that script.
LABEL = {HANT: "繁體", HANS: "简体"}

# What is never converted: fenced code blocks, inline code, <autolinks>, link and image destinations
# (with an optional title), bare URLs. The rest of the Markdown is text.
_PROTECTED = re.compile(
    r"(?ms)^(?P<fence>`{3,}|~{3,}).*?^(?P=fence)[ \t]*$"
    r"|(?P<ticks>`+).+?(?P=ticks)"
    r"|<[a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*>"
    r"|\]\((?:<[^>\n]*>|[^)\s]*)(?:\s+\"[^\"\n]*\")?\)"
    r"|\b(?:https?|ftp)://[^\s<>()\[\]]+"
)
# Private-use characters OpenCC leaves alone mark where a set-aside piece goes back.
_HOLE_OPEN, _HOLE_CLOSE = "\ue000", "\ue001"
_HOLE = re.compile(f"{_HOLE_OPEN}(\\d+){_HOLE_CLOSE}")


@cache
def _converter(conversion: str) -> opencc.OpenCC:
    return opencc.OpenCC(conversion)


def convert_text(text: str, conversion: str) -> str:
    """Plain text (a title, a name) in the other script."""
    return _converter(conversion).convert(text) if text else text


def convert_markdown(markdown: str, conversion: str) -> str:
    """Markdown in the other script; URLs, paths and code exactly as they were."""
    kept: list[str] = []

    def hole(match: re.Match[str]) -> str:
        kept.append(match[0])
        return f"{_HOLE_OPEN}{len(kept) - 1}{_HOLE_CLOSE}"

    text = _PROTECTED.sub(hole, markdown.replace(_HOLE_OPEN, "").replace(_HOLE_CLOSE, ""))
    converted = _converter(conversion).convert(text)
    return _HOLE.sub(lambda m: kept[int(m[1])], converted)


@dataclass(frozen=True, slots=True)
class Variant:
    """One copy of the mirror in another script, in its own folder of the tree."""

    lang: str  # the BCP 47 tag its HTML pages carry: zh-Hant or zh-Hans
    default: str  # the OpenCC conversion of its lists and of sites without a `script` for it
    sites: dict[str, str] = field(default_factory=dict)  # site id → the OpenCC conversion of its pages

    @property
    def folder(self) -> str:
        return self.lang.lower()

    @property
    def label(self) -> str:
        return LABEL[self.lang]

    @property
    def back_label(self) -> str:
        """How a page of this copy names the mirror's own page: in the other script."""
        return LABEL[HANS if self.lang == HANT else HANT]

    def conversion(self, site: str | None = None) -> str:
        return self.sites.get(site, self.default) if site else self.default

    def fingerprint(self, site: str | None = None) -> str:
        """What a page of this copy adds to its inputs: the conversion, and OpenCC's version (its dictionaries)."""
        return f"{self.lang} {self.conversion(site)} {getattr(opencc, '__version__', '')}"


def variants(config: Config) -> list[Variant]:
    """The copies a config asks for: each of ``mirror.variants``, and the script each site's ``script`` writes."""
    langs = list(dict.fromkeys([*config.mirror.variants, *(TARGET[s.script] for s in config.sites if s.script)]))
    return [
        Variant(lang, DEFAULT[lang], {s.id: s.script for s in config.sites if s.script and TARGET[s.script] == lang})
        for lang in sorted(langs)
    ]

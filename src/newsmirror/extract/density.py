"""Text-and-punctuation density: the page's most article-like container.

A second opinion beside trafilatura, in the manner of GNE's method for
Chinese news pages: article text is long runs of words with sentence
punctuation and few links, held by few tags; navigation rows, link lists,
ads and tool bars are short, linked and unpunctuated. Every container is
scored by its non-link text per tag, the log of its punctuation and the log
of its text-to-link ratio; the best one is the article's core.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from lxml.html import HtmlElement

# Containers that may hold a whole article.
_CONTAINERS = frozenset({"div", "td", "article", "section", "main", "body", "tbody", "table", "center", "font", "p"})
# A container grows into its parent while what the parent adds is text like
# its own: at most this share of it in links, and at least this share of the
# container's own punctuation rate.
_ADDED_LINK_SHARE = 0.5
_ADDED_PUNCTUATION = 0.5
# Sentence and clause punctuation, Chinese and Western.
_PUNCTUATION = re.compile(r"[，。！？；：、“”「」『』（）《》,.!?;:]")
_SPACE = re.compile(r"\s+")


@dataclass
class Density:
    """Text statistics of one element and everything inside it."""

    text: int = 0  # characters, without whitespace
    link_text: int = 0  # of which inside <a>
    punctuation: int = 0  # outside links
    tags: int = 0
    link_tags: int = 0

    @property
    def plain(self) -> int:
        """Characters of text outside links."""
        return self.text - self.link_text

    def score(self) -> float:
        density = self.plain / max(1, self.tags - self.link_tags)
        return density * math.log10(self.punctuation + 2) * math.log(1 + (self.plain + 1) / (self.link_text + 1))


def measure(root: HtmlElement) -> dict[HtmlElement, Density]:
    """The statistics of every element under ``root`` (one pass, innermost first)."""
    stats: dict[HtmlElement, Density] = {}
    for element in reversed(list(root.iter())):
        if not isinstance(element.tag, str):
            continue
        own = stats.get(element)
        if own is None:
            own = stats[element] = Density()
        chars = _chars(element.text)
        punct = _punct(element.text)
        for child in element:
            chars += _chars(child.tail)
            punct += _punct(child.tail)
        own.text += chars
        own.tags += 1
        if element.tag == "a":
            own.link_text = own.text
            own.link_tags += 1
            own.punctuation = 0
        else:
            own.punctuation += punct
        parent = element.getparent()
        if parent is not None:
            up = stats.get(parent)
            if up is None:
                up = stats[parent] = Density()
            up.text += own.text
            up.link_text += own.link_text
            up.punctuation += own.punctuation
            up.tags += own.tags
            up.link_tags += own.link_tags
    return stats


def article_core(root: HtmlElement) -> tuple[HtmlElement, Density] | None:
    """The container that holds the article: the densest one, grown into its
    parents while they add only more of the same kind of text."""
    stats = measure(root)
    best, best_score = None, 0.0
    for element, density in stats.items():
        if element.tag not in _CONTAINERS or density.plain == 0:
            continue
        score = density.score()
        if score > best_score:
            best, best_score = element, score
    if best is None:
        return None
    core = best
    while (parent := core.getparent()) is not None and _same_kind(stats[core], stats[parent]):
        core = parent
    return core, stats[core]


def _same_kind(inner: Density, outer: Density) -> bool:
    added_plain = outer.plain - inner.plain
    added_links = outer.link_text - inner.link_text
    if added_plain + added_links == 0:
        return True
    if added_links > _ADDED_LINK_SHARE * (added_plain + added_links):
        return False
    rate = inner.punctuation / max(1, inner.plain)
    return (outer.punctuation - inner.punctuation) >= _ADDED_PUNCTUATION * rate * added_plain


def _chars(text: str | None) -> int:
    return len(_SPACE.sub("", text)) if text and not text.isspace() else 0


def _punct(text: str | None) -> int:
    return len(_PUNCTUATION.findall(text)) if text and not text.isspace() else 0

"""Revisions of an article: what counts as a change of its text, and a diff a reader can follow.

A change is a revision only when the article's words change: not when the page
is merely re-flowed (whitespace) or a counter on it ticks ("阅读 1234 次",
"1,204 views"). The diff marks removed text ~~struck through~~ and added text
**in bold**, per character in Chinese, Japanese and Korean text (where words are
not separated) and per word otherwise, on the article's text without Markdown
syntax, so it renders on GitHub and reads as plain text too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from newsmirror.models import sha1_hex

# Blocks that read like a counter or a stamp of the page around the article: short,
# and saying "views", "reads", "comments"... Their numbers are not the article's text.
_COUNTER_WORDS = re.compile(
    r"阅读|閱讀|浏览|瀏覽|点击|點擊|评论|評論|人次|次数|次數|\b(views?|reads?|comments?|shares?|visits?|hits)\b", re.I
)
_COUNTER_MAX_CHARS = 40
_DIGITS = re.compile(r"\d[\d,.\s]*")
_SPACE = re.compile(r"\s+")

# One token of a diff: a CJK character (or CJK punctuation) alone, a word, a run of
# digits, a run of spaces, or one other character.
_CJK = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)
_TOKEN = re.compile(rf"[{_CJK}]|[^\W\d_{_CJK}]+|\d+|\s+|.", re.S)

# Markdown syntax that is not the text: images and links keep their words, block markers go.
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_BLOCK_MARK = re.compile(r"^(\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+)+", re.M)
_INLINE_MARK = re.compile(r"(\*\*|__|~~|`)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<>])")
_MARKDOWN_PUNCT = re.compile(r"([\\`*_\[\]<>#|~])")


def blocks(markdown: str) -> list[str]:
    """The article's paragraphs (and headings, list items...) as plain text."""
    text = _IMAGE.sub(lambda m: f"[{m.group(1) or 'image'}]", markdown)
    text = _LINK.sub(r"\1", text)
    text = _BLOCK_MARK.sub("", text)
    text = _ESCAPE.sub(r"\1", _INLINE_MARK.sub("", text))
    # A line is a block: paragraphs, headings and list items are one line each in the stored Markdown.
    return [_SPACE.sub(" ", line).strip() for line in text.splitlines() if line.strip()]


def _significant(block: str) -> str:
    if len(block) <= _COUNTER_MAX_CHARS and _COUNTER_WORDS.search(block):
        return _DIGITS.sub("#", block)
    return block


def text_fingerprint(title: str, markdown: str) -> str:
    """Equal for two versions of an article exactly when they differ in boilerplate only."""
    parts = [_SPACE.sub(" ", title).strip(), *(_significant(b) for b in blocks(markdown))]
    return sha1_hex("\n".join(parts))


# -- the diff ---------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _escape(text: str) -> str:
    return _MARKDOWN_PUNCT.sub(r"\\\1", text)


def _is_space_or_punct(char: str) -> bool:
    return not char or char.isspace() or not char.isalnum()


def _marked(mark: str, text: str) -> str:
    return f"{mark}{_escape(text)}{mark}" if text else ""


def _inline_diff(old: str, new: str) -> str:
    """One block: unchanged text as is, removed ~~struck~~, added **bold**."""
    a, b = _tokens(old), _tokens(new)
    segments: list[tuple[str, str, str]] = []  # (kept, removed, added): one of them non-empty
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(("".join(a[i1:i2]), "", ""))
        else:
            segments.append(("", "".join(a[i1:i2]), "".join(b[j1:j2])))
    return "".join(_render_segments(segments))


def _render_segments(segments: list[tuple[str, str, str]]) -> Iterator[str]:
    """Render, moving spaces out of the marks and widening a change by a neighbouring character
    where CommonMark would not see the marks as emphasis (a mark between a letter and punctuation)."""
    out: list[list[str]] = [list(s) for s in segments]
    for index, segment in enumerate(out):
        if segment[0]:
            continue
        before = out[index - 1] if index > 0 else None
        after = out[index + 1] if index + 1 < len(out) else None
        # The edges of the change: a mark must touch its text, and text next to a mark
        # that starts or ends with punctuation must be space or punctuation itself.
        for _ in range(4):
            first = [text[:1] for text in segment[1:] if text]
            if before and before[0] and not _is_space_or_punct(before[0][-1]) and any(map(_is_space_or_punct, first)):
                char, before[0] = before[0][-1], before[0][:-1]
                segment[1], segment[2] = char + segment[1], char + segment[2]
                continue
            last = [text[-1:] for text in segment[1:] if text]
            if after and after[0] and not _is_space_or_punct(after[0][0]) and any(map(_is_space_or_punct, last)):
                char, after[0] = after[0][0], after[0][1:]
                segment[1], segment[2] = segment[1] + char, segment[2] + char
                continue
            break
    for kept, removed, added in out:
        if kept:
            yield _escape(kept)
            continue
        for mark, text in (("~~", removed), ("**", added)):
            stripped = text.strip()
            if not stripped:
                yield text
                continue
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
            yield lead + _marked(mark, stripped) + trail


def diff_markdown(old_title: str, old_markdown: str, new_title: str, new_markdown: str) -> list[str]:
    """The changed blocks of an article between two versions, each as one Markdown paragraph
    (the title first when it changed); unchanged blocks are left out."""
    changed: list[str] = []
    if _SPACE.sub(" ", old_title).strip() != _SPACE.sub(" ", new_title).strip():
        changed.append(_inline_diff(old_title.strip(), new_title.strip()))
    a, b = blocks(old_markdown), blocks(new_markdown)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        old, new = a[i1:i2], b[j1:j2]
        # Pair the blocks of a replaced run one to one; what is left over was removed or added whole.
        for index in range(max(len(old), len(new))):
            before = old[index] if index < len(old) else ""
            after = new[index] if index < len(new) else ""
            if _significant(before) != _significant(after):
                changed.append(_inline_diff(before, after))
    return changed

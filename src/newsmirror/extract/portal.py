"""The junk of old portals and Chinese news pages, and their broken lines.

Steps of ``clean.prepare`` for bodies without site rules: everything from a
notice or related list after the article, navigation rows and breadcrumbs,
datelines and credits at the body's edges, and <br> breaks in mid-sentence.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from newsmirror.extract.dom import BLOCK_TAGS, NO_SPACE, drop

# Where the article ends and the page's notices and related lists begin: a
# short block opening with one of these, once most of the text lies before it,
# is cut with everything after it.
_TAIL_MARKERS = re.compile(
    r"^[\s【\[(（·]*(相关报道|相關報導|相关新闻|相關新聞|相关阅读|相關閱讀|相关链接|相關鏈接|相关文章|相關文章|推荐阅读"
    r"|推薦閱讀|热点推荐|熱點推薦|延伸阅读|延伸閱讀)"
)
# ...or the heading of a notice: "反侵权公告：", "振兴东北网版权与免责声明：".
_TAIL_NOTICES = re.compile(r"反侵权公告|反侵權公告|免责声明|免責聲明|版权声明|版權聲明|著作权声明|著作權聲明")
_NOTICE_HEADING_LIMIT = 40
# A related list's heading is at most this long.
_HEADING_LIMIT = 200
_TAIL_SHARE = 0.5
# A navigation row or breadcrumb: four or more short items between separators
# and no sentence punctuation ("首页 | 新闻 | 体育 | 娱乐", "首页 > 财经 > 国际").
_NAV_SEPARATOR = re.compile(r"[\s|｜>»/·•\-—–]+")
_SENTENCE_PUNCTUATION = re.compile(r"[，。！？；,.!?;]")
_NAV_ITEMS = 4
_NAV_ITEM_LENGTH = 6
# Datelines and credits of Chinese pages, dropped where they stand at the start
# or end of the body: 来源：新华网, 编辑：山石, 新京报记者 彭冲 报道, 2005-04-27 14:32更新.
_CREDIT_LINE = re.compile(
    r"^[\s(（【\[]*(来源|來源|来自|編輯|编辑|责任编辑|責任編輯|作者|记者|記者|撰文|摄影|攝影|文/|图/|圖/)\s*[：:/]"
    r"|记者\s*\S{2,4}(\s+\S{2,4})*\s*(报道)?$|^\S{0,10}记者\s"
    r"|^\s*\d{4}[-./年]\d{1,2}[-./月]\d{1,2}日?\s*\d{1,2}[:：]\d{2}"
)
_CREDIT_LIMIT = 80
_EDGE_BLOCKS = 3
_CJK_CHARACTER = re.compile(r"[\u4e00-\u9fff]")
_INNER_BLOCKS = frozenset({"p", "div", "li", "td", "blockquote"})
_OUTER_BLOCKS = frozenset({"ul", "ol", "table", "tr", "dl"})
# A <br> inside a Chinese sentence: the line before ends in a character or a
# mid-sentence mark (not 。！？ or a closing quote), the next opens with a
# character (not an indent, which opens a paragraph).
_LINE_GOES_ON = re.compile(r"[\u4e00-\u9fff，、]$")
_LINE_CONTINUES = re.compile(r"^[\u4e00-\u9fff，、。]")


def join_broken_lines(root: HtmlElement) -> None:
    """Pages that break Chinese text with <br> every few dozen characters: a
    line that does not end its sentence goes on in the next one."""
    for br in list(root.iter("br")):
        previous = br.getprevious()
        before = (previous.tail if previous is not None else br.getparent().text) or ""
        if previous is not None and not before.strip():
            if previous.tag == "br":
                continue  # <br><br>: a paragraph break
            before = previous.text_content()
        after = br.tail or ""
        if not after.strip():
            following = br.getnext()
            if following is None or following.tag == "br":
                continue
            after = following.text_content()
        after = after.lstrip(" \t\r\n")
        if after.startswith("\u3000"):
            continue  # an indented line opens a paragraph
        if _LINE_GOES_ON.search(before.rstrip()) and _LINE_CONTINUES.match(after):
            drop(br)


def _leaf_blocks(root: HtmlElement) -> list[HtmlElement]:
    """The body's innermost blocks with text, in page order."""
    blocks = [e for e in root.iter(*BLOCK_TAGS) if e is not root]
    holds_block: set[HtmlElement] = set()
    for block in blocks:
        if block.tag in _INNER_BLOCKS:
            for ancestor in block.iterancestors():
                if ancestor in holds_block:
                    break
                holds_block.add(ancestor)
    return [e for e in blocks if e.tag not in _OUTER_BLOCKS and e not in holds_block and _text_of(e).strip()]


def cut_tail(root: HtmlElement) -> None:
    """Cut the page's notices and related lists that follow the article:
    from a short block that opens like one, when most of the text lies before it."""
    everything = _text_of(root)
    if not (_TAIL_NOTICES.search(everything) or any(m in everything for m in ("相关", "相關", "推荐", "推薦", "延伸"))):
        return
    total = len(NO_SPACE.sub("", everything))
    before = 0
    for block in _leaf_blocks(root):
        text = _text_of(block).strip()
        size = len(NO_SPACE.sub("", text))
        heading = (len(text) <= _HEADING_LIMIT and _TAIL_MARKERS.match(text)) or (
            len(text) <= _NOTICE_HEADING_LIMIT and _TAIL_NOTICES.search(text)
        )
        if heading and before >= _TAIL_SHARE * total:
            _drop_from(block, root)
            return
        before += size


def _drop_from(block: HtmlElement, root: HtmlElement) -> None:
    """Remove a block and everything after it in the body."""
    element = block
    while element is not None and element is not root:
        for following in list(element.itersiblings()):
            element.getparent().remove(following)
        element.tail = None
        element = element.getparent()
    drop(block)


def drop_navigation_rows(root: HtmlElement) -> None:
    for block in _leaf_blocks(root):
        text = _text_of(block).strip()
        if _SENTENCE_PUNCTUATION.search(text) or not _CJK_CHARACTER.search(text):
            continue
        items = [item for item in _NAV_SEPARATOR.split(text) if item]
        if len(items) >= _NAV_ITEMS and sum(map(len, items)) <= _NAV_ITEM_LENGTH * len(items):
            drop(block)
        elif len(items) == 1 and len(items[0]) == 1:
            drop(block)  # a heading set vertically, one character a row (今 / 推 / 荐)


def drop_edge_credits(root: HtmlElement) -> None:
    """Datelines, sources and credits among the first and last blocks of the body."""
    blocks = _leaf_blocks(root)
    edges = blocks[:_EDGE_BLOCKS] + blocks[max(_EDGE_BLOCKS, len(blocks) - _EDGE_BLOCKS) :]
    for block in edges:
        text = _text_of(block).strip()
        if len(text) <= _CREDIT_LIMIT and _CREDIT_LINE.search(text) and "。" not in text:
            drop(block)


def _text_of(element: HtmlElement) -> str:
    return element.text_content()

"""The junk of old portals and Chinese news pages, and their broken lines.

Steps of ``clean.clean_tree`` for bodies without site rules: everything from a
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
# ...or the site's own copyright notice, which names the site as 本网, 本站, 本报…:
# "凡本网注明“来源：…”的作品，版权均属于…", "擅自转载本报社作品的，…".
_OWN_NOTICE = re.compile(
    r"(本网|本站|本报|本社|本刊|本台)[^。；]{0,40}(版权|著作权|转载|授权|侵权)"
    r"|(版权|著作权|转载|授权|侵权)[^。；]{0,40}(本网|本站|本报|本社|本刊|本台)"
)
_OWN_NOTICE_LIMIT = 300
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
# ...and of English pages: "By Jane Doe, Staff Writer", "Additional reporting by …",
# "SOURCE: News agencies", "Updated at 1:23 p.m.", "5:45 AM PST 11/19/2019 by …", "3 min read".
_CREDIT_LINE_EN = re.compile(
    r"^(?:(?:additional|extra)\s+)?(?:reporting|written|edited|compiled|words|text|photos?|pictures?|images?|video)"
    r"(?:\s+and\s+\w+)?\s+by\s"
    r"|^by\s+[A-Z][^.!?]*$"
    r"|^(?:sources?|credits?|photo|image)\s*:"
    r"|^(?:updated|published|posted|last\s+updated|first\s+published)\b.{0,40}\d"
    r"|^\d{1,2}:\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)"
    r"|^\d+\s*min(?:ute)?s?\s+read$",
    re.I,
)
# Two sentences are text, not a credit line.
_TWO_SENTENCES = re.compile(r"[.!?]\s+\S")
_CREDIT_LIMIT = 80
# A page of several dated posts (a blog's front page), each headed by a line holding
# only its time stamp: the article is the first post, when the body opens with it.
_POST_STAMP = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(:\d{2})?$")
_POSTS = 3
_BEFORE_FIRST_POST = 0.2
_EDGE_BLOCKS = 3
_CJK_CHARACTER = re.compile(r"[\u4e00-\u9fff]")
_INNER_BLOCKS = frozenset({"p", "div", "li", "td", "blockquote"})
_OUTER_BLOCKS = frozenset({"ul", "ol", "table", "tr", "dl"})
# A leaf block and its text.
Block = tuple[HtmlElement, str]
# A <br> inside a Chinese sentence: the line before ends in a character or a
# mid-sentence mark (not 。！？ or a closing quote), the next opens with a
# character (not an indent, which opens a paragraph).
_LINE_GOES_ON = re.compile(r"[\u4e00-\u9fff，、]$")
# Teasers: headlines of other articles, each a link on the page, in a run of
# at least this many blocks (with at most short unfinished lines between them,
# a teaser's summary cut off mid-sentence); a run never takes more than this
# share of the body, which would make the body a listing, not an article.
_TEASER_RUN = 3
_TEASER_SHARE = 0.5
_UNFINISHED_LIMIT = 60
_FINISHED = re.compile(r"[。！？.!?”\"’'」』）)]$")
# What decorates a teaser around its linked headline: bullets, "(图)" or a bracketed date
# after it, a date; compared without them (and without spaces and punctuation).
_TEASER_TRAIL = re.compile(r"[(（\[【][^()（）\[\]【】]{0,24}[)）\]】]\W*$")
_NOT_WORD = re.compile(r"[\W_]+")
_DATE_CHARACTERS = "0123456789年月日"
# A headline is short: a longer text is never compared as one.
_TEASER_LIMIT = 200
_LINE_CONTINUES = re.compile(r"^[\u4e00-\u9fff，、。]")
# The same in Latin script: the line before ends in a word or a comma, the next
# goes on in lower case (a new sentence or a line of an address opens in capitals).
_LATIN_GOES_ON = re.compile(r"[A-Za-z0-9,;\-–]$")
_LATIN_CONTINUES = re.compile(r"^[a-z]")


def join_broken_lines(root: HtmlElement) -> None:
    """Pages that break text with <br> every few dozen characters: a Chinese
    line that does not end its sentence goes on in the next one, and so does a
    Latin one whose next line goes on in lower case."""
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
        elif _LATIN_GOES_ON.search(before.rstrip()) and _LATIN_CONTINUES.match(after):
            br.tail = " " + (br.tail or "").lstrip(" \t\r\n")  # the words stay apart
            drop(br)


def teaser_key(text: str) -> str:
    """A headline's text without spaces, bullets, "(图)" or a date beside it: how a teaser
    and the link it repeats are compared."""
    if len(text) > _TEASER_LIMIT:
        return ""
    return _NOT_WORD.sub("", _TEASER_TRAIL.sub("", text)).rstrip(_DATE_CHARACTERS)


def drop_teasers(body: HtmlElement, page: HtmlElement) -> None:
    """Other articles' headlines (related posts, "most read", portal teaser
    columns) inside or after the article. They stand in runs: blocks whose
    whole text is a link on the page (the extractor kept their text, not
    always their links), three or more in a row."""
    link_keys = {teaser_key(a.text_content()) for a in page.iter("a")}
    link_keys.discard("")
    blocks = _leaf_blocks(body)
    doomed = _teaser_runs(blocks, link_keys)
    total = sum(len(NO_SPACE.sub("", text)) for _block, text in blocks)
    if doomed and sum(len(NO_SPACE.sub("", text)) for _block, text in doomed) <= _TEASER_SHARE * total:
        for block, _text in doomed:
            drop(block)


def _teaser_runs(blocks: list[Block], link_keys: set[str]) -> list[Block]:
    """The runs of linked blocks among ``blocks``, with the short unfinished
    lines inside them (their summaries)."""
    found: list[Block] = []
    data_rows: dict[HtmlElement, bool] = {}
    run: list[Block] = []
    teasers = last = 0

    def close() -> None:
        nonlocal teasers, last
        if teasers >= _TEASER_RUN:
            found.extend(run[:last])  # a run ends with its last teaser
        run.clear()
        teasers = last = 0

    for block, text in blocks:
        key = teaser_key(text)
        if block.tag in ("td", "th") and _in_data_row(block.getparent(), link_keys, data_rows):
            close()  # a linked cell beside cells of plain text (a list of works, results): data, not teasers
        elif key in link_keys:
            run.append((block, text))
            teasers += 1
            last = len(run)
        elif run and key and len(text) <= _UNFINISHED_LIMIT and not _FINISHED.search(text):
            run.append((block, text))
        else:
            close()
    close()
    return found


def _in_data_row(row: HtmlElement | None, link_keys: set[str], known: dict[HtmlElement, bool]) -> bool:
    """Whether a table row mixes linked cells with cells of plain text (known: rows already seen)."""
    if row is None:
        return False
    if row not in known:
        keys = [teaser_key(_text_of(cell)) for cell in row if cell.tag in ("td", "th")]
        known[row] = any(key and key not in link_keys for key in keys)
    return known[row]


def keep_first_post(root: HtmlElement) -> None:
    """A body of three or more dated posts, opening with the first (at most a
    fifth of its text before it): only the first post stays, without the blog's
    furniture before it, its title and stamp (the page shows the title) or the posts after it."""
    leaves = _leaf_blocks(root)
    blocks = [block for block, _text in leaves]
    lines = [" ".join(text.split()) for _block, text in leaves]
    stamps = [(i, line) for i, line in enumerate(lines) if _POST_STAMP.match(line)]
    starts: dict[str, int] = {}
    for i, stamp in stamps:
        starts.setdefault(stamp, i)  # a post's title and stamp may be shown twice
    if len(starts) < _POSTS:
        return
    first, second = sorted(starts.values())[:2]
    sizes = [len(NO_SPACE.sub("", line)) for line in lines]
    if sum(sizes[:first]) > _BEFORE_FIRST_POST * sum(sizes):
        return
    first_stamp = lines[first]
    opening = max(i for i, stamp in stamps if stamp == first_stamp)
    if second - 1 <= opening:
        return
    _drop_from(blocks[second - 1], root)  # the second post's title, and everything after it
    for block in blocks[: opening + 1]:
        if block.getparent() is not None:
            drop(block)


def _leaf_blocks(root: HtmlElement) -> list[Block]:
    """The body's innermost blocks with text, in page order, each with its text (stripped),
    read before any of them is changed: the callers look at every text, and drop some blocks."""
    blocks = [e for e in root.iter(*BLOCK_TAGS) if e is not root]
    holds_block: set[HtmlElement] = set()
    for block in blocks:
        if block.tag in _INNER_BLOCKS:
            for ancestor in block.iterancestors():
                if ancestor in holds_block:
                    break
                holds_block.add(ancestor)
    leaves = ((e, _text_of(e).strip()) for e in blocks if e.tag not in _OUTER_BLOCKS and e not in holds_block)
    return [(e, text) for e, text in leaves if text]


def cut_tail(root: HtmlElement) -> None:
    """Cut the page's notices and related lists that follow the article:
    from a short block that opens like one, when most of the text lies before it."""
    everything = _text_of(root)
    if not (
        _TAIL_NOTICES.search(everything)
        or _OWN_NOTICE.search(everything)
        or any(m in everything for m in ("相关", "相關", "推荐", "推薦", "延伸"))
    ):
        return
    total = len(NO_SPACE.sub("", everything))
    before = 0
    for block, text in _leaf_blocks(root):
        size = len(NO_SPACE.sub("", text))
        heading = (
            (len(text) <= _HEADING_LIMIT and _TAIL_MARKERS.match(text))
            or (len(text) <= _NOTICE_HEADING_LIMIT and _TAIL_NOTICES.search(text))
            or (len(text) <= _OWN_NOTICE_LIMIT and _OWN_NOTICE.search(text))
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
    for block, text in _leaf_blocks(root):
        if _SENTENCE_PUNCTUATION.search(text) or not _CJK_CHARACTER.search(text):
            continue
        items = [item for item in _NAV_SEPARATOR.split(text) if item]
        if len(items) >= _NAV_ITEMS and sum(map(len, items)) <= _NAV_ITEM_LENGTH * len(items):
            drop(block)
        elif len(items) == 1 and len(items[0]) == 1:
            drop(block)  # a heading set vertically, one character a row (今 / 推 / 荐)


def drop_edge_credits(root: HtmlElement) -> None:
    """Datelines, bylines, sources and credits among the first and last blocks of the body."""
    blocks = _leaf_blocks(root)
    edges = blocks[:_EDGE_BLOCKS] + blocks[max(_EDGE_BLOCKS, len(blocks) - _EDGE_BLOCKS) :]
    for block, text in edges:
        if len(text) > _CREDIT_LIMIT:
            continue
        if (_CREDIT_LINE.search(text) and "。" not in text) or (
            _CREDIT_LINE_EN.search(text) and not _TWO_SENTENCES.search(text)
        ):
            drop(block)


def _text_of(element: HtmlElement) -> str:
    return element.text_content()
